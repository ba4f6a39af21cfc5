"""Running a matter's clocks (its time-limit policy's stages) as its lifecycle moves.

Rules:
- The policy is the most specific active one for the matter's channel group, request type, handling level and
  dispute type (`yidi.core.deadlines.select_policy`); a running clock keeps the policy it started under.
- A stage starts at its start event and stops when the event that completes it happens
  (`COMPLETED_BY`); some events cancel clocks that no longer make sense (`CANCELLED_BY`: a return, an
  escalation, a diversion, a refusal to accept, archiving).
- Time is counted in the lead unit's calendar (national calendar plus the unit's own overrides).
- After every change the matter carries its soonest due date, its worst deadline state and the next instant
  the deadline sweep must look at it (`next_deadline_at`, indexed).
All arithmetic is in the pure `yidi.core.deadlines`; this module only reads and writes rows.
"""

from datetime import datetime

from yidi.cases.models import Case, CaseDeadline
from yidi.core import worktime
from yidi.core.calendar import WorkingCalendar
from yidi.core.deadlines import (
    PARTY_STAGES,
    DayUnit,
    DeadlinePolicy,
    Effect,
    EscalationRule,
    NoPolicyMatched,
    Stage,
    StageDeadline,
    StageLimit,
    StartEvent,
    deadline_state,
    next_check_at,
    next_effects,
    overdue_days,
    select_policy,
    stage_deadline,
)

# Lifecycle events (emitted by `yidi.cases.actions`) → stages they complete.
COMPLETED_BY: dict[str, frozenset[str]] = {
    "assigned": frozenset({Stage.ASSIGN}),
    "signed": frozenset({Stage.SIGN, Stage.OBJECTION}),
    "handling_started": frozenset({Stage.NOTICE}),
    "concluded": frozenset({Stage.HANDLE}),
    "closed": frozenset({Stage.VERIFY}),
    # 当场化解: the matter was settled where it was reported, so every stage before the result is met.
    "resolved_on_spot": frozenset(Stage) - {Stage.VERIFY} - PARTY_STAGES,
}
# Events that stop clocks without completing them.
_ALL = frozenset(Stage)
CANCELLED_BY: dict[str, frozenset[str]] = {
    "returned": frozenset({Stage.SIGN, Stage.OBJECTION, Stage.NOTICE}),
    "escalated": _ALL - {Stage.ASSIGN},
    "diverted": frozenset({Stage.HANDLE, Stage.NOTICE}),
    # Performance monitoring starts without a judicial confirmation: the parties let the window go.
    "performance_monitored": frozenset({Stage.JUDICIAL_CONFIRMATION, Stage.PARTY_RESPONSE}),
    "declined": _ALL,
    "closed": _ALL - {Stage.VERIFY},
    "archived": _ALL,
}
# Events that start the stages whose policy names them (the policy's start events), plus aliases. The parties'
# periods (`PARTY_STAGES`: the other party's answer, the judicial-confirmation window) are started by the
# mediation's actions (`yidi.mediation.clocks`), which know when a notice went out or an agreement took effect.
STARTS: dict[str, frozenset[str]] = {
    "registered": frozenset({"registered"}),
    "accepted": frozenset({"accepted"}),
    "assigned": frozenset({"assigned"}),
    "signed": frozenset({"signed"}),
    "concluded": frozenset({"concluded"}),
    "resolved_on_spot": frozenset({"concluded"}),
    "closed": frozenset({"closed"}),
    # 重办: the handling clock starts again from the reopening.
    "reopened": frozenset({"signed", "accepted"}),
    # 上报提级: the higher level gets the stage's full limit from the escalation, whatever event started the
    # lower level's clock (which the escalation cancelled); an assign clock, where the policy has one, too.
    "escalated": frozenset(StartEvent),
}
# Events that start only some of the stages their start events name.
RESTARTED_STAGES: dict[str, frozenset[str]] = {
    "reopened": frozenset({Stage.HANDLE}),
    "escalated": frozenset({Stage.ASSIGN, Stage.HANDLE}),
}


def policy_for(case: Case) -> DeadlinePolicy | None:
    """The policy the routing rule followed at assignment named (`Case.routed_policy`), if it still exists;
    otherwise the most specific policy of the table."""
    if case.routed_policy:
        for policy in worktime.policies():
            if policy.id == case.routed_policy:
                return policy
    try:
        return select_policy(
            worktime.policies(),
            channel=case.channel.group,
            request_type=case.request_type,
            level=case.handling_level or None,
            dispute_type=case.primary_type.code if case.primary_type_id else None,
        )
    except NoPolicyMatched:
        return None


def calendar_for(case: Case) -> WorkingCalendar:
    return worktime.calendar(case.lead_unit.code if case.lead_unit_id else "")


def _pauses(deadline: CaseDeadline) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(start), datetime.fromisoformat(end)) for start, end in deadline.pauses if end]


def _limit_of(deadline: CaseDeadline) -> StageLimit:
    for policy in worktime.policies():
        if policy.id == deadline.policy_code:
            limit = policy.stage_limit(Stage(deadline.stage))
            if limit is not None:
                return limit
    # The policy was edited or switched off since the clock started: keep the clock's own numbers.
    return StageLimit(
        stage=Stage(deadline.stage), limit=deadline.limit_days, unit=DayUnit(deadline.day_unit),
        start_event=StartEvent.REGISTERED, yellow_days_before=0, red_days_before=0,
    )


