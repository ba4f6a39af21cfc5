"""The matter's lifecycle and its rules (pure: no Django, no clock, no I/O).

Statuses are fixed; admins may rename labels, but code depends only on these values.
Every allowed change is one row of `TRANSITIONS`; anything else raises `IllegalTransition`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from yidi.accounts.domain import Role


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    NOT_ACCEPTED = "not_accepted"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    DIVERTED = "diverted"
    CONCLUDED = "concluded"
    JUDICIAL_CONFIRMATION = "judicial_confirmation"
    PERFORMANCE_MONITORING = "performance_monitoring"
    RETURN_VISITED = "return_visited"
    EVALUATED = "evaluated"
    CLOSED = "closed"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    CaseStatus.REGISTERED: "已登记",
    CaseStatus.NOT_ACCEPTED: "不予受理",
    CaseStatus.ACCEPTED: "待交办",
    CaseStatus.ASSIGNED: "待签收",
    CaseStatus.RETURNED: "已回退",
    CaseStatus.SIGNED: "已签收",
    CaseStatus.IN_PROGRESS: "办理中",
    CaseStatus.DIVERTED: "已分流",
    CaseStatus.CONCLUDED: "已出结果",
    CaseStatus.JUDICIAL_CONFIRMATION: "司法确认中",
    CaseStatus.PERFORMANCE_MONITORING: "履行监督中",
    CaseStatus.RETURN_VISITED: "已回访",
    CaseStatus.EVALUATED: "已评价",
    CaseStatus.CLOSED: "已办结",
    CaseStatus.ARCHIVED: "已归档",
}

OPEN_STATUSES = frozenset(CaseStatus) - {CaseStatus.NOT_ACCEPTED, CaseStatus.CLOSED, CaseStatus.ARCHIVED}


class CaseAction(StrEnum):
    REGISTER = "register"
    ACCEPT = "accept"
    DECLINE = "decline"
    ASSIGN = "assign"
    SIGN = "sign"
    RETURN = "return"
    START_HANDLING = "start_handling"
    DIVERT = "divert"
    CONCLUDE = "conclude"
    REQUEST_JUDICIAL_CONFIRMATION = "request_judicial_confirmation"
    MONITOR_PERFORMANCE = "monitor_performance"
    RECORD_RETURN_VISIT = "record_return_visit"
    EVALUATE = "evaluate"
    CLOSE = "close"
    REOPEN = "reopen"
    ARCHIVE = "archive"
    ESCALATE = "escalate"
    RESOLVE_ON_SPOT = "resolve_on_spot"
    # Side actions: recorded on the timeline, the status stays.
    REQUEST_TRANSFER = "request_transfer"
    ACCEPT_TRANSFER = "accept_transfer"
    REFUSE_TRANSFER = "refuse_transfer"
    RECORD_CONSULTATION = "record_consultation"
    RECORD_LEADER_INSTRUCTION = "record_leader_instruction"
    MARK_URGENT = "mark_urgent"
    URGE = "urge"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    PAUSE_DEADLINE = "pause_deadline"
    RESUME_DEADLINE = "resume_deadline"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    CaseAction.REGISTER: "登记赋码",
    CaseAction.ACCEPT: "受理",
    CaseAction.DECLINE: "不予受理",
    CaseAction.ASSIGN: "交办",
    CaseAction.SIGN: "签收",
    CaseAction.RETURN: "回退",
    CaseAction.START_HANDLING: "开始办理",
    CaseAction.DIVERT: "分流",
    CaseAction.CONCLUDE: "登记办理结果",
    CaseAction.REQUEST_JUDICIAL_CONFIRMATION: "申请司法确认",
    CaseAction.MONITOR_PERFORMANCE: "转入履行监督",
    CaseAction.RECORD_RETURN_VISIT: "登记回访",
    CaseAction.EVALUATE: "登记评价",
    CaseAction.CLOSE: "办结",
    CaseAction.REOPEN: "重办",
    CaseAction.ARCHIVE: "归档",
    CaseAction.ESCALATE: "上报提级",
    CaseAction.RESOLVE_ON_SPOT: "当场化解",
    CaseAction.REQUEST_TRANSFER: "申请转办",
    CaseAction.ACCEPT_TRANSFER: "接收转办",
    CaseAction.REFUSE_TRANSFER: "拒收转办",
    CaseAction.RECORD_CONSULTATION: "会商研判",
    CaseAction.RECORD_LEADER_INSTRUCTION: "领导批示",
    CaseAction.MARK_URGENT: "加急",
    CaseAction.URGE: "督办",
    CaseAction.REQUEST_EXTENSION: "申请延期",
    CaseAction.DECIDE_EXTENSION: "审批延期",
    CaseAction.PAUSE_DEADLINE: "暂停计时",
    CaseAction.RESUME_DEADLINE: "恢复计时",
}

# Timeline entries that are not status changes.
EVENT_LABELS = {
    **ACTION_LABELS,
    "add_contact": "补充反映记录",
    "record_visit": "登记来访",
    "add_attachment": "上传附件",
    "update_facts": "修改事项信息",
    "set_labels": "确认分类分级",
    "override_route": "调整分派",
    "deadline_warning": "期限预警",
    "offer_diversion": "告知其他法定途径",
    # Mediation (`yidi.mediation`): written by its actions on the matter's timeline.
    "open_mediation": "建立调解",
    "designate_mediators": "指定调解员",
    "recuse_mediator": "调解员回避",
    "declare_conflict": "申报利益冲突",
    "update_party_details": "补充当事人信息",
    "deliver_rights_notice": "告知权利义务",
    "notify_other_party": "通知对方当事人",
    "record_consent": "当事人同意调解",
    "record_refusal": "当事人拒绝调解",
    "record_session": "登记调解笔录",
    "draft_agreement": "拟定调解协议",
    "record_signatures": "登记协议签署",
    "make_agreement_effective": "调解协议生效",
    "record_oral_agreement": "登记口头协议",
    "record_failure": "调解不成",
    "record_court_acceptance": "法院受理司法确认",
    "record_ruling": "司法确认裁定",
    "add_obligation": "登记履行义务",
    "record_performance": "登记履行情况",
    "urge_performance": "督促履行",
    "record_rating": "当事人评价调解员",
    "generate_document": "生成调解文书",
    "record_court_referral": "登记法院委派/委托调解",
    "record_handoff_receipt": "登记对接接收",
    "record_handoff_outcome": "登记对接结果",
    "record_petition_request": "登记复查/复核请求",
    "record_petition_answer": "登记复查/复核意见",
    "download_handoff_package": "下载移送材料",
    "archive_file": "卷宗归档",
    "schedule_session": "预约调解",
    "cancel_session": "取消调解预约",
    # The citizen side (`yidi.portal`, `yidi.notify`, `yidi.evaluation`, `yidi.grid`).
    "notify_sent": "发送通知",
    "notify_failed": "通知发送失败",
    "schedule_return_visit": "安排回访",
    "cancel_return_visit": "取消回访",
    "return_visit_risk": "回访发现风险",
    "record_on_spot_attempt": "现场调解未化解",
    "grid_follow_up": "网格员跟进",
    # Special campaigns (`yidi.campaigns`): a person links or unlinks a matter by hand.
    "link_campaign": "纳入专项治理",
    "unlink_campaign": "移出专项治理",
}

S = CaseStatus
A = CaseAction
TRANSITIONS: dict[tuple[CaseStatus | None, CaseAction], CaseStatus] = {
    (None, A.REGISTER): S.REGISTERED,
    (S.REGISTERED, A.ACCEPT): S.ACCEPTED,
    (S.REGISTERED, A.DECLINE): S.NOT_ACCEPTED,
    (S.ACCEPTED, A.ASSIGN): S.ASSIGNED,
    (S.RETURNED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.SIGN): S.SIGNED,
    (S.ASSIGNED, A.RETURN): S.RETURNED,
    (S.SIGNED, A.RETURN): S.RETURNED,
    (S.SIGNED, A.START_HANDLING): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.DIVERT): S.DIVERTED,
    (S.IN_PROGRESS, A.CONCLUDE): S.CONCLUDED,
    (S.DIVERTED, A.CONCLUDE): S.CONCLUDED,
    (S.CONCLUDED, A.DIVERT): S.DIVERTED,
    (S.CONCLUDED, A.REQUEST_JUDICIAL_CONFIRMATION): S.JUDICIAL_CONFIRMATION,
    (S.CONCLUDED, A.MONITOR_PERFORMANCE): S.PERFORMANCE_MONITORING,
    (S.JUDICIAL_CONFIRMATION, A.MONITOR_PERFORMANCE): S.PERFORMANCE_MONITORING,
    (S.CONCLUDED, A.RECORD_RETURN_VISIT): S.RETURN_VISITED,
    (S.PERFORMANCE_MONITORING, A.RECORD_RETURN_VISIT): S.RETURN_VISITED,
    (S.CONCLUDED, A.EVALUATE): S.EVALUATED,
    (S.RETURN_VISITED, A.EVALUATE): S.EVALUATED,
    (S.CONCLUDED, A.CLOSE): S.CLOSED,
    (S.RETURN_VISITED, A.CLOSE): S.CLOSED,
    (S.EVALUATED, A.CLOSE): S.CLOSED,
    (S.EVALUATED, A.REOPEN): S.IN_PROGRESS,
    (S.CLOSED, A.REOPEN): S.IN_PROGRESS,
    (S.CLOSED, A.ARCHIVE): S.ARCHIVED,
    (S.NOT_ACCEPTED, A.ARCHIVE): S.ARCHIVED,
    # 上报/提级: back to the command desk for assignment at a higher level.
    (S.ASSIGNED, A.ESCALATE): S.ACCEPTED,
    (S.SIGNED, A.ESCALATE): S.ACCEPTED,
    (S.IN_PROGRESS, A.ESCALATE): S.ACCEPTED,
    # 当场化解 (即接即办, 小事不出村): a small matter settled where it was reported, by who reported it.
    (S.REGISTERED, A.RESOLVE_ON_SPOT): S.CONCLUDED,
}
# The lifecycle events that start and stop deadline clocks (see `yidi.cases.deadlines`).
CLOCK_EVENTS: dict[CaseAction, str] = {
    A.ACCEPT: "accepted",
    A.DECLINE: "declined",
    A.ASSIGN: "assigned",
    A.SIGN: "signed",
    A.RETURN: "returned",
    A.START_HANDLING: "handling_started",
    A.DIVERT: "diverted",
    A.CONCLUDE: "concluded",
    A.MONITOR_PERFORMANCE: "performance_monitored",
    A.CLOSE: "closed",
    A.REOPEN: "reopened",
    A.ARCHIVE: "archived",
    A.ESCALATE: "escalated",
    A.RESOLVE_ON_SPOT: "resolved_on_spot",
}
_HANDLED = frozenset({S.SIGNED, S.IN_PROGRESS})
_WITH_LEAD = frozenset({S.ASSIGNED, S.SIGNED, S.IN_PROGRESS, S.DIVERTED, S.CONCLUDED})
_OPEN = frozenset(S) - {S.NOT_ACCEPTED, S.CLOSED, S.ARCHIVED}
# Side actions and the statuses in which they are allowed; the status does not change.
SIDE_ACTIONS: dict[CaseAction, frozenset[CaseStatus]] = {
    A.REQUEST_TRANSFER: _HANDLED,
    A.ACCEPT_TRANSFER: _HANDLED,
    A.REFUSE_TRANSFER: _HANDLED,
    A.RECORD_CONSULTATION: _OPEN,
    A.RECORD_LEADER_INSTRUCTION: _OPEN,
    A.MARK_URGENT: _OPEN,
    A.URGE: _WITH_LEAD,
    A.REQUEST_EXTENSION: _HANDLED,
    A.DECIDE_EXTENSION: _HANDLED,
    A.PAUSE_DEADLINE: _HANDLED,
    A.RESUME_DEADLINE: _HANDLED,
    # After closing, the person may still evaluate (by the link sent at closing) and be visited (回访);
    # an evaluation of 不满意 then reopens the matter (`yidi.evaluation`).
    A.EVALUATE: frozenset({S.CLOSED}),
    A.RECORD_RETURN_VISIT: frozenset({S.RETURN_VISITED, S.EVALUATED, S.CLOSED}),
}
del S, A


class IllegalTransition(Exception):
    def __init__(self, status: CaseStatus | None, action: CaseAction):
        self.status = status
        self.action = action
        where = STATUS_LABELS[status] if status else "未登记"
        super().__init__(f"当前状态“{where}”下不能执行“{ACTION_LABELS[action]}”")


class RuleViolation(Exception):
    """An action is allowed in this status, but a business rule forbids it here (message in Chinese)."""


def next_status(status: CaseStatus | None, action: CaseAction) -> CaseStatus:
    """The status after `action`: from the transition table, or unchanged for an allowed side action."""
    if action in SIDE_ACTIONS and status in SIDE_ACTIONS[action]:
        return status
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(status, action) from None


def allowed_actions(status: CaseStatus) -> list[CaseAction]:
    return [action for (source, action) in TRANSITIONS if source == status] + [
        action for action, statuses in SIDE_ACTIONS.items() if status in statuses
    ]


# Who may perform each action (further limited to matters in scope by `accounts.access`).
# Unit-bound actions (sign, return, start handling, conclude …) also require the acting unit to be the
# matter's assigned lead unit; see `UNIT_BOUND_ACTIONS`.
ACTION_ROLES: dict[CaseAction, frozenset[Role]] = {
    # The citizen role registers only through the portal's service account (`yidi.portal`).
    CaseAction.REGISTER: frozenset({Role.REGISTRAR, Role.DISPATCHER, Role.GRID_WORKER, Role.CITIZEN}),
    CaseAction.ACCEPT: frozenset({Role.REGISTRAR, Role.DISPATCHER}),
    CaseAction.DECLINE: frozenset({Role.REGISTRAR, Role.DISPATCHER}),
    CaseAction.ASSIGN: frozenset({Role.DISPATCHER}),
    CaseAction.SIGN: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.RETURN: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.START_HANDLING: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.DIVERT: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.CONCLUDE: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.REQUEST_JUDICIAL_CONFIRMATION: frozenset({Role.MEDIATOR, Role.HANDLER}),
    CaseAction.MONITOR_PERFORMANCE: frozenset({Role.MEDIATOR, Role.HANDLER}),
    CaseAction.RECORD_RETURN_VISIT: frozenset({Role.HANDLER, Role.MEDIATOR, Role.REGISTRAR, Role.GRID_WORKER}),
    CaseAction.EVALUATE: frozenset({Role.REGISTRAR, Role.DISPATCHER, Role.HANDLER}),
    CaseAction.CLOSE: frozenset({Role.DISPATCHER}),
    CaseAction.REOPEN: frozenset({Role.DISPATCHER, Role.SUPERVISOR}),
    CaseAction.ARCHIVE: frozenset({Role.DISPATCHER, Role.REGISTRAR}),
    CaseAction.ESCALATE: frozenset({Role.HANDLER, Role.MEDIATOR, Role.DISPATCHER}),
    CaseAction.RESOLVE_ON_SPOT: frozenset({Role.GRID_WORKER, Role.REGISTRAR}),
    CaseAction.REQUEST_TRANSFER: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.ACCEPT_TRANSFER: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.REFUSE_TRANSFER: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.RECORD_CONSULTATION: frozenset({Role.DISPATCHER, Role.LEADER}),
    CaseAction.RECORD_LEADER_INSTRUCTION: frozenset({Role.LEADER}),
    CaseAction.MARK_URGENT: frozenset({Role.DISPATCHER, Role.LEADER}),
    CaseAction.URGE: frozenset({Role.SUPERVISOR, Role.LEADER}),
    CaseAction.REQUEST_EXTENSION: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.DECIDE_EXTENSION: frozenset({Role.DISPATCHER, Role.LEADER}),
    CaseAction.PAUSE_DEADLINE: frozenset({Role.HANDLER, Role.MEDIATOR}),
    CaseAction.RESUME_DEADLINE: frozenset({Role.HANDLER, Role.MEDIATOR}),
}
# Who may open the staff registration pages: the citizen role registers only through the portal's own path.
STAFF_REGISTER_ROLES = ACTION_ROLES[CaseAction.REGISTER] - {Role.CITIZEN}
UNIT_BOUND_ACTIONS = frozenset(
    {
        CaseAction.SIGN,
        CaseAction.RETURN,
        CaseAction.START_HANDLING,
        CaseAction.DIVERT,
        CaseAction.CONCLUDE,
        CaseAction.REQUEST_JUDICIAL_CONFIRMATION,
        CaseAction.MONITOR_PERFORMANCE,
        CaseAction.ESCALATE,
        CaseAction.REQUEST_TRANSFER,
        CaseAction.REQUEST_EXTENSION,
        CaseAction.PAUSE_DEADLINE,
        CaseAction.RESUME_DEADLINE,
    }
)
# Roles bound to the lead unit for unit-bound actions; the others (a dispatcher escalating) act on any matter
# in their scope.
UNIT_BOUND_ROLES = frozenset({Role.HANDLER, Role.MEDIATOR})
# Who may add contacts, visits and attachments to a matter in scope (no status change).
ADDITION_ROLES = frozenset({Role.REGISTRAR, Role.DISPATCHER, Role.HANDLER, Role.MEDIATOR, Role.GRID_WORKER})
# Actions that must carry a written reason.
REASON_REQUIRED = frozenset(
    {
        CaseAction.DECLINE,
        CaseAction.RETURN,
        CaseAction.DIVERT,
        CaseAction.REOPEN,
        CaseAction.ESCALATE,
        CaseAction.REQUEST_TRANSFER,
        CaseAction.REFUSE_TRANSFER,
        CaseAction.RECORD_LEADER_INSTRUCTION,
        CaseAction.URGE,
        CaseAction.REQUEST_EXTENSION,
        CaseAction.PAUSE_DEADLINE,
    }
)


def higher_level(level: str) -> str:
    """The next handling level up (小事不出村、大事不出镇、矛盾不上交 — until it must)."""
    return {"village": "township", "township": "county", "": "township"}.get(level, "county")


def can_perform(roles: frozenset[Role], action: CaseAction) -> bool:
    return bool(roles & ACTION_ROLES[action])


class RequestType(StrEnum):
    CONSULTATION = "consultation"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"
    MEDIATION = "mediation"


REQUEST_TYPE_LABELS = {
    RequestType.CONSULTATION: "咨询",
    RequestType.HELP: "求助",
    RequestType.COMPLAINT: "投诉",
    RequestType.REPORT: "举报",
    RequestType.SUGGESTION: "意见建议",
    RequestType.MEDIATION: "纠纷调解",
}


class Grade(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


GRADE_LABELS = {Grade.RED: "红", Grade.ORANGE: "橙", Grade.YELLOW: "黄", Grade.BLUE: "蓝"}


class Complexity(StrEnum):
    SIMPLE = "simple"
    COMPLEX = "complex"
    DIFFICULT = "difficult"


COMPLEXITY_LABELS = {Complexity.SIMPLE: "简单", Complexity.COMPLEX: "复杂", Complexity.DIFFICULT: "疑难"}


class HandlingMode(StrEnum):
    MEDIATION = "mediation"
    ADMINISTRATIVE = "administrative"
    PETITION = "petition"


HANDLING_MODE_LABELS = {
    HandlingMode.MEDIATION: "调解",
    HandlingMode.ADMINISTRATIVE: "行政处理",
    HandlingMode.PETITION: "信访办理",
}


class DiversionRoute(StrEnum):
    LITIGATION = "litigation"
    ARBITRATION = "arbitration"
    ADMINISTRATIVE_REVIEW = "administrative_review"
    DISCIPLINE = "discipline"
    PETITION = "petition"


DIVERSION_ROUTE_LABELS = {
    DiversionRoute.LITIGATION: "诉讼",
    DiversionRoute.ARBITRATION: "仲裁",
    DiversionRoute.ADMINISTRATIVE_REVIEW: "行政复议",
    DiversionRoute.DISCIPLINE: "纪检监察",
    DiversionRoute.PETITION: "信访程序",
}


class Outcome(StrEnum):
    WRITTEN_AGREEMENT = "written_agreement"
    ORAL_AGREEMENT = "oral_agreement"
    MEDIATION_FAILED = "mediation_failed"
    REFUSED_BY_PARTY = "refused_by_party"
    OPINION_SUPPORT = "opinion_support"
    OPINION_EXPLAIN = "opinion_explain"
    OPINION_NOT_SUPPORT = "opinion_not_support"
    RESOLVED_BY_DIVERSION = "resolved_by_diversion"


OUTCOME_LABELS = {
    Outcome.WRITTEN_AGREEMENT: "达成书面协议",
    Outcome.ORAL_AGREEMENT: "达成口头协议",
    Outcome.MEDIATION_FAILED: "调解不成",
    Outcome.REFUSED_BY_PARTY: "当事人拒绝调解",
    Outcome.OPINION_SUPPORT: "处理意见：支持",
    Outcome.OPINION_EXPLAIN: "处理意见：解释说明",
    Outcome.OPINION_NOT_SUPPORT: "处理意见：不予支持",
    Outcome.RESOLVED_BY_DIVERSION: "分流后办结",
}
AGREEMENT_OUTCOMES = frozenset({Outcome.WRITTEN_AGREEMENT, Outcome.ORAL_AGREEMENT})
# Outcomes that count as resolved (化解) for the KPIs.
RESOLVED_OUTCOMES = AGREEMENT_OUTCOMES | {
    Outcome.OPINION_SUPPORT,
    Outcome.OPINION_EXPLAIN,
    Outcome.RESOLVED_BY_DIVERSION,
}
MODE_OUTCOMES = {
    HandlingMode.MEDIATION: frozenset(
        {Outcome.WRITTEN_AGREEMENT, Outcome.ORAL_AGREEMENT, Outcome.MEDIATION_FAILED, Outcome.REFUSED_BY_PARTY}
    ),
    HandlingMode.ADMINISTRATIVE: frozenset(
        {Outcome.OPINION_SUPPORT, Outcome.OPINION_EXPLAIN, Outcome.OPINION_NOT_SUPPORT}
    ),
    HandlingMode.PETITION: frozenset({Outcome.OPINION_SUPPORT, Outcome.OPINION_EXPLAIN, Outcome.OPINION_NOT_SUPPORT}),
}


class Evaluation(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


EVALUATION_LABELS = {
    Evaluation.SATISFIED: "满意",
    Evaluation.BASICALLY_SATISFIED: "基本满意",
    Evaluation.DISSATISFIED: "不满意",
}


def check_outcome(*, status: CaseStatus, mode: HandlingMode | None, outcome: Outcome) -> None:
    """The outcome must fit how the matter was handled.

    - after diversion, the only outcome is "resolved by diversion" or a failed mediation coming back;
    - otherwise the outcome must belong to the handling mode (mediation → agreement/failure/refusal,
      administrative or petition handling → a written opinion).
    """
    if status == CaseStatus.DIVERTED:
        if outcome not in {Outcome.RESOLVED_BY_DIVERSION, Outcome.MEDIATION_FAILED}:
            raise RuleViolation("分流事项只能登记“分流后办结”或“调解不成”")
        return
    if outcome == Outcome.RESOLVED_BY_DIVERSION:
        raise RuleViolation("未分流的事项不能登记“分流后办结”")
    if mode is not None and outcome not in MODE_OUTCOMES[mode]:
        raise RuleViolation(f"“{HANDLING_MODE_LABELS[mode]}”方式下不能登记“{OUTCOME_LABELS[outcome]}”")


def check_judicial_confirmation(outcome: Outcome | None) -> None:
    if outcome != Outcome.WRITTEN_AGREEMENT:
        raise RuleViolation("只有书面调解协议才能申请司法确认")


def check_performance_monitoring(outcome: Outcome | None) -> None:
    if outcome not in AGREEMENT_OUTCOMES:
        raise RuleViolation("只有达成协议的事项才需要履行监督")


def case_code_prefix(region_code: str) -> str:
    """Matters are numbered per county: the first six digits of the region code."""
    return region_code[:6]




class InvalidInput(RuleViolation):
    """Input that breaks a rule, tied to the form field it came from."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class PartyDraft:
    role: str
    name: str
    kind: str = "natural"
    id_number: str = ""
    phone: str = ""
    address: str = ""
    credit_code: str = ""


