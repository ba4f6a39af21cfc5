"""Risk alerts (风险预警) and their detection rules (pure: no Django, no clock, no I/O).

- An alert's lifecycle is fixed: new (待研判) → assessed (已研判) → handled (已处置) → closed (已办结); an assessed
  alert found to need no disposal may be closed directly. Every allowed change is one row of `TRANSITIONS`;
  anything else raises `IllegalTransition`.
- Who may act (`denial_reason`): the region's dispatchers, supervisors and leaders (their unit's region contains
  the alert's region) may assess, handle and close; the owner (the owner person, or a member of the owner unit)
  may assess and handle, but not close: closing is the centre's verification of the owner's work.
- The statistical tests (`poisson_sf`, `test_count`) and the severity rule (`severity_for`) are stated here and
  in docs/risk.md.
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from yidi.accounts.domain import Role


class AlertKind(StrEnum):
    SPIKE = "spike"
    CLUSTER = "cluster"
    REPEAT = "repeat"
    SEASONAL = "seasonal"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    AlertKind.SPIKE: "激增",
    AlertKind.CLUSTER: "群体性苗头",
    AlertKind.REPEAT: "重复来访",
    AlertKind.SEASONAL: "季节性",
    AlertKind.MANUAL: "人工上报",
}


class AlertStatus(StrEnum):
    NEW = "new"
    ASSESSED = "assessed"
    HANDLED = "handled"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    AlertStatus.NEW: "待研判",
    AlertStatus.ASSESSED: "已研判",
    AlertStatus.HANDLED: "已处置",
    AlertStatus.CLOSED: "已办结",
}
OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.ASSESSED, AlertStatus.HANDLED)


class Severity(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"

    @property
    def label(self) -> str:
        return SEVERITY_LABELS[self]

    @property
    def rank(self) -> int:
        return {Severity.YELLOW: 1, Severity.ORANGE: 2, Severity.RED: 3}[self]


SEVERITY_LABELS = {Severity.RED: "红", Severity.ORANGE: "橙", Severity.YELLOW: "黄"}


class AlertAction(StrEnum):
    RAISE = "raise"
    ADD_CASES = "add_cases"
    ASSESS = "assess"
    HANDLE = "handle"
    CLOSE = "close"
    ASSIGN_TASK = "assign_task"
    COMPLETE_TASK = "complete_task"
    RECORD_INSTRUCTION = "record_instruction"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    AlertAction.RAISE: "发现预警",
    AlertAction.ADD_CASES: "新增关联事项",
    AlertAction.ASSESS: "研判",
    AlertAction.HANDLE: "处置",
    AlertAction.CLOSE: "办结",
    AlertAction.ASSIGN_TASK: "下达指挥任务",
    AlertAction.COMPLETE_TASK: "完成指挥任务",
    AlertAction.RECORD_INSTRUCTION: "领导批示",
}

TRANSITIONS: dict[tuple[AlertStatus, AlertAction], AlertStatus] = {
    (AlertStatus.NEW, AlertAction.ASSESS): AlertStatus.ASSESSED,
    (AlertStatus.ASSESSED, AlertAction.HANDLE): AlertStatus.HANDLED,
    (AlertStatus.ASSESSED, AlertAction.CLOSE): AlertStatus.CLOSED,  # assessed as needing no disposal
    (AlertStatus.HANDLED, AlertAction.CLOSE): AlertStatus.CLOSED,
}
LIFECYCLE_ACTIONS = (AlertAction.ASSESS, AlertAction.HANDLE, AlertAction.CLOSE)


class IllegalTransition(Exception):
    def __init__(self, status: AlertStatus, action: AlertAction):
        self.status = status
        self.action = action
        super().__init__(f"预警当前状态“{STATUS_LABELS[status]}”下不能执行“{ACTION_LABELS[action]}”")


class AlertRuleViolation(Exception):
    """An input or business rule refuses the step (message in Chinese); `field` names the input at fault."""

    def __init__(self, message: str, field: str = ""):
        self.field = field
        super().__init__(message)


class AlertActionDenied(Exception):
    """The user may see the alert but not perform this step (message in Chinese)."""


def next_status(status: AlertStatus, action: AlertAction) -> AlertStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(status, action) from None


def allowed_actions(status: AlertStatus) -> list[AlertAction]:
    return [action for (source, action) in TRANSITIONS if source == status]


# --- who may act -----------------------------------------------------------------------------------------

OVERSIGHT_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER})
OWNER_ACTIONS = frozenset({AlertAction.ASSESS, AlertAction.HANDLE})
# Command view: who gives tasks to units and who records a command-level instruction.
COMMAND_ROLES = frozenset({Role.DISPATCHER, Role.LEADER})
INSTRUCTION_ROLES = frozenset({Role.LEADER})
# Roles of an owner unit's members that count as the owner.
OWNER_MEMBER_ROLES = frozenset(
    {Role.DISPATCHER, Role.HANDLER, Role.LEADER, Role.SUPERVISOR, Role.REGISTRAR, Role.MEDIATOR, Role.GRID_WORKER}
)


@dataclass(frozen=True)
class Actor:
    """What the permission rule needs to know about a user."""

    roles: frozenset[Role]
    unit_id: int | None
    unit_region: str
    user_id: int | None


@dataclass(frozen=True)
class AlertFacts:
    region: str
    owner_unit_id: int | None
    owner_user_id: int | None


def oversees(actor: Actor, region: str) -> bool:
    """The actor is a dispatcher, supervisor or leader of a unit whose region contains `region`."""
    return bool(actor.roles & OVERSIGHT_ROLES) and bool(actor.unit_region) and region.startswith(actor.unit_region)


def is_owner(actor: Actor, alert: AlertFacts) -> bool:
    if alert.owner_user_id is not None and actor.user_id == alert.owner_user_id:
        return True
    return (
        alert.owner_unit_id is not None and actor.unit_id == alert.owner_unit_id
        and bool(actor.roles & OWNER_MEMBER_ROLES)
    )


def denial_reason(actor: Actor, alert: AlertFacts, action: AlertAction) -> str | None:
    """Why `actor` may not take the lifecycle step `action` (a Chinese sentence), or None when allowed."""
    if oversees(actor, alert.region):
        return None
    if action in OWNER_ACTIONS and is_owner(actor, alert):
        return None
    if action == AlertAction.CLOSE and is_owner(actor, alert):
        return "预警办结须由本区域的指挥调度员、督查员或领导确认，责任单位不能自行办结"
    return "只有本区域的指挥调度员、督查员、领导或预警责任单位可以执行此操作"


# --- the tests -------------------------------------------------------------------------------------------

MIN_BASELINE = 0.5  # a floor for the expected count, so a series with an empty baseline is not infinitely surprising


def poisson_sf(count: int, mean: float) -> float:
    """P(X ≥ count) for X ~ Poisson(mean): the one-sided p-value of observing `count` or more.

    Computed as 1 − Σ_{k<count} e^−λ λ^k / k!, term by term in log space (exact for the counts met here).
    """
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_term = -mean  # k = 0
    below = math.exp(log_term)
    for k in range(1, count):
        log_term += math.log(mean) - math.log(k)
        below += math.exp(log_term)
    return max(0.0, 1.0 - below) if below < 0.999999 else _upper_tail(count, mean)


def _upper_tail(count: int, mean: float) -> float:
    """Σ_{k≥count} directly, for small tails where 1 − (sum below) would lose all precision."""
    log_term = -mean + count * math.log(mean) - math.lgamma(count + 1)
    total, k = 0.0, count
    while True:
        term = math.exp(log_term)
        total += term
        k += 1
        log_term += math.log(mean) - math.log(k)
        if term < 1e-18 * max(total, 1e-300) or k > count + 10_000:
            return total


@dataclass(frozen=True)
class CountTest:
    """The outcome of testing an observed count against its baseline."""

    count: int
    baseline: tuple[float, ...]
    mean: float  # the baseline mean, before the floor
    expected: float  # the Poisson mean used (mean floored at MIN_BASELINE)
    p_value: float
    is_signal: bool

    @property
    def ratio(self) -> float:
        return self.count / self.expected


def test_count(count: int, baseline: list[float] | tuple[float, ...], *, p_threshold: float, min_count: int) -> CountTest:
    """One-sided Poisson test of `count` against the mean of `baseline` (earlier periods of equal length).

    - expected λ = max(mean(baseline), MIN_BASELINE);
    - p = P(X ≥ count | λ);
    - a signal when count ≥ min_count and p < p_threshold.
    """
    values = tuple(float(value) for value in baseline)
    mean = sum(values) / len(values) if values else 0.0
    expected = max(mean, MIN_BASELINE)
    p = poisson_sf(count, expected)
    return CountTest(count, values, mean, expected, p, count >= min_count and p < p_threshold)


test_count.__test__ = False  # not a pytest test


def severity_for(measure: float, *, orange_at: float, red_at: float) -> Severity:
    """红 when the measure reaches `red_at`, 橙 when it reaches `orange_at`, otherwise 黄.

    The measure is per kind (see `DetectionRule`): observed ÷ expected for spikes and seasonal surges, distinct
    complainants for clusters, contacts for repeat visitors.
    """
    if measure >= red_at:
        return Severity.RED
    if measure >= orange_at:
        return Severity.ORANGE
    return Severity.YELLOW


def severity_rule_text(kind: AlertKind, measure: float, *, orange_at: float, red_at: float) -> str:
    severity = severity_for(measure, orange_at=orange_at, red_at=red_at)
    what = {
        AlertKind.SPIKE: "观测值与期望值之比",
        AlertKind.SEASONAL: "观测值与期望值之比",
        AlertKind.CLUSTER: "不同反映人数",
        AlertKind.REPEAT: "反映次数",
    }.get(kind, "指标")
    return (f"{what} {format_number(measure)}：达到 {format_number(red_at)} 为红，达到 {format_number(orange_at)} 为橙，"
            f"否则为黄；定为{severity.label}色")


def format_number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def format_p(p: float) -> str:
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


# --- weeks, windows, seasons -----------------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of `day`'s week (ISO weeks, as the weekly series are bucketed)."""
    return day - timedelta(days=day.weekday())