def recompute(deadline: CaseDeadline, calendar: WorkingCalendar) -> None:
    """Set due, yellow and red instants from the start, the limit, the pauses and approved extensions."""
    limit = _limit_of(deadline)
    limit = StageLimit(
        stage=limit.stage, limit=deadline.limit_days, unit=DayUnit(deadline.day_unit),
        start_event=limit.start_event, yellow_days_before=limit.yellow_days_before,
        red_days_before=limit.red_days_before, max_extension_days=limit.max_extension_days,
    )
    computed = stage_deadline(
        deadline.started_at, limit, calendar, pauses=_pauses(deadline), extension_days=deadline.extension_days
    )
    deadline.due_at, deadline.yellow_at, deadline.red_at = computed.due_at, computed.yellow_at, computed.red_at


SUMMARY_FIELDS = ["due_at", "deadline_state", "next_deadline_at", "deadline_policy"]


def on_case_event(case: Case, event: str, *, at: datetime, save: bool = True) -> None:
    """Complete, cancel and start the matter's clocks for a lifecycle event, then refresh its summary.

    With `save=False` the summary fields (`SUMMARY_FIELDS`) are only set on `case`, for the caller's own save.
    """
    running = []
    for deadline in case.deadlines.filter(met_at=None, cancelled_at=None):
        if deadline.stage in COMPLETED_BY.get(event, ()):
            deadline.met_at = at
            deadline.save(update_fields=["met_at"])
        elif deadline.stage in CANCELLED_BY.get(event, ()) or (
            event == "reopened" and deadline.stage in RESTARTED_STAGES["reopened"]
        ):
            deadline.cancelled_at = at
            deadline.save(update_fields=["cancelled_at"])
        else:
            running.append(deadline)
    policy = policy_for(case)
    case.deadline_policy = policy.id if policy else ""
    if policy is not None and event in STARTS:
        running_stages = {d.stage for d in running}
        calendar = calendar_for(case)
        for limit in policy.stages:
            if limit.start_event not in STARTS[event] or limit.stage in running_stages:
                continue
            if event in RESTARTED_STAGES and limit.stage not in RESTARTED_STAGES[event]:
                continue
            deadline = CaseDeadline(
                case=case, stage=limit.stage, policy_code=policy.id, day_unit=limit.unit, limit_days=limit.limit,
                started_at=at,
            )
            recompute(deadline, calendar)
            deadline.state = deadline_state(at, deadline.due_at, deadline.yellow_at, deadline.red_at)
            deadline.save()
            running.append(deadline)
    refresh_summary(case, now=at, running=running, save=save)


_STATE_RANK = {"": -1, "green": 0, "yellow": 1, "red": 2, "overdue": 3}


def as_stage_deadline(deadline: CaseDeadline) -> StageDeadline:
    return StageDeadline(
        stage=Stage(deadline.stage), due_at=deadline.due_at, yellow_at=deadline.yellow_at, red_at=deadline.red_at
    )


def due_effects(deadline: CaseDeadline, *, now: datetime, calendar: WorkingCalendar) -> list[EscalationRule]:
    """The 督办 ladder's effects now due on this clock and not yet applied to it."""
    state = deadline_state(now, deadline.due_at, deadline.yellow_at, deadline.red_at)
    unit = DayUnit(deadline.day_unit)
    return next_effects(
        worktime.escalation_rules(), policy_id=deadline.policy_code, stage=Stage(deadline.stage), state=state,
        overdue_days=overdue_days(now, deadline.due_at, unit, calendar),
        applied={(Stage(deadline.stage), Effect(code)) for code in deadline.applied},
    )


def refresh_summary(
    case: Case, *, now: datetime, running: list[CaseDeadline] | None = None, save: bool = True
) -> None:
    """The matter's soonest due date, worst state and next sweep instant, from its running clocks.

    The next sweep instant is `now` when a clock has effects due that were not applied yet, otherwise the
    soonest instant at which a clock's state or due effects can change. The parties' periods
    (`PARTY_STAGES`) are swept like the others but never set the matter's due date or state.
    """
    calendar = calendar_for(case)
    rules = worktime.escalation_rules()
    due, worst, next_check = None, "", None
    if running is None:
        running = list(case.deadlines.filter(met_at=None, cancelled_at=None))
    for deadline in running:
        if deadline.is_paused:
            continue
        if deadline.stage not in PARTY_STAGES:
            state = deadline_state(now, deadline.due_at, deadline.yellow_at, deadline.red_at)
            due = deadline.due_at if due is None else min(due, deadline.due_at)
            worst = state if _STATE_RANK[state] > _STATE_RANK[worst] else worst
        if due_effects(deadline, now=now, calendar=calendar):
            check = now
        else:
            check = next_check_at(
                now, as_stage_deadline(deadline), DayUnit(deadline.day_unit), calendar,
                rules=rules, policy_id=deadline.policy_code,
            )
        if check is not None:
            next_check = check if next_check is None else min(next_check, check)
    case.due_at, case.deadline_state, case.next_deadline_at = due, str(worst), next_check
    if save:
        Case.objects.filter(pk=case.pk).update(
            due_at=due, deadline_state=str(worst), next_deadline_at=next_check, deadline_policy=case.deadline_policy
        )
