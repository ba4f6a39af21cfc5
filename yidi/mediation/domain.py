"""People's mediation (人民调解) on a matter: the mediator pool, matching, the mediation's steps, the agreement
and what follows it (pure: no Django, no clock, no I/O).

Sources: 人民调解法 Arts 17–33; 人民调解工作若干规定 Arts 34–39; 民事诉讼法 Arts 205–206; 人民法院在线调解规则
Arts 13–15 (conflicts of interest, the other party's answer); ../shared/reference/china-rules.md §1.1–1.2, §7.5.

A mediation's own steps are a small fixed state machine (`TRANSITIONS`, `SIDE_ACTIONS`); the matter it belongs
to keeps its own lifecycle (`yidi.cases.domain`), which the mediation's outcome moves on (an agreement, a failure
or a refusal concludes the matter; an application for judicial confirmation moves it to 司法确认中).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from yidi.accounts.domain import Role
from yidi.cases.domain import CaseStatus, RuleViolation

# --- the mediator pool (调解专家库) -------------------------------------------------------------------------


class OrganisationType(StrEnum):
    PEOPLE = "people"
    ADMINISTRATIVE = "administrative"
    PROFESSIONAL = "professional"
    LAWYER = "lawyer"
    INVITED = "invited"


ORGANISATION_TYPE_LABELS = {
    OrganisationType.PEOPLE: "人民调解",
    OrganisationType.ADMINISTRATIVE: "行政调解",
    OrganisationType.PROFESSIONAL: "行业性专业性调解",
    OrganisationType.LAWYER: "律师调解",
    OrganisationType.INVITED: "特邀调解",
}


class MediatorGrade(StrEnum):
    """等级 (中华全国人民调解员协会: 一级–四级; some counties name a 首席 above them)."""

    CHIEF = "chief"
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    FOURTH = "fourth"


MEDIATOR_GRADE_LABELS = {
    MediatorGrade.CHIEF: "首席调解员",
    MediatorGrade.FIRST: "一级调解员",
    MediatorGrade.SECOND: "二级调解员",
    MediatorGrade.THIRD: "三级调解员",
    MediatorGrade.FOURTH: "四级调解员",
}


class Availability(StrEnum):
    AVAILABLE = "available"
    LIMITED = "limited"
    UNAVAILABLE = "unavailable"


AVAILABILITY_LABELS = {
    Availability.AVAILABLE: "可接案",
    Availability.LIMITED: "少量接案",
    Availability.UNAVAILABLE: "暂停接案",
}


class ConflictRelation(StrEnum):
    """Why a mediator may not mediate a matter (回避事由)."""

    RELATIVE = "relative"
    COLLEAGUE = "colleague"
    FORMER_AGENT = "former_agent"
    OTHER_INTEREST = "other_interest"
    PARTY_REQUEST = "party_request"


CONFLICT_RELATION_LABELS = {
    ConflictRelation.RELATIVE: "近亲属",
    ConflictRelation.COLLEAGUE: "同事",
    ConflictRelation.FORMER_AGENT: "曾担任代理人",
    ConflictRelation.OTHER_INTEREST: "其他利害关系",
    ConflictRelation.PARTY_REQUEST: "当事人申请回避",
}


def describe_conflict(relation: ConflictRelation | str, *, person_name: str = "", note: str = "") -> str:
    """A declared conflict as a phrase: "与当事人王志强系近亲属", "当事人申请回避（认为调解员偏袒对方）"."""
    relation = ConflictRelation(relation)
    if relation is ConflictRelation.PARTY_REQUEST:
        text = "当事人申请回避"
    elif relation is ConflictRelation.FORMER_AGENT:
        text = f"曾担任当事人{person_name}的代理人" if person_name else "曾担任本事项当事人的代理人"
    elif person_name:
        text = f"与当事人{person_name}系{CONFLICT_RELATION_LABELS[relation]}"
        if relation is ConflictRelation.OTHER_INTEREST:
            text = f"与当事人{person_name}有其他利害关系"
    else:
        text = f"与本事项有{CONFLICT_RELATION_LABELS[relation]}关系"
    return f"{text}（{note}）" if note else text


# --- matching: who should mediate this matter ------------------------------------------------------------


@dataclass(frozen=True)
class MatterFacts:
    """What the ranking knows about the matter."""

    dispute_type: str  # 人民调解 type code, "" when not classified
    dispute_type_name: str
    region_code: str  # the matter's place (village or township code)
    township_name: str
    village_name: str = ""


@dataclass(frozen=True)
class Candidate:
    """A mediator of the pool as the ranking sees them (plain data, built by `yidi.mediation.queries`)."""

    mediator_id: int
    name: str
    specialties: frozenset[str]  # 人民调解 type codes
    region_code: str  # the area they serve: a county, township or village code
    region_name: str
    availability: Availability
    open_mediations: int
    capacity: int  # open mediations they take at most
    results: int = 0  # mediations they finished with an agreement or a failure
    agreements: int = 0
    rating_count: int = 0
    rating_average: float | None = None
    conflict: str = ""  # a declared conflict with this matter, as a phrase (`describe_conflict`); "" = none
    is_designated: bool = False


@dataclass(frozen=True)
class Proposal:
    """A ranked candidate with the reasons for its place; an excluded one says why it cannot be designated."""

    mediator_id: int
    name: str
    score: int
    reasons: tuple[str, ...]
    excluded_reason: str = ""

    @property
    def is_excluded(self) -> bool:
        return bool(self.excluded_reason)


SPECIALTY_POINTS = 40
SAME_VILLAGE_POINTS = 25
SAME_TOWNSHIP_POINTS = 20
COUNTY_WIDE_POINTS = 8
LOAD_POINTS = 15
SUCCESS_POINTS = 15
RATING_POINTS = 10
LIMITED_PENALTY = 10
MIN_RESULTS_FOR_RATE = 3  # fewer finished mediations say nothing about a success rate


def success_rate(agreements: int, results: int) -> float | None:
    """Share of finished mediations (agreement or failure; refusals are not the mediator's) that reached an
    agreement; None below `MIN_RESULTS_FOR_RATE`."""
    if results < MIN_RESULTS_FOR_RATE:
        return None
    return agreements / results


def propose_mediators(matter: MatterFacts, candidates: Iterable[Candidate]) -> list[Proposal]:
    """Rank the pool for a matter, best first, each with its reasons in Chinese; excluded candidates last.

    Points (out of 113): the matter's dispute type among the specialties 40; serving the same village 25, the
    same township 20, the whole county 8 (another township 0); free capacity up to 15 (in proportion to the
    places left); success rate × 15 (from 3 finished mediations); average party rating up to 10 (1 → 0, 5 → 10);
    minus 10 when taking few matters (少量接案).
    Excluded, with the reason: a declared conflict of interest with the matter or one of its parties, a
    mediator who has stopped taking matters, one already designated on it.
    Ties: fewer open mediations first, then name, then id (stable and deterministic).
    """
    ranked: list[tuple[tuple, Proposal]] = []
    excluded: list[Proposal] = []
    for candidate in candidates:
        reasons: list[str] = []
        score = 0.0
        score += _specialty(matter, candidate, reasons)
        score += _place(matter, candidate, reasons)
        score += _load(candidate, reasons)
        score += _record(candidate, reasons)
        score += _rating(candidate, reasons)
        if candidate.availability is Availability.LIMITED:
            score -= LIMITED_PENALTY
            reasons.append("当前少量接案")
        exclusion = _exclusion(candidate)
        proposal = Proposal(candidate.mediator_id, candidate.name, round(score), tuple(reasons), exclusion)
        if exclusion:
            excluded.append(proposal)
        else:
            ranked.append(((-proposal.score, candidate.open_mediations, candidate.name, candidate.mediator_id),
                           proposal))
    ranked.sort(key=lambda pair: pair[0])
    excluded.sort(key=lambda proposal: (proposal.name, proposal.mediator_id))
    return [proposal for _, proposal in ranked] + excluded


def _specialty(matter: MatterFacts, candidate: Candidate, reasons: list[str]) -> float:
    if not matter.dispute_type:
        reasons.append("事项尚未确定纠纷类型")
        return 0
    if matter.dispute_type in candidate.specialties:
        reasons.append(f"擅长{dispute_kind(matter.dispute_type_name)}")
        return SPECIALTY_POINTS
    reasons.append(f"专长不含{dispute_kind(matter.dispute_type_name)}")
    return 0


def _place(matter: MatterFacts, candidate: Candidate, reasons: list[str]) -> float:
    served, place = candidate.region_code, matter.region_code
    if len(served) >= 12 and served == place[:12]:
        reasons.append(f"同村（{matter.village_name or candidate.region_name}）")
        return SAME_VILLAGE_POINTS
    if len(served) >= 9 and served[:9] == place[:9]:
        reasons.append(f"同在{matter.township_name}")
        return SAME_TOWNSHIP_POINTS
    if len(served) == 6 and place.startswith(served):
        reasons.append(f"服务全市（{candidate.region_name}）")
        return COUNTY_WIDE_POINTS
    reasons.append(f"所在地区：{candidate.region_name}（非本乡镇）")
    return 0


def _load(candidate: Candidate, reasons: list[str]) -> float:
    capacity = max(candidate.capacity, 1)
    if candidate.open_mediations >= capacity:
        reasons.append(f"在办 {candidate.open_mediations} 件，已满（上限 {capacity} 件）")
        return 0
    reasons.append(f"在办 {candidate.open_mediations} 件（上限 {capacity} 件）")
    return LOAD_POINTS * (capacity - candidate.open_mediations) / capacity


def _record(candidate: Candidate, reasons: list[str]) -> float:
    rate = success_rate(candidate.agreements, candidate.results)
    if rate is None:
        reasons.append(f"结案不足 {MIN_RESULTS_FOR_RATE} 件，暂不计成功率")
        return 0
    reasons.append(f"调解成功率 {rate:.0%}（{candidate.results} 件中 {candidate.agreements} 件达成协议）")
    return SUCCESS_POINTS * rate


def _rating(candidate: Candidate, reasons: list[str]) -> float:
    if not candidate.rating_count or candidate.rating_average is None:
        reasons.append("暂无当事人评分")
        return 0
    reasons.append(f"当事人平均评分 {candidate.rating_average:.1f} 分（{candidate.rating_count} 次评价）")
    return RATING_POINTS * (candidate.rating_average - 1) / 4


def _exclusion(candidate: Candidate) -> str:
    if candidate.is_designated:
        return "已是本事项的调解员"
    if candidate.conflict:
        return f"已申报利益冲突：{candidate.conflict}，须回避"
    if candidate.availability is Availability.UNAVAILABLE:
        return "暂停接案"
    return ""


# --- the mediation's steps -----------------------------------------------------------------------------------


class MediationStatus(StrEnum):
    PREPARING = "preparing"
    AWAITING_RESPONSE = "awaiting_response"
    MEDIATING = "mediating"
    SIGNING = "signing"
    AGREED = "agreed"
    FAILED = "failed"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return MEDIATION_STATUS_LABELS[self]


MEDIATION_STATUS_LABELS = {
    MediationStatus.PREPARING: "准备调解",
    MediationStatus.AWAITING_RESPONSE: "待对方答复",
    MediationStatus.MEDIATING: "调解中",
    MediationStatus.SIGNING: "协议待签署",
    MediationStatus.AGREED: "达成协议",
    MediationStatus.FAILED: "调解不成",
    MediationStatus.REFUSED: "当事人拒绝调解",
}
OPEN_MEDIATION_STATUSES = frozenset(
    {MediationStatus.PREPARING, MediationStatus.AWAITING_RESPONSE, MediationStatus.MEDIATING, MediationStatus.SIGNING}
)


class MediationAction(StrEnum):
    """Each value is also the action written on the matter's timeline (`yidi.cases.domain.EVENT_LABELS`)."""

    OPEN = "open_mediation"
    DESIGNATE = "designate_mediators"
    RECUSE = "recuse_mediator"
    DECLARE_CONFLICT = "declare_conflict"
    UPDATE_PARTY = "update_party_details"
    DELIVER_RIGHTS_NOTICE = "deliver_rights_notice"
    NOTIFY_OTHER_PARTY = "notify_other_party"
    RECORD_CONSENT = "record_consent"
    RECORD_REFUSAL = "record_refusal"
    RECORD_SESSION = "record_session"
    SCHEDULE_SESSION = "schedule_session"
    CANCEL_SESSION = "cancel_session"
    ADD_EVIDENCE = "add_attachment"
    DRAFT_AGREEMENT = "draft_agreement"
    RECORD_SIGNATURES = "record_signatures"
    MAKE_AGREEMENT_EFFECTIVE = "make_agreement_effective"
    RECORD_ORAL_AGREEMENT = "record_oral_agreement"
    RECORD_FAILURE = "record_failure"
    REQUEST_JUDICIAL_CONFIRMATION = "request_judicial_confirmation"
    RECORD_COURT_ACCEPTANCE = "record_court_acceptance"
    RECORD_RULING = "record_ruling"
    ADD_OBLIGATION = "add_obligation"
    RECORD_PERFORMANCE = "record_performance"
    URGE_PERFORMANCE = "urge_performance"
    RECORD_RATING = "record_rating"
    GENERATE_DOCUMENT = "generate_document"

    @property
    def label(self) -> str:
        return MEDIATION_ACTION_LABELS[self]


MEDIATION_ACTION_LABELS = {
    MediationAction.OPEN: "建立调解",
    MediationAction.DESIGNATE: "指定调解员",
    MediationAction.RECUSE: "调解员回避",
    MediationAction.DECLARE_CONFLICT: "申报利益冲突",
    MediationAction.UPDATE_PARTY: "补充当事人信息",
    MediationAction.DELIVER_RIGHTS_NOTICE: "告知权利义务",
    MediationAction.NOTIFY_OTHER_PARTY: "通知对方当事人",
    MediationAction.RECORD_CONSENT: "当事人同意调解",
    MediationAction.RECORD_REFUSAL: "当事人拒绝调解",
    MediationAction.RECORD_SESSION: "登记调解笔录",
    MediationAction.SCHEDULE_SESSION: "预约调解",
    MediationAction.CANCEL_SESSION: "取消调解预约",
    MediationAction.ADD_EVIDENCE: "上传证据材料",
    MediationAction.DRAFT_AGREEMENT: "拟定调解协议",
    MediationAction.RECORD_SIGNATURES: "登记协议签署",
    MediationAction.MAKE_AGREEMENT_EFFECTIVE: "协议生效",
    MediationAction.RECORD_ORAL_AGREEMENT: "登记口头协议",
    MediationAction.RECORD_FAILURE: "调解不成",
    MediationAction.REQUEST_JUDICIAL_CONFIRMATION: "申请司法确认",
    MediationAction.RECORD_COURT_ACCEPTANCE: "法院受理",
    MediationAction.RECORD_RULING: "司法确认裁定",
    MediationAction.ADD_OBLIGATION: "登记履行义务",
    MediationAction.RECORD_PERFORMANCE: "登记履行情况",
    MediationAction.URGE_PERFORMANCE: "督促履行",
    MediationAction.RECORD_RATING: "登记当事人评价",
    MediationAction.GENERATE_DOCUMENT: "生成文书",
}

S = MediationStatus
A = MediationAction
_OPEN = OPEN_MEDIATION_STATUSES
_ANY = frozenset(MediationStatus)
_ENDED = _ANY - _OPEN
TRANSITIONS: dict[tuple[MediationStatus | None, MediationAction], MediationStatus] = {
    (None, A.OPEN): S.PREPARING,
    (S.FAILED, A.OPEN): S.PREPARING,  # a matter reopened (重办) may be mediated again
    (S.REFUSED, A.OPEN): S.PREPARING,
    (S.AGREED, A.OPEN): S.PREPARING,
    (S.PREPARING, A.NOTIFY_OTHER_PARTY): S.AWAITING_RESPONSE,
    (S.PREPARING, A.RECORD_CONSENT): S.MEDIATING,  # both parties applied together, or agreed on the spot
    (S.AWAITING_RESPONSE, A.RECORD_CONSENT): S.MEDIATING,
    (S.PREPARING, A.RECORD_REFUSAL): S.REFUSED,
    (S.AWAITING_RESPONSE, A.RECORD_REFUSAL): S.REFUSED,
    (S.MEDIATING, A.RECORD_REFUSAL): S.REFUSED,  # a party may end it at any time (人民调解法 Art 23)
    (S.SIGNING, A.RECORD_REFUSAL): S.REFUSED,
    (S.MEDIATING, A.DRAFT_AGREEMENT): S.SIGNING,
    (S.SIGNING, A.DRAFT_AGREEMENT): S.SIGNING,  # revised: the signatures start again
    (S.SIGNING, A.MAKE_AGREEMENT_EFFECTIVE): S.AGREED,
    (S.MEDIATING, A.RECORD_ORAL_AGREEMENT): S.AGREED,
    (S.MEDIATING, A.RECORD_FAILURE): S.FAILED,
    (S.SIGNING, A.RECORD_FAILURE): S.FAILED,  # a party would not sign
}
# Actions that keep the mediation's status, and the statuses in which they are allowed.
SIDE_ACTIONS: dict[MediationAction, frozenset[MediationStatus]] = {
    A.DESIGNATE: _OPEN,
    A.RECUSE: _OPEN,
    A.DECLARE_CONFLICT: _OPEN,
    A.UPDATE_PARTY: _ANY,
    A.DELIVER_RIGHTS_NOTICE: _OPEN,
    A.RECORD_SESSION: frozenset({S.MEDIATING, S.SIGNING}),
    A.SCHEDULE_SESSION: _OPEN,
    A.CANCEL_SESSION: _ANY,  # an appointment outlives a mediation that ended before it
    A.ADD_EVIDENCE: _ANY,
    A.RECORD_SIGNATURES: frozenset({S.SIGNING}),
    A.REQUEST_JUDICIAL_CONFIRMATION: frozenset({S.AGREED}),
    A.RECORD_COURT_ACCEPTANCE: frozenset({S.AGREED}),
    A.RECORD_RULING: frozenset({S.AGREED}),
    A.ADD_OBLIGATION: frozenset({S.AGREED}),
    A.RECORD_PERFORMANCE: frozenset({S.AGREED}),
    A.URGE_PERFORMANCE: frozenset({S.AGREED}),
    A.RECORD_RATING: _ENDED,
    A.GENERATE_DOCUMENT: _ANY,
}
# The mediation actions that need at least one designated mediator.
NEEDS_MEDIATOR = frozenset(
    {A.NOTIFY_OTHER_PARTY, A.RECORD_CONSENT, A.RECORD_SESSION, A.SCHEDULE_SESSION, A.DRAFT_AGREEMENT, A.MAKE_AGREEMENT_EFFECTIVE,
     A.RECORD_ORAL_AGREEMENT, A.RECORD_FAILURE}
)
# The matter's statuses in which each action may run (the matter must be in hand, or past its agreement).
_AFTER_AGREEMENT = frozenset(
    {CaseStatus.CONCLUDED, CaseStatus.JUDICIAL_CONFIRMATION, CaseStatus.PERFORMANCE_MONITORING,
     CaseStatus.RETURN_VISITED, CaseStatus.EVALUATED}
)
_NOT_FINISHED = frozenset(CaseStatus) - {CaseStatus.CLOSED, CaseStatus.ARCHIVED, CaseStatus.NOT_ACCEPTED}
MATTER_STATUSES: dict[MediationAction, frozenset[CaseStatus]] = {
    **{action: frozenset({CaseStatus.IN_PROGRESS}) for action in MediationAction},
    A.UPDATE_PARTY: _NOT_FINISHED,
    A.ADD_EVIDENCE: _NOT_FINISHED,
    A.CANCEL_SESSION: _NOT_FINISHED,
    A.REQUEST_JUDICIAL_CONFIRMATION: frozenset({CaseStatus.CONCLUDED}),
    A.RECORD_COURT_ACCEPTANCE: frozenset({CaseStatus.JUDICIAL_CONFIRMATION}),
    A.RECORD_RULING: frozenset({CaseStatus.JUDICIAL_CONFIRMATION}),
    A.ADD_OBLIGATION: _AFTER_AGREEMENT,
    A.RECORD_PERFORMANCE: _AFTER_AGREEMENT,
    A.URGE_PERFORMANCE: _AFTER_AGREEMENT,
    A.RECORD_RATING: frozenset(CaseStatus) - {CaseStatus.ARCHIVED},
    A.GENERATE_DOCUMENT: frozenset(CaseStatus) - {CaseStatus.NOT_ACCEPTED},
}
del S, A


class IllegalStep(Exception):
    """The action does not fit the mediation's or the matter's current status (message in Chinese)."""


def next_status(status: MediationStatus | None, action: MediationAction) -> MediationStatus:
    """The mediation's status after `action`: from `TRANSITIONS`, or unchanged for an allowed side action."""
    if status is not None and action in SIDE_ACTIONS and status in SIDE_ACTIONS[action]:
        return status
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        where = MEDIATION_STATUS_LABELS[status] if status else "尚未建立调解"
        raise IllegalStep(f"调解“{where}”时不能“{action.label}”") from None


def check_matter_status(action: MediationAction, status: CaseStatus) -> None:
    if status not in MATTER_STATUSES[action]:
        raise IllegalStep(f"事项“{status.label}”时不能“{action.label}”")


def allowed_actions(status: MediationStatus | None) -> list[MediationAction]:
    """The mediation actions its status allows, in the order the page offers them."""
    return [
        action for action in MediationAction
        if (status, action) in TRANSITIONS or (status is not None and status in SIDE_ACTIONS.get(action, ()))
    ]


# --- appointments (预约调解) ---------------------------------------------------------------------------------

APPOINTMENT_HORIZON = timedelta(days=180)
UPCOMING_GRACE = timedelta(hours=2)  # an appointment stays "upcoming" this long after its start


def appointment_time_problem(starts_at: datetime | None, *, now: datetime) -> str | None:
    """Why a session cannot be booked at `starts_at` (Chinese), or None: not in the past, within six months."""
    if starts_at is None:
        return "请填写调解时间"
    if starts_at <= now:
        return "预约时间不能早于现在"
    if starts_at > now + APPOINTMENT_HORIZON:
        return "预约时间不能晚于六个月之后"
    return None


# --- who may act ---------------------------------------------------------------------------------------------


class ActorKind(StrEnum):
    DESIGNATED_MEDIATOR = "designated_mediator"  # a mediator designated on this mediation (any unit)
    LEAD_UNIT = "lead_unit"  # a handler or mediator of the matter's lead unit
    DISPATCHER = "dispatcher"
    INTAKE = "intake"  # the centre's window, which takes the parties' evaluations


_WORKERS = frozenset({ActorKind.DESIGNATED_MEDIATOR, ActorKind.LEAD_UNIT})
ACTION_ACTORS: dict[MediationAction, frozenset[ActorKind]] = {
    **{action: _WORKERS for action in MediationAction},
    MediationAction.OPEN: frozenset({ActorKind.LEAD_UNIT}),
    MediationAction.DESIGNATE: frozenset({ActorKind.LEAD_UNIT, ActorKind.DISPATCHER}),
    MediationAction.RECUSE: _WORKERS | {ActorKind.DISPATCHER},
    MediationAction.DECLARE_CONFLICT: _WORKERS | {ActorKind.DISPATCHER},
    MediationAction.RECORD_RATING: frozenset({ActorKind.LEAD_UNIT, ActorKind.DISPATCHER, ActorKind.INTAKE}),
    # the court's answers to a judicial-confirmation application: also the centre's command desk, which is how a
    # court's own system records them through the court exchange (`yidi.court`, a dispatcher service account)
    MediationAction.RECORD_COURT_ACCEPTANCE: _WORKERS | {ActorKind.DISPATCHER},
    MediationAction.RECORD_RULING: _WORKERS | {ActorKind.DISPATCHER},
}


def actor_kinds(roles: frozenset[Role], *, in_lead_unit: bool, is_designated: bool) -> frozenset[ActorKind]:
    kinds = set()
    if is_designated and Role.MEDIATOR in roles:
        kinds.add(ActorKind.DESIGNATED_MEDIATOR)
    if in_lead_unit and roles & {Role.HANDLER, Role.MEDIATOR}:
        kinds.add(ActorKind.LEAD_UNIT)
    if Role.DISPATCHER in roles:
        kinds.add(ActorKind.DISPATCHER)
    if Role.REGISTRAR in roles:
        kinds.add(ActorKind.INTAKE)
    return frozenset(kinds)


def denial_reason(action: MediationAction, kinds: frozenset[ActorKind]) -> str | None:
    """Why these actor kinds may not perform `action` (Chinese), or None when allowed.

    - the mediation's work is done by its designated mediators or the matter's lead unit;
    - mediators are designated by the lead unit or a dispatcher, who may also record a recusal or a conflict;
    - the parties' evaluation of a mediator is taken by someone else than that mediator.
    """
    if action is MediationAction.RECORD_RATING and ActorKind.DESIGNATED_MEDIATOR in kinds:
        return "调解员不能登记当事人对本人的评价"
    if kinds & ACTION_ACTORS[action]:
        return None
    if action is MediationAction.OPEN:
        return "只有主办单位可以建立调解"
    if action is MediationAction.DESIGNATE:
        return "只有主办单位或指挥调度员可以指定调解员"
    return "只有本事项指定的调解员或主办单位可以执行此操作"


# --- signatures, the judicial-confirmation window -------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """Someone whose signature (or seal) an agreement needs: `key` is "party:<id>", "mediator:<id>" or "seal"."""

    key: str
    label: str


SEAL_KEY = "seal"


def required_signers(
    parties: Sequence[tuple[int, str]], mediators: Sequence[tuple[int, str]], *, committee: str
) -> list[Signer]:
    """Every party, every designated mediator and the committee's seal (人民调解法 Art 29)."""
    return (
        [Signer(f"party:{party_id}", f"当事人{name}") for party_id, name in parties]
        + [Signer(f"mediator:{mediator_id}", f"调解员{name}") for mediator_id, name in mediators]
        + [Signer(SEAL_KEY, f"{committee}（盖章）")]
    )


def missing_signers(required: Iterable[Signer], signed_keys: Iterable[str]) -> list[Signer]:
    signed = set(signed_keys)
    return [signer for signer in required if signer.key not in signed]


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def window_closed_message(applied_on: date, window_due_on: date) -> str | None:
    """The refusal for a judicial-confirmation application after the 30-day window, or None when in time.

    The window ends with its due day (民事诉讼法 Art 205: within 30 days of the agreement taking effect).
    """
    if applied_on <= window_due_on:
        return None
    return (f"申请司法确认的期限已于{chinese_date(window_due_on)}届满（调解协议生效之日起30日内），"
            f"{chinese_date(applied_on)}的申请不能受理")


# --- performance of the agreement ---------------------------------------------------------------------------


class ObligationState(StrEnum):
    PENDING = "pending"
    PARTLY = "partly"
    PERFORMED = "performed"
    OVERDUE = "overdue"


OBLIGATION_STATE_LABELS = {
    ObligationState.PENDING: "待履行",
    ObligationState.PARTLY: "部分履行",
    ObligationState.PERFORMED: "已履行",
    ObligationState.OVERDUE: "逾期未履行",
}


def obligation_state(*, due_on: date, today: date, performed: bool, records: int) -> ObligationState:
    """Performed once a record says so; overdue after the due day otherwise (even when partly performed)."""
    if performed:
        return ObligationState.PERFORMED
    if today > due_on:
        return ObligationState.OVERDUE
    return ObligationState.PARTLY if records else ObligationState.PENDING


# --- the parties as the documents print them -----------------------------------------------------------------


def birth_date_from_id(id_number: str) -> date | None:
    """The birth date of an 18-digit resident ID number, or None when it has none."""
    if len(id_number) != 18 or not id_number[:17].isdigit():
        return None
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def sex_from_id(id_number: str) -> str:
    """男 or 女 from the 17th digit of an 18-digit ID number (odd: male), "" without one."""
    if birth_date_from_id(id_number) is None:
        return ""
    return "男" if int(id_number[16]) % 2 else "女"


def age_on(birth: date | None, on: date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def place_abbreviation(short_name: str) -> str:
    """The place as a file number shows it: 枫源村 → 枫源, 枫桥镇 → 枫桥, 暨阳街道 → 暨阳."""
    for suffix in ("社区居民委员会", "村民委员会", "街道", "社区", "村", "镇", "乡"):
        if short_name.endswith(suffix) and len(short_name) > len(suffix):
            return short_name[: -len(suffix)]
    return short_name


def file_number(year: int, place: str, sequence: int) -> str:
    """The mediation's number (卷号, also the agreement's number): （2026）枫源人调字第007号."""
    return f"（{year}）{place}人调字第{sequence:03d}号"


def dispute_kind(type_name: str) -> str:
    """A dispute type as a phrase: 邻里 → 邻里纠纷, and 邻里纠纷 stays as it is."""
    return type_name if type_name.endswith("纠纷") else f"{type_name}纠纷"


def dispute_subject(applicant: str, respondent: str, dispute_type_name: str) -> str:
    """调解事由 / 回访事由: "陈建国与王志强邻里纠纷"."""
    kind = dispute_kind(dispute_type_name)
    if applicant and respondent:
        return f"{applicant}与{respondent}{kind}"
    return f"{applicant or respondent}{kind}"


def split_lines(text: str) -> tuple[str, ...]:
    """Numbered items typed one per line (申请事项, 协议内容), without blanks and leading numbers."""
    items = []
    for line in text.splitlines():
        line = _ITEM_NUMBER.sub("", line).strip()
        if line:
            items.append(line)
    return tuple(items)


_ITEM_NUMBER = re.compile(r"^\s*(?:[(（](?:\d+|[一二三四五六七八九十]+)[)）]|(?:\d+|[一二三四五六七八九十]+)[、.．)）])\s*")


# --- hand-offs (诉调、仲调、访调对接) -----------------------------------------------------------------------------


class HandOffKind(StrEnum):
    """Where a matter goes (out) or where it came from (in: a court's referral, 诉前委派 / 委托)."""

    COURT_FILING = "court_filing"  # 调解不成，引导向人民法院起诉（立案）
    LABOUR_ARBITRATION = "labour_arbitration"  # 劳动人事争议仲裁
    ADMINISTRATIVE_REVIEW = "administrative_review"  # 行政复议
    PETITION = "petition"  # 信访程序（处理意见书、复查、复核）
    DISCIPLINE = "discipline"  # 纪检监察
    COURT_REFERRAL_PRE_FILING = "court_referral_pre_filing"  # in: 法院诉前委派调解
    COURT_REFERRAL_ENTRUSTED = "court_referral_entrusted"  # in: 法院委托调解（立案后）

    @property
    def label(self) -> str:
        return HANDOFF_KIND_LABELS[self]


HANDOFF_KIND_LABELS = {
    HandOffKind.COURT_FILING: "移送法院（诉讼）",
    HandOffKind.LABOUR_ARBITRATION: "移送劳动人事争议仲裁",
    HandOffKind.ADMINISTRATIVE_REVIEW: "引导行政复议",
    HandOffKind.PETITION: "转入信访程序",
    HandOffKind.DISCIPLINE: "移送纪检监察",
    HandOffKind.COURT_REFERRAL_PRE_FILING: "法院诉前委派调解",
    HandOffKind.COURT_REFERRAL_ENTRUSTED: "法院委托调解",
}
INCOMING_KINDS = frozenset({HandOffKind.COURT_REFERRAL_PRE_FILING, HandOffKind.COURT_REFERRAL_ENTRUSTED})
OUTGOING_KINDS = frozenset(HandOffKind) - INCOMING_KINDS
# The matter's diversion route (`yidi.cases`) for each outgoing hand-off.
HANDOFF_ROUTES = {
    HandOffKind.COURT_FILING: "litigation",
    HandOffKind.LABOUR_ARBITRATION: "arbitration",
    HandOffKind.ADMINISTRATIVE_REVIEW: "administrative_review",
    HandOffKind.PETITION: "petition",
    HandOffKind.DISCIPLINE: "discipline",
}
# Receivers entitled by law to the parties' full identity data (courts, arbitration and review bodies, 纪检监察);
# the others get masked data in the package.
ENTITLED_KINDS = frozenset(
    {HandOffKind.COURT_FILING, HandOffKind.LABOUR_ARBITRATION, HandOffKind.ADMINISTRATIVE_REVIEW, HandOffKind.DISCIPLINE}
)


class HandOffStatus(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    OUTCOME_RECORDED = "outcome_recorded"


HANDOFF_STATUS_LABELS = {
    HandOffStatus.SENT: "已移送",
    HandOffStatus.RECEIVED: "对方已接收",
    HandOffStatus.OUTCOME_RECORDED: "已反馈结果",
}


class PetitionOpinion(StrEnum):
    """The 信访处理意见书's decision (信访工作条例 Art 32), also the 复查 / 复核 opinions."""

    SUPPORT = "support"
    EXPLAIN = "explain"
    NOT_SUPPORT = "not_support"


PETITION_OPINION_LABELS = {
    PetitionOpinion.SUPPORT: "支持",
    PetitionOpinion.EXPLAIN: "解释说明",
    PetitionOpinion.NOT_SUPPORT: "不予支持",
}


class PetitionStep(StrEnum):
    REVIEW = "review"  # 复查
    RECHECK = "recheck"  # 复核


PETITION_STEP_LABELS = {PetitionStep.REVIEW: "复查", PetitionStep.RECHECK: "复核"}
PETITION_REQUEST_DAYS = 30  # 信访工作条例 Arts 35-36 (calendar days; the clocks' limits are data, this is the rule)
LABOUR_MEDIATION_DAYS = 15  # 劳动争议调解仲裁法 Art 14
FAILED_OUTCOMES = frozenset({"mediation_failed", "refused_by_party"})


def labour_arbitration_possible_on(received_on: date) -> date:
    """The first day a party may go to arbitration when no agreement was reached: the 15 days run from the day
    after the mediation organisation received the application (the start day is not counted)."""
    return received_on + timedelta(days=LABOUR_MEDIATION_DAYS + 1)


def check_hand_off(
    kind: HandOffKind, *, outcome: str, is_labour: bool, received_on: date, today: date,
    final_petition_code: str = "",
) -> None:
    """Whether the matter may go to `kind` now (raises `HandOffRefused` with the reason in Chinese).

    - to court (filing): only after the mediation failed or a party refused it (调解不成后引导诉讼);
    - to labour arbitration: only a labour dispute, after a failure or once 15 days passed without agreement,
      refused earlier with the date it becomes possible;
    - to the 信访 procedure: not when the same person's matter of the same type already went through 复核
      (the same facts are not accepted again, 信访工作条例 Art 36);
    - a matter with an agreement is not handed off (it is performed, or confirmed by a court), nor one whose
      hand-off already came back with its outcome (a new request is a new matter).
    """
    if kind in INCOMING_KINDS:
        raise HandOffRefused("法院委派、委托调解是接收事项，不能移送")
    if outcome in {"written_agreement", "oral_agreement"}:
        raise HandOffRefused("本事项已达成调解协议，不能移送")
    if outcome == "resolved_by_diversion":
        raise HandOffRefused("本事项已移送并收到处理结果，不能再次移送；当事人如有新的诉求，请重新登记")
    failed = outcome in FAILED_OUTCOMES
    if kind is HandOffKind.COURT_FILING and not failed:
        raise HandOffRefused("调解不成或当事人拒绝调解后，方可引导当事人向人民法院起诉")
    if kind is HandOffKind.LABOUR_ARBITRATION:
        if not is_labour:
            raise HandOffRefused("只有劳动争议可以移送劳动人事争议仲裁")
        possible_on = labour_arbitration_possible_on(received_on)
        if not failed and today < possible_on:
            raise HandOffRefused(
                f"劳动争议调解自收到申请之日起15日内未达成协议的，方可申请仲裁：本事项自{chinese_date(possible_on)}起可以移送"
            )
    if kind is HandOffKind.PETITION and final_petition_code:
        raise HandOffRefused(
            f"同一信访人就同一类事项已在{final_petition_code}中经过复核，依《信访工作条例》第36条不再受理"
        )


def petition_request_closed_on(answered_on: date) -> date:
    """The last day to ask for 复查 / 复核: 30 days from receiving the written opinion."""
    return answered_on + timedelta(days=PETITION_REQUEST_DAYS)


def check_petition_request(step: PetitionStep, *, answered_on: date | None, requested_on: date) -> None:
    """复查 is asked within 30 days of the 处理意见书, 复核 within 30 days of the 复查意见 (Arts 35-36)."""
    previous = "处理意见书" if step is PetitionStep.REVIEW else "复查意见"
    if answered_on is None:
        raise HandOffRefused(f"尚未登记{previous}，不能请求{PETITION_STEP_LABELS[step]}")
    if requested_on < answered_on:
        raise HandOffRefused(f"请求{PETITION_STEP_LABELS[step]}的日期不能早于收到{previous}的日期")
    closed_on = petition_request_closed_on(answered_on)
    if requested_on > closed_on:
        raise HandOffRefused(
            f"请求{PETITION_STEP_LABELS[step]}的期限已于{chinese_date(closed_on)}届满（收到{previous}之日起30日内），不予受理"
        )


class HandOffRefused(RuleViolation):
    """A hand-off rule refuses the step (message in Chinese)."""


# --- 以案定补 -------------------------------------------------------------------------------------------------------


def split_subsidy(amount: Decimal, count: int) -> list[Decimal]:
    """The case's subsidy split equally between `count` mediators, to the fen; the lead (first) mediator takes
    the remainder so the shares add up to the amount exactly."""
    if count < 1:
        return []
    share = (amount / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [amount - share * (count - 1)] + [share] * (count - 1)


def month_bounds(month: date) -> tuple[date, date]:
    """The first day of `month` and of the month after."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


# --- 卷宗 archive -------------------------------------------------------------------------------------------------


class Retention(StrEnum):
    PERMANENT = "permanent"
    LONG = "long"
    SHORT = "short"
    YEARS = "years"


RETENTION_LABELS = {
    Retention.PERMANENT: "永久",
    Retention.LONG: "长期",
    Retention.SHORT: "短期",
    Retention.YEARS: "按年限",
}
DEFAULT_RETENTION = Retention.LONG  # when no setting names the matter's type


def retention_label(period: str, years: int | None) -> str:
    if period == Retention.YEARS:
        return f"{years}年"
    return RETENTION_LABELS[Retention(period)]


@dataclass(frozen=True)
class CatalogueItem:
    key: str
    title: str
    requirement: str  # "required", "optional", or "agreement" (required when the mediation reached one)


# The published 卷内目录 (china-rules §5.1), in its order; the cover and the catalogue come first, 封底 last.
CATALOGUE = (
    CatalogueItem("application", "人民调解申请书或人民调解受理登记表", "required"),
    CatalogueItem("rights_notice", "人民调解当事人权利义务告知书", "required"),
    CatalogueItem("identity", "当事人身份证明", "required"),
    CatalogueItem("power_of_attorney", "授权委托书", "optional"),
    CatalogueItem("evidence", "证据材料", "optional"),
    CatalogueItem("session_record", "人民调解记录（笔录）", "required"),
    CatalogueItem("agreement", "人民调解协议书或口头协议登记表", "agreement"),
    CatalogueItem("performance", "履行凭证", "optional"),
    CatalogueItem("return_visit", "回访记录", "optional"),
    CatalogueItem("judicial_confirmation", "司法确认材料", "optional"),
    CatalogueItem("closing_report", "结案报告表", "required"),
)


def is_required(item: CatalogueItem, *, has_agreement: bool) -> bool:
    return item.requirement == "required" or (item.requirement == "agreement" and has_agreement)


def missing_items(present: dict[str, int], *, has_agreement: bool, waivers: dict[str, str]) -> list[CatalogueItem]:
    """The required items of the catalogue that are absent and not waived with a reason."""
    return [
        item for item in CATALOGUE
        if is_required(item, has_agreement=has_agreement) and not present.get(item.key)
        and not (waivers.get(item.key) or "").strip()
    ]