def weeks_between(first: date, last: date) -> list[date]:
    """The Mondays of every week from `first`'s to `last`'s, inclusive."""
    start, end = week_start(first), week_start(last)
    return [start + timedelta(weeks=n) for n in range((end - start).days // 7 + 1)]


def window_ends(first: date, last: date, *, window_days: int) -> list[date]:
    """The last days of the sliding windows that cover [first, last] for a detection run.

    Windows are `window_days` long and step by half a window, ending at `last`: any group of matters that falls
    within half a window is wholly inside one of them. A run over one day checks the one window ending that day.
    """
    step = max(1, window_days // 2)
    ends = []
    end = last
    while end >= first:
        ends.append(end)
        end -= timedelta(days=step)
    return sorted(ends)


@dataclass(frozen=True)
class Season:
    festival_on: date
    starts_on: date  # the first day of the pre-festival season
    ends_on: date  # the day before the festival


def season_containing(day: date, festivals: list[date], *, season_days: int) -> Season | None:
    """The pre-festival season (the `season_days` days before a Spring Festival) that contains `day`, if any."""
    for festival in sorted(festivals):
        start = festival - timedelta(days=season_days)
        if start <= day < festival:
            return Season(festival, start, festival - timedelta(days=1))
    return None


def same_span_in_year(season: Season, elapsed_days: int, earlier_festival: date) -> tuple[date, date]:
    """The span of an earlier year's season matching the first `elapsed_days` days of `season`."""
    start = earlier_festival - (season.festival_on - season.starts_on)
    return start, start + timedelta(days=elapsed_days - 1)


def common_region(codes: list[str]) -> str:
    """The smallest administrative region containing every code: the village, township or county code."""
    for length in (12, 9, 6):
        prefixes = {code[:length] for code in codes}
        if len(prefixes) == 1 and all(len(code) >= length for code in codes):
            return next(iter(prefixes))
    return codes[0][:6] if codes else ""


# --- findings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """What one detector found: enough to raise an alert or add matters to an open one."""

    kind: AlertKind
    fingerprint: str  # the same situation seen again has the same fingerprint (deduplication)
    title: str
    reason: str
    severity: Severity
    severity_rule: str
    region: str
    case_ids: tuple[int, ...]
    dispute_type_id: int | None = None
    period_start_on: date | None = None
    period_end_on: date | None = None
    measures: dict = field(default_factory=dict)