@dataclass(frozen=True)
class CaseDraft:
    """What a registration carries: the facts of the matter, its parties and how it arrived."""

    channel_code: str
    request_type: RequestType
    title: str
    description: str
    region_code: str
    address: str = ""
    occurred_at: datetime | None = None
    people_involved: int | None = None
    amount_involved: Decimal | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    primary_type_code: str = ""
    grade: str = ""
    complexity: str = ""
    is_urgent: bool = False
    parties: tuple[PartyDraft, ...] = ()
    in_person: bool = False  # the person came to the window: record the visit
    external_ref: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # other taxonomies: code -> label code


def check_draft(draft: CaseDraft) -> None:
    """Rules every registration must meet, whatever the form that produced it.

    - a title and a description that are not blank;
    - at least one applicant (申请人) among the parties, except for anonymous reports (举报) and suggestions;
    - no negative amounts or people counts;
    - latitude and longitude come together and lie in range.
    """
    if not draft.title.strip():
        raise InvalidInput("title", "请填写事项标题")
    if not draft.description.strip():
        raise InvalidInput("description", "请填写事项描述")
    if draft.request_type not in (RequestType.REPORT, RequestType.SUGGESTION) and not any(
        party.role == "applicant" for party in draft.parties
    ):
        raise InvalidInput("parties", "至少需要一名申请人（举报、意见建议可匿名）")
    if draft.amount_involved is not None and draft.amount_involved < 0:
        raise InvalidInput("amount_involved", "涉及金额不能为负数")
    if draft.people_involved is not None and draft.people_involved < 0:
        raise InvalidInput("people_involved", "涉及人数不能为负数")
    if (draft.latitude is None) != (draft.longitude is None):
        raise InvalidInput("latitude", "经纬度需同时填写")
    if draft.latitude is not None and not (-90 <= draft.latitude <= 90 and -180 <= draft.longitude <= 180):
        raise InvalidInput("latitude", "经纬度超出范围")
