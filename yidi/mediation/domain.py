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
from datetime import date
from enum import StrEnum

from yidi.accounts.domain import Role
from yidi.cases.domain import CaseStatus

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
    {A.NOTIFY_OTHER_PARTY, A.RECORD_CONSENT, A.RECORD_SESSION, A.DRAFT_AGREEMENT, A.MAKE_AGREEMENT_EFFECTIVE,
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
