"""Deadline rules (the SLA engine) and the 督办 escalation ladder, as pure functions over data.

No Django, no clock: every function that needs the time takes `now` (an aware datetime).

Conventions (one for the whole engine):
- Dates are Asia/Shanghai dates. A deadline is the end of its due day, 23:59:59 Asia/Shanghai, returned as
  an aware UTC datetime. A matter is overdue only when `now > due_at`.
- Periods do not count their start day: "15 days" from an event on 1 March is due on 16 March; "13 working
  days" counts from the next working day.
- Thresholds are **days before the due day**, in the stage's own unit: a stage turns yellow at 00:00 of the
  first day on which at most `yellow_days_before` days remain, and red likewise with `red_days_before`
  (`red_days_before <= yellow_days_before`). "Remaining" days are those after today up to and including the
  due day, so the due day itself has 0 remaining: `yellow_days_before = 0` means "yellow on the due day".
- Pauses (鉴定, 听证) shift the due day by the paused days, counted like a period (a pause from the 3rd to the
  5th is 2 days) in the stage's unit; extensions add days in the stage's unit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yidi.core.calendar import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
DATA_DIR = Path(__file__).parent / "data"  # yidi/core/data
DEFAULT_POLICIES_PATH = DATA_DIR / "default_policies.json"
DEFAULT_ESCALATION_RULES_PATH = DATA_DIR / "default_escalation_rules.json"


class DayUnit(StrEnum):
    WORKDAYS = "workdays"  # 工作日
    CALENDAR_DAYS = "calendar_days"  # 自然日


class Stage(StrEnum):
    """The clocks a matter can run. sign / handle / verify are the core three (受理·办理·验证)."""

    ASSIGN = "assign"  # 信访: register and transfer/assign (转送/交办)
    SIGN = "sign"  # 签收 (the receiving unit accepts the assignment)
    OBJECTION = "objection"  # 异议: a unit that is not competent must return the matter within this limit
    NOTICE = "notice"  # 书面告知 the petitioner; runs alongside handling
    HANDLE = "handle"  # 办理 / 调解
    VERIFY = "verify"  # 验证 / 回访 after closing
    PARTY_RESPONSE = "party_response"  # 对方当事人答复是否同意调解
    JUDICIAL_CONFIRMATION = "judicial_confirmation"  # 当事人申请司法确认 (30 days from the agreement taking effect)
    # 信访 (信访工作条例 Arts 35-36): the petitioner's 30 days to ask for 复查 / 复核 and the higher body's 30 days
    # to answer; they run for the petitioner and for the receiving body, never for the unit.
    REVIEW_REQUEST = "review_request"  # 请求复查 (30 days from receiving the 处理意见书)
    REVIEW = "review"  # 复查答复 (30 days from the request)
    RECHECK_REQUEST = "recheck_request"  # 请求复核 (30 days from receiving the 复查意见)
    RECHECK = "recheck"  # 复核答复 (30 days from the request; hearing time is not counted)


# Periods that run for the parties, not for a unit (the other party's answer, the window to apply for judicial
# confirmation): they never make a matter late (the matter's due date and state leave them out), and the 督办
# ladder's any-stage rules skip them, so only rules that name such a stage apply to it.
PARTY_STAGES = frozenset(
    {
        Stage.PARTY_RESPONSE,
        Stage.JUDICIAL_CONFIRMATION,
        Stage.REVIEW_REQUEST,
        Stage.REVIEW,
        Stage.RECHECK_REQUEST,
        Stage.RECHECK,
    }
)


class StartEvent(StrEnum):
    REGISTERED = "registered"  # 登记 (received)
    ASSIGNED = "assigned"  # 交办/派单 (the unit received the assignment)
    SIGNED = "signed"  # 签收 (the mediator/organisation confirmed acceptance)
    ACCEPTED = "accepted"  # 受理
    AGREEMENT_EFFECTIVE = "agreement_effective"  # 调解协议生效
    OTHER_PARTY_NOTIFIED = "other_party_notified"  # 告知对方当事人 (the mediation asks whether they agree)
    CONCLUDED = "concluded"  # 出结果 (agreement, opinion …): verification and return visit start
    CLOSED = "closed"  # 办结
    # 信访 procedure after a hand-off (started by `yidi.mediation.handoffs`, never by a lifecycle event)
    OPINION_RECEIVED = "opinion_received"  # 信访人收到处理意见书
    REVIEW_REQUESTED = "review_requested"  # 请求复查
    REVIEW_ANSWERED = "review_answered"  # 收到复查意见
    RECHECK_REQUESTED = "recheck_requested"  # 请求复核


class DeadlineState(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    OVERDUE = "overdue"


_STATE_RANK = {
    DeadlineState.GREEN: 0,
    DeadlineState.YELLOW: 1,
    DeadlineState.RED: 2,
    DeadlineState.OVERDUE: 3,
}


class Effect(StrEnum):
    WARN = "warn"  # 预警提醒
    URGE_NORMAL = "urge_normal"  # 普通督办
    URGE_YELLOW = "urge_yellow"  # 黄牌督办
    URGE_RED = "urge_red"  # 红牌督办
    ESCALATE = "escalate"  # 上报/提级
    OFFER_DIVERSION = "offer_diversion"  # 告知并引导至其他法定途径 (e.g. 劳动争议 → 仲裁)


EFFECT_LABELS = {
    Effect.WARN: "预警提醒",
    Effect.URGE_NORMAL: "普通督办",
    Effect.URGE_YELLOW: "黄牌督办",
    Effect.URGE_RED: "红牌督办",
    Effect.ESCALATE: "提级上报",
    Effect.OFFER_DIVERSION: "引导至其他法定途径",
}
_URGE_LEVEL = {Effect.URGE_NORMAL: 1, Effect.URGE_YELLOW: 2, Effect.URGE_RED: 3}


# --- policies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageLimit:
    """One stage's clock: `limit` days in `unit` from `start_event`, with yellow/red thresholds.

    `max_extension_days`: None = no cap (e.g. extension by both parties' consent); 0 = no extension.
    """

    stage: Stage
    limit: int
    unit: DayUnit
    start_event: StartEvent
    yellow_days_before: int
    red_days_before: int
    max_extension_days: int | None = None

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError(f"{self.stage}: limit must be >= 0, got {self.limit}")
        if not 0 <= self.red_days_before <= self.yellow_days_before:
            raise ValueError(
                f"{self.stage}: need 0 <= red_days_before ({self.red_days_before}) "
                f"<= yellow_days_before ({self.yellow_days_before})"
            )
        if self.max_extension_days is not None and self.max_extension_days < 0:
            raise ValueError(f"{self.stage}: max_extension_days must be >= 0 or None")


MATCH_KEYS = ("channel", "dispute_type", "request_type", "level")  # tie-break precedence, first is strongest


@dataclass(frozen=True)
class DeadlinePolicy:
    """Time limits for the matters it matches; a matching key set to None matches any value.

    `diversion`: the statutory route offered when the handle stage expires (used by `offer_diversion`).
    `basis`: the legal or local source, shown to admins.
    """

    id: str
    name: str
    stages: tuple[StageLimit, ...]
    channel: str | None = None
    request_type: str | None = None
    level: str | None = None
    dispute_type: str | None = None
    diversion: str | None = None
    basis: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        seen = [limit.stage for limit in self.stages]
        if len(seen) != len(set(seen)):
            raise ValueError(f"policy {self.id}: a stage appears twice")

    def stage_limit(self, stage: Stage) -> StageLimit | None:
        for limit in self.stages:
            if limit.stage == stage:
                return limit
        return None

    def specificity(self) -> tuple[int, tuple[bool, ...]]:
        keys = tuple(getattr(self, key) is not None for key in MATCH_KEYS)
        return sum(keys), keys


class NoPolicyMatched(LookupError):
    pass


def select_policy(
    policies: Iterable[DeadlinePolicy],
    *,
    channel: str | None,
    request_type: str | None,
    level: str | None,
    dispute_type: str | None,
) -> DeadlinePolicy:
    """The active policy that matches and is the most specific.

    - A policy matches when each of its non-None keys equals the matter's value.
    - Most specific = most non-None keys. Ties are broken by key precedence (channel, then dispute type,
      then request type, then level: a 信访 policy beats a 劳动争议 policy, which beats a 纠纷调解 one),
      then by the smallest id. Raises `NoPolicyMatched` when nothing matches (ship a catch-all policy).
    """
    facts = {"channel": channel, "request_type": request_type, "level": level, "dispute_type": dispute_type}
    candidates = [
        policy
        for policy in policies
        if policy.active
        and all(getattr(policy, key) is None or getattr(policy, key) == facts[key] for key in MATCH_KEYS)
    ]
    if not candidates:
        raise NoPolicyMatched(f"没有适用的时限规则：{facts}")
    return min(candidates, key=_specificity_order)


def _specificity_order(policy: DeadlinePolicy) -> tuple[int, tuple[bool, ...], str]:
    count, keys = policy.specificity()
    return -count, tuple(not key for key in keys), policy.id


# --- dates and deadlines -----------------------------------------------------------------------------


def local_date(at: datetime) -> date:
    """The Asia/Shanghai date of an aware datetime."""
    _require_aware(at)
    return at.astimezone(SHANGHAI).date()


def end_of_day(d: date) -> datetime:
    """23:59:59 Asia/Shanghai on `d`, as an aware UTC datetime."""
    return datetime.combine(d, END_OF_DAY, tzinfo=SHANGHAI).astimezone(UTC)


def start_of_day(d: date) -> datetime:
    """00:00 Asia/Shanghai on `d`, as an aware UTC datetime."""
    return datetime.combine(d, time(0), tzinfo=SHANGHAI).astimezone(UTC)


def add_days(start: date, n: int, unit: DayUnit, calendar: WorkingCalendar) -> date:
    if unit == DayUnit.WORKDAYS:
        return calendar.add_workdays(start, n)
    return start + timedelta(days=n)


def days_between(a: date, b: date, unit: DayUnit, calendar: WorkingCalendar) -> int:
    """Days in (a, b] in `unit`; negative when b < a."""
    if unit == DayUnit.WORKDAYS:
        return calendar.workdays_between(a, b)
    return (b - a).days


def paused_days(
    pauses: Iterable[tuple[datetime, datetime]],
    unit: DayUnit,
    calendar: WorkingCalendar,
    *,
    not_before: datetime,
) -> int:
    """The days (in `unit`) covered by closed pauses, overlaps counted once, ignoring time before
    `not_before` (the clock's start). A pause from day A to day B covers the days in (A, B]."""
    spans: list[tuple[date, date]] = []
    for started_at, ended_at in pauses:
        _require_aware(started_at)
        _require_aware(ended_at)
        if ended_at < started_at:
            raise ValueError(f"pause ends before it starts: {started_at} > {ended_at}")
        started_at = max(started_at, not_before)
        if ended_at <= started_at:
            continue
        spans.append((local_date(started_at), local_date(ended_at)))
    spans.sort()
    merged: list[list[date]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return sum(days_between(first, last, unit, calendar) for first, last in merged)


def due_at(
    start_at: datetime,
    limit: int,
    unit: DayUnit,
    calendar: WorkingCalendar,
    *,
    pauses: Sequence[tuple[datetime, datetime]] = (),
    extension_days: int = 0,
) -> datetime:
    """The end of the due day (23:59:59 Asia/Shanghai, returned in UTC).

    - Due day = the Shanghai date of `start_at` + `limit` + paused days + `extension_days`, all in `unit`
      (working days follow `calendar`, including 调休; the start day is not counted).
    - `pauses` are closed (start, end) pairs; while a pause is open the matter has no running deadline.
    """
    return end_of_day(_due_on(start_at, limit, unit, calendar, pauses=pauses, extension_days=extension_days))


def _due_on(
    start_at: datetime,
    limit: int,
    unit: DayUnit,
    calendar: WorkingCalendar,
    *,
    pauses: Sequence[tuple[datetime, datetime]],
    extension_days: int,
) -> date:
    if limit < 0 or extension_days < 0:
        raise ValueError("limit and extension_days must be >= 0")
    paused = paused_days(pauses, unit, calendar, not_before=start_at)
    return add_days(local_date(start_at), limit + paused + extension_days, unit, calendar)


@dataclass(frozen=True)
class StageDeadline:
    stage: Stage
    due_at: datetime
    yellow_at: datetime
    red_at: datetime


def threshold_at(due: datetime, days_before: int, unit: DayUnit, calendar: WorkingCalendar) -> datetime:
    """00:00 Asia/Shanghai of the first day on which at most `days_before` days (in `unit`) remain."""
    due_on = local_date(due)
    if unit == DayUnit.WORKDAYS:
        return start_of_day(calendar.subtract_workdays(due_on, days_before))
    return start_of_day(due_on - timedelta(days=days_before))


def stage_deadline(
    start_at: datetime,
    limit: StageLimit,
    calendar: WorkingCalendar,
    *,
    pauses: Sequence[tuple[datetime, datetime]] = (),
    extension_days: int = 0,
) -> StageDeadline:
    """The due, yellow and red instants of one stage; yellow and red are never before `start_at`."""
    due = due_at(start_at, limit.limit, limit.unit, calendar, pauses=pauses, extension_days=extension_days)
    yellow = max(threshold_at(due, limit.yellow_days_before, limit.unit, calendar), start_at)
    red = max(threshold_at(due, limit.red_days_before, limit.unit, calendar), start_at)
    return StageDeadline(stage=limit.stage, due_at=due, yellow_at=yellow, red_at=red)


def deadline_state(now: datetime, due_at: datetime, yellow_at: datetime, red_at: datetime) -> DeadlineState:
    """green before `yellow_at`; yellow from `yellow_at`; red from `red_at`; overdue only after `due_at`."""
    if now > due_at:
        return DeadlineState.OVERDUE
    if now >= red_at:
        return DeadlineState.RED
    if now >= yellow_at:
        return DeadlineState.YELLOW
    return DeadlineState.GREEN


def remaining_workdays(now: datetime, due_at: datetime, calendar: WorkingCalendar) -> int:
    """Working days after today up to and including the due day (0 on the due day; negative when overdue:
    -2 means two working days have passed since the due day)."""
    return calendar.workdays_between(local_date(now), local_date(due_at))


def remaining_days(now: datetime, due_at: datetime, unit: DayUnit, calendar: WorkingCalendar) -> int:
    """Like `remaining_workdays`, in the stage's unit."""
    return days_between(local_date(now), local_date(due_at), unit, calendar)


def overdue_days(now: datetime, due_at: datetime, unit: DayUnit, calendar: WorkingCalendar) -> int:
    """Days (in `unit`) since the due day; 0 when not overdue. The first day after the due day counts 1
    (for working days: the first working day after it)."""
    if now <= due_at:
        return 0
    return max(0, -remaining_days(now, due_at, unit, calendar))


# --- extensions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionCheck:
    allowed: bool
    code: str = ""  # stable code for the API, empty when allowed
    message: str = ""  # Chinese reason, empty when allowed


def can_extend(
    now: datetime,
    due_at: datetime,
    *,
    requested_days: int,
    max_extension_days: int | None,
    extended_days: int = 0,
) -> ExtensionCheck:
    """Whether an extension (延期) of `requested_days` may be requested now.

    - Refused once the deadline has passed: an extension must be requested before expiry.
    - Refused when `requested_days` < 1, or when the extensions so far plus this one exceed the stage's
      `max_extension_days` (None = no cap; 0 = the stage cannot be extended).
    """
    if now > due_at:
        due_text = due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        return ExtensionCheck(False, "deadline_passed", f"已超过办理期限（{due_text}），不能再申请延期。")
    if requested_days < 1:
        return ExtensionCheck(False, "bad_days", "延期天数至少为 1 天。")
    if max_extension_days is not None:
        if max_extension_days == 0:
            return ExtensionCheck(False, "not_extendable", "该环节的办理期限不允许延期。")
        left = max_extension_days - extended_days
        if requested_days > left:
            return ExtensionCheck(
                False,
                "too_many_days",
                f"延期天数超过上限：最多可延期 {max_extension_days} 天，已延期 {extended_days} 天，"
                f"本次最多 {max(left, 0)} 天。",
            )
    return ExtensionCheck(True)


# --- the 督办 escalation ladder -------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRule:
    """When a stage reaches `state` (and, for overdue, has been overdue `min_overdue_days` days in the
    stage's unit), apply `effect`. `stage` None = any stage a unit runs (not `PARTY_STAGES`); empty
    `policy_ids` = any policy."""

    id: str
    state: DeadlineState
    effect: Effect
    stage: Stage | None = None
    min_overdue_days: int = 0
    policy_ids: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.min_overdue_days and self.state != DeadlineState.OVERDUE:
            raise ValueError(f"rule {self.id}: min_overdue_days needs state overdue")
        if self.min_overdue_days < 0:
            raise ValueError(f"rule {self.id}: min_overdue_days must be >= 0")

    def applies(self, *, policy_id: str, stage: Stage, state: DeadlineState, overdue_days: int) -> bool:
        return (
            self.covers(stage)
            and (not self.policy_ids or policy_id in self.policy_ids)
            and _STATE_RANK[state] >= _STATE_RANK[self.state]
            and (self.state != DeadlineState.OVERDUE or overdue_days >= self.min_overdue_days)
        )

    def covers(self, stage: Stage) -> bool:
        return self.stage == stage if self.stage is not None else stage not in PARTY_STAGES

    def reason(self) -> str:
        if self.state == DeadlineState.OVERDUE:
            when = f"逾期满 {self.min_overdue_days} 天" if self.min_overdue_days else "已逾期"
        else:
            when = {DeadlineState.YELLOW: "进入黄色预警", DeadlineState.RED: "进入红色预警"}.get(
                self.state, ""
            )
        return f"{when}，按规则 {self.id} 执行{EFFECT_LABELS[self.effect]}"


def next_effects(
    rules: Iterable[EscalationRule],
    *,
    policy_id: str,
    stage: Stage,
    state: DeadlineState,
    overdue_days: int,
    applied: Collection[tuple[Stage, Effect]],
) -> list[EscalationRule]:
    """The rules whose effects are now due and not yet applied, in ladder order (mildest first).

    - An effect is applied at most once per stage clock: `applied` holds the (stage, effect) pairs already
      recorded for the current deadline (clear it when the deadline is reset, e.g. after a transfer).
    - Urging is a ladder (普通 < 黄牌 < 红牌): only the highest due urge is returned, and an urge no higher
      than one already applied is skipped. So applying the result and calling again returns nothing.
    """
    due: dict[Effect, EscalationRule] = {}
    for rule in rules:
        if rule.effect in due or (stage, rule.effect) in applied:
            continue
        if rule.applies(policy_id=policy_id, stage=stage, state=state, overdue_days=overdue_days):
            due[rule.effect] = rule
    applied_urge = max((_URGE_LEVEL.get(effect, 0) for s, effect in applied if s == stage), default=0)
    due_urges = [effect for effect in due if effect in _URGE_LEVEL]
    top_urge = max(due_urges, key=_URGE_LEVEL.__getitem__, default=None)
    return [
        due[effect]
        for effect in Effect  # ladder order
        if effect in due
        and not (effect in _URGE_LEVEL and (effect != top_urge or _URGE_LEVEL[effect] <= applied_urge))
    ]


def next_check_at(
    now: datetime,
    deadline: StageDeadline,
    unit: DayUnit,
    calendar: WorkingCalendar,
    *,
    rules: Iterable[EscalationRule],
    policy_id: str,
) -> datetime | None:
    """The next instant after `now` at which this stage's state or due effects can change (what the sweeper
    stores in `next_deadline_at`), or None when nothing more can happen.

    Candidates: yellow_at, red_at, the first instant after `due_at`, and the start of each day on which an
    applicable overdue rule's `min_overdue_days` is reached.
    """
    due_on = local_date(deadline.due_at)
    candidates = [deadline.yellow_at, deadline.red_at, deadline.due_at + timedelta(seconds=1)]
    for rule in rules:
        if (
            rule.state == DeadlineState.OVERDUE
            and rule.min_overdue_days
            and rule.covers(deadline.stage)
            and (not rule.policy_ids or policy_id in rule.policy_ids)
        ):
            candidates.append(start_of_day(add_days(due_on, rule.min_overdue_days, unit, calendar)))
    later = [at for at in candidates if at > now]
    return min(later, default=None)


# --- data loading ------------------------------------------------------------------------------------------


def stage_limit_from_dict(data: Mapping[str, Any]) -> StageLimit:
    return StageLimit(
        stage=Stage(data["stage"]),
        limit=int(data["limit"]),
        unit=DayUnit(data["unit"]),
        start_event=StartEvent(data["start_event"]),
        yellow_days_before=int(data["yellow_days_before"]),
        red_days_before=int(data["red_days_before"]),
        max_extension_days=None
        if data.get("max_extension_days") is None
        else int(data["max_extension_days"]),
    )


def policy_from_dict(data: Mapping[str, Any]) -> DeadlinePolicy:
    match = data.get("match", {})
    unknown = set(match) - set(MATCH_KEYS)
    if unknown:
        raise ValueError(f"policy {data.get('id')}: unknown match keys {sorted(unknown)}")
    return DeadlinePolicy(
        id=str(data["id"]),
        name=str(data["name"]),
        stages=tuple(stage_limit_from_dict(stage) for stage in data["stages"]),
        channel=match.get("channel"),
        request_type=match.get("request_type"),
        level=match.get("level"),
        dispute_type=match.get("dispute_type"),
        diversion=data.get("diversion"),
        basis=str(data.get("basis", "")),
        active=bool(data.get("active", True)),
    )


def escalation_rule_from_dict(data: Mapping[str, Any]) -> EscalationRule:
    return EscalationRule(
        id=str(data["id"]),
        state=DeadlineState(data["state"]),
        effect=Effect(data["effect"]),
        stage=None if data.get("stage") is None else Stage(data["stage"]),
        min_overdue_days=int(data.get("min_overdue_days", 0)),
        policy_ids=frozenset(data.get("policy_ids", ())),
    )


def load_policies(path: Path | str = DEFAULT_POLICIES_PATH) -> list[DeadlinePolicy]:
    """Policies from a JSON file `{"policies": [...]}`; errors name the file and the policy index."""
    return _load_list(Path(path), "policies", policy_from_dict)


def load_escalation_rules(path: Path | str = DEFAULT_ESCALATION_RULES_PATH) -> list[EscalationRule]:
    """Escalation rules from a JSON file `{"escalation_rules": [...]}`."""
    return _load_list(Path(path), "escalation_rules", escalation_rule_from_dict)


def _load_list[T: (DeadlinePolicy, EscalationRule)](
    path: Path, key: str, build: Callable[[Mapping[str, Any]], T]
) -> list[T]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items: list[T] = []
    ids: set[str] = set()
    for index, raw in enumerate(data[key]):
        try:
            item = build(raw)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: {key}[{index}] ({raw.get('id', '?')}): {exc!r}") from exc
        if item.id in ids:
            raise ValueError(f"{path}: {key}[{index}]: duplicate id {item.id!r}")
        ids.add(item.id)
        items.append(item)
    return items


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass an aware datetime")
