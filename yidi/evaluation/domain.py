"""Evaluation (评价) and return visit (回访) rules (pure: no Django, no clock, no I/O).

- `reopen_decision`: what a citizen's evaluation does to the matter (重办 by rule, or the supervisor decides).
- `select_rule` and `due_on`: which return-visit rule applies to a matter and when its visit falls due.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from yidi.cases.domain import AGREEMENT_OUTCOMES, Evaluation
from yidi.core.calendar import WorkingCalendar
from yidi.core.deadlines import DayUnit

# --- evaluation ------------------------------------------------------------------------------------------------


class EvaluationMethod(StrEnum):
    ONLINE = "online"  # by the person, through the citizen portal (the link sent at closing)
    PHONE = "phone"  # by staff on the phone, on the person's behalf
    WINDOW = "window"  # by staff at the window, on the person's behalf
    RETURN_VISIT = "return_visit"  # taken during a return visit


EVALUATION_METHOD_LABELS = {
    EvaluationMethod.ONLINE: "群众自行评价（网上）",
    EvaluationMethod.PHONE: "电话代为评价",
    EvaluationMethod.WINDOW: "窗口代为评价",
    EvaluationMethod.RETURN_VISIT: "回访时评价",
}
# What staff choose when they record an evaluation on the person's behalf.
STAFF_EVALUATION_METHODS = (EvaluationMethod.PHONE, EvaluationMethod.WINDOW)


class ReviewState(StrEnum):
    """What became of a dissatisfied evaluation (不满意)."""

    NONE = ""  # satisfied or basically satisfied: nothing to follow
    AUTO_REOPENED = "auto_reopened"  # reopened by rule (重办)
    AWAITING = "awaiting"  # beyond the automatic limit: 待督查研判
    REOPENED = "reopened"  # reopened by a supervisor or dispatcher after review
    CLOSED_OFF = "closed_off"  # the matter was closed or archived without a redo


REVIEW_STATE_LABELS = {
    ReviewState.NONE: "",
    ReviewState.AUTO_REOPENED: "已自动重办",
    ReviewState.AWAITING: "待督查研判",
    ReviewState.REOPENED: "研判后重办",
    ReviewState.CLOSED_OFF: "研判后办结",
}


@dataclass(frozen=True)
class Decision:
    reopen: bool
    review_state: ReviewState
    reason: str = ""


def reopen_decision(result: str, note: str, reopen_count: int, limit: int) -> Decision:
    """What an evaluation does to the matter.

    - 满意 / 基本满意: nothing;
    - 不满意 with a reason, and fewer than `limit` earlier reopenings of the matter: reopened by rule (重办),
      with the reason "群众评价不满意：<note>";
    - 不满意 beyond the limit (or without a reason, which the actions refuse anyway): no automatic reopening;
      the evaluation waits for the supervisor's review (待督查研判).
    """
    if result != Evaluation.DISSATISFIED:
        return Decision(reopen=False, review_state=ReviewState.NONE)
    note = note.strip()
    if note and reopen_count < limit:
        return Decision(reopen=True, review_state=ReviewState.AUTO_REOPENED, reason=f"群众评价不满意：{note}")
    return Decision(
        reopen=False, review_state=ReviewState.AWAITING,
        reason=f"已重办{reopen_count}次，达到自动重办上限（{limit}次），待督查研判" if note else "不满意未说明理由，待督查研判",
    )


def check_evaluation_input(result: str, note: str) -> str | None:
    """Why this evaluation cannot be recorded (Chinese), or None."""
    if result not in {e.value for e in Evaluation}:
        return "请选择评价结果（满意、基本满意、不满意）"
    if result == Evaluation.DISSATISFIED and not note.strip():
        return "“不满意”须说明具体意见"
    return None


def evaluation_window_closes_at(*, concluded_at: datetime | None, closed_at: datetime | None,
                                window_days: int) -> datetime | None:
    """The evaluation is open `window_days` calendar days from closing (办结), or from the result when the matter
    is not closed yet; None while there is no result."""
    start = closed_at or concluded_at
    return start + timedelta(days=window_days) if start is not None else None


# --- return visits ---------------------------------------------------------------------------------------------


class Trigger(StrEnum):
    CLOSED = "closed"  # after closing (办结)
    CONCLUDED = "concluded"  # after the result (出结果)
    PERFORMANCE_DUE = "performance_due"  # after the agreement's performance date


TRIGGER_LABELS = {
    Trigger.CLOSED: "办结后",
    Trigger.CONCLUDED: "出结果后",
    Trigger.PERFORMANCE_DUE: "协议履行期限届满后",
}
# The rule's outcome filter: blank (any), "agreement" (written or oral), or one outcome value.
AGREEMENT_FILTER = "agreement"


@dataclass(frozen=True)
class VisitRule:
    id: int
    name: str
    trigger: Trigger
    offset_days: int
    day_unit: DayUnit
    channel_group: str = ""
    handling_mode: str = ""
    outcome: str = ""
    priority: int = 100
    no_obligation_offset_days: int = 7


@dataclass(frozen=True)
class VisitFacts:
    channel_group: str
    handling_mode: str
    outcome: str


def _matches(rule: VisitRule, facts: VisitFacts) -> bool:
    if rule.channel_group and rule.channel_group != facts.channel_group:
        return False
    if rule.handling_mode and rule.handling_mode != facts.handling_mode:
        return False
    if rule.outcome == AGREEMENT_FILTER:
        return facts.outcome in AGREEMENT_OUTCOMES
    return not rule.outcome or rule.outcome == facts.outcome


def _specificity(rule: VisitRule) -> int:
    return sum(1 for value in (rule.channel_group, rule.handling_mode, rule.outcome) if value)


def select_rule(facts: VisitFacts, rules: Iterable[VisitRule]) -> VisitRule | None:
    """The one return-visit rule of a matter: among the (active) rules whose filters it meets, the lowest priority
    number, then the most specific (most filters set), then the first made. A matter gets one scheduled visit per
    round, whatever event triggers it."""
    matching = [rule for rule in rules if _matches(rule, facts)]
    if not matching:
        return None
    return min(matching, key=lambda rule: (rule.priority, -_specificity(rule), rule.id))


def add_days(start: date, days: int, unit: DayUnit, calendar: WorkingCalendar) -> date:
    """`days` after `start` (not counted), in working days or calendar days."""
    if unit == DayUnit.WORKDAYS:
        return calendar.add_workdays(start, days)
    return start + timedelta(days=days)


def due_on(rule: VisitRule, *, event_on: date, calendar: WorkingCalendar,
           obligation_due_dates: Iterable[date] = (), agreement_on: date | None = None) -> date:
    """When the rule's visit falls due.

    - closed / concluded: `offset_days` after the day of the event;
    - performance_due: `offset_days` after the latest obligation's due date; without obligations,
      `no_obligation_offset_days` after the agreement (or the event, when the agreement date is unknown).
    """
    if rule.trigger == Trigger.PERFORMANCE_DUE:
        dates = list(obligation_due_dates)
        if dates:
            return add_days(max(dates), rule.offset_days, rule.day_unit, calendar)
        return add_days(agreement_on or event_on, rule.no_obligation_offset_days, rule.day_unit, calendar)
    return add_days(event_on, rule.offset_days, rule.day_unit, calendar)


class VisitStatus(StrEnum):
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


VISIT_STATUS_LABELS = {VisitStatus.SCHEDULED: "待回访", VisitStatus.DONE: "已回访", VisitStatus.CANCELLED: "已取消"}


class VisitMethod(StrEnum):
    PHONE = "phone"
    ON_SITE = "on_site"
    SMS = "sms"
    VIDEO = "video"
    LETTER = "letter"


VISIT_METHOD_LABELS = {
    VisitMethod.PHONE: "电话回访",
    VisitMethod.ON_SITE: "上门回访",
    VisitMethod.SMS: "短信回访",
    VisitMethod.VIDEO: "视频回访",
    VisitMethod.LETTER: "信函回访",
}


class Performance(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"
    NOT_APPLICABLE = "not_applicable"


PERFORMANCE_LABELS = {
    Performance.FULL: "全部履行",
    Performance.PARTIAL: "部分履行",
    Performance.NONE: "未履行",
    Performance.NOT_APPLICABLE: "不涉及",
}


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"
    NOT_STATED = "not_stated"


SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASICALLY_SATISFIED: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
    Satisfaction.NOT_STATED: "未表态",
}


class Lawsuit(StrEnum):
    NONE = "none"
    FILED_SUIT = "filed_suit"
    ARBITRATION = "arbitration"
    PETITION = "petition"


LAWSUIT_LABELS = {
    Lawsuit.NONE: "未起诉、未申请仲裁、未信访",
    Lawsuit.FILED_SUIT: "已向法院起诉",
    Lawsuit.ARBITRATION: "已申请仲裁",
    Lawsuit.PETITION: "已信访",
}


@dataclass(frozen=True)
class VisitRecord:
    """What a return visit found (回访记录: performance, satisfaction, any lawsuit, remaining risks, measures)."""

    method: str
    summary: str
    performance: str = Performance.NOT_APPLICABLE
    satisfaction: str = Satisfaction.NOT_STATED
    lawsuit: str = Lawsuit.NONE
    lawsuit_note: str = ""
    risk_remaining: bool = False
    risk_signs: str = ""
    measures: str = ""


def check_visit_record(record: VisitRecord) -> tuple[str, str] | None:
    """The first problem with a return-visit record as (field, Chinese message), or None.

    - method, performance, satisfaction and lawsuit are from their lists; the summary is written;
    - a lawsuit, arbitration or petition needs a note (court, case number, where);
    - remaining risk needs its signs and the measures taken or proposed;
    - 不满意 needs the person's words in the summary (it is the evaluation's reason).
    """
    checks = (
        ("method", record.method, VisitMethod, "请选择回访方式"),
        ("performance", record.performance, Performance, "请选择履行情况"),
        ("satisfaction", record.satisfaction, Satisfaction, "请选择满意度"),
        ("lawsuit", record.lawsuit, Lawsuit, "请选择是否起诉、仲裁或信访"),
    )
    for field, value, choices, message in checks:
        if value not in {c.value for c in choices}:
            return field, message
    if not record.summary.strip():
        return "summary", "请填写回访情况"
    if record.lawsuit != Lawsuit.NONE and not record.lawsuit_note.strip():
        return "lawsuit_note", "请填写起诉、仲裁或信访的情况（受理机关、案号等）"
    if record.risk_remaining and not record.risk_signs.strip():
        return "risk_signs", "存在风险隐患的，请填写风险迹象"
    if record.risk_remaining and not record.measures.strip():
        return "measures", "存在风险隐患的，请填写已采取或建议的措施"
    return None


def worklist_tab(due: date, today: date, status: str) -> str:
    """The worklist tab of a visit: today, overdue, upcoming (next 7 days), done; "" for none of them."""
    if status == VisitStatus.DONE:
        return "done"
    if status != VisitStatus.SCHEDULED:
        return ""
    if due == today:
        return "today"
    if due < today:
        return "overdue"
    return "upcoming" if due <= today + timedelta(days=7) else ""
