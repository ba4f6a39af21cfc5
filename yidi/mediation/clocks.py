"""The parties' periods of a mediation as clocks on the matter (`CaseDeadline`): the other party's answer and the
30-day window to apply for judicial confirmation (`yidi.core.deadlines.PARTY_STAGES`).

Rules:
- The limits are data: the stage of the matter's own time-limit policy when it has one, otherwise the stage of
  the people's-mediation policy (`STATUTORY_POLICY`), which ships both (admins may change them).
- A clock starts at the event that opens the period (the notice went out, the agreement took effect) and is
  met when the period's step happens (the answer, the application); the sweep warns on it like any clock but it
  never makes the matter late.
The caller saves the matter with `deadlines.SUMMARY_FIELDS` (this module refreshes them on the instance only).
"""

from datetime import datetime

from yidi.cases import deadlines
from yidi.cases.domain import RuleViolation
from yidi.cases.models import STAGE_LABELS, Case, CaseDeadline
from yidi.core import worktime
from yidi.core.deadlines import DeadlinePolicy, Stage, StageLimit, deadline_state

STATUTORY_POLICY = "people_mediation"
PETITION_POLICY = "petition"  # ships the 复查 / 复核 periods
# The policy that holds a stage when the matter's own policy does not.
STATUTORY_POLICIES = {
    Stage.REVIEW_REQUEST: PETITION_POLICY, Stage.REVIEW: PETITION_POLICY,
    Stage.RECHECK_REQUEST: PETITION_POLICY, Stage.RECHECK: PETITION_POLICY,
}


def _policy_and_limit(case: Case, stage: Stage) -> tuple[DeadlinePolicy, StageLimit]:
    own = deadlines.policy_for(case)
    if own is not None and own.stage_limit(stage) is not None:
        return own, own.stage_limit(stage)
    statutory = STATUTORY_POLICIES.get(stage, STATUTORY_POLICY)
    for policy in worktime.policies():
        if policy.id == statutory and policy.stage_limit(stage) is not None:
            return policy, policy.stage_limit(stage)
    where = "信访事项" if statutory == PETITION_POLICY else "人民调解"
    raise RuleViolation(f"时限规则中没有“{STAGE_LABELS[stage]}”阶段，请系统管理员在“{where}”时限规则中配置")


def start(case: Case, stage: Stage, *, at: datetime) -> CaseDeadline:
    """Start the period's clock from `at` (a running one of the same stage is cancelled first)."""
    CaseDeadline.objects.filter(case=case, stage=stage, met_at=None, cancelled_at=None).update(cancelled_at=at)
    policy, limit = _policy_and_limit(case, stage)
    deadline = CaseDeadline(
        case=case, stage=stage, policy_code=policy.id, day_unit=limit.unit, limit_days=limit.limit, started_at=at,
    )
    deadlines.recompute(deadline, deadlines.calendar_for(case))
    deadline.state = deadline_state(at, deadline.due_at, deadline.yellow_at, deadline.red_at)
    deadline.save()
    deadlines.refresh_summary(case, now=at, save=False)
    return deadline


def finish(case: Case, stage: Stage, *, at: datetime, met: bool = True) -> CaseDeadline | None:
    """Stop the period's running clock: met (the step happened) or cancelled (the period no longer matters)."""
    deadline = CaseDeadline.objects.filter(case=case, stage=stage, met_at=None, cancelled_at=None).first()
    if deadline is None:
        return None
    if met:
        deadline.met_at = at
        deadline.save(update_fields=["met_at"])
    else:
        deadline.cancelled_at = at
        deadline.save(update_fields=["cancelled_at"])
    deadlines.refresh_summary(case, now=at, save=False)
    return deadline


def latest(case: Case, stage: Stage) -> CaseDeadline | None:
    """The period's most recent clock, running or not."""
    return CaseDeadline.objects.filter(case=case, stage=stage).order_by("-started_at", "-id").first()
