"""Evaluations (评价) and return visits (回访). Each `do_*` is one use case in one transaction; the timeline
listener `on_case_event` keeps this app's rows in step with the matter's events, whatever wrote them.

The listener (registered in `EvaluationConfig.ready`), inside the action's transaction:
- `evaluate`: keeps the evaluation (one per round) and applies `domain.reopen_decision` — a 不满意 reopens the
  matter by rule (a system REOPEN right after the evaluation), or waits for the supervisor (待督查研判);
- the matter reaching a result, `close`, `add_obligation`: schedules the matter's return visit by its rule,
  one `schedule_return_visit` row each time a visit is scheduled or its due date moves;
- `reopen`: cancels the open visits of the old round (no extra row: the reopening says it) and settles a
  dissatisfied evaluation that waited for review; `close` and `archive` settle it too (closed off);
- `record_return_visit` written from the matter page: completes the round's visit.
It ignores this app's own events, so it never recurses.
"""

from datetime import timedelta

from django.db import transaction

from yidi.accounts import access
from yidi.accounts.domain import Role
from yidi.cases import actions as case_actions
from yidi.cases import deadlines
from yidi.cases.actions import add_event, audit_case, finish_transition, side_event
from yidi.cases.domain import (
    CLOCK_EVENTS,
    STATUS_LABELS,
    CaseAction,
    CaseStatus,
    IllegalTransition,
    InvalidInput,
    RuleViolation,
    next_status,
)
from yidi.cases.domain import Evaluation as Result
from yidi.cases.models import Assignment, AssignmentRole, AssignmentStatus, Case, CaseEvent
from yidi.core import clock
from yidi.core.deadlines import DayUnit, local_date
from yidi.evaluation import conf, domain, queries
from yidi.evaluation.domain import (
    LAWSUIT_LABELS,
    PERFORMANCE_LABELS,
    SATISFACTION_LABELS,
    VISIT_METHOD_LABELS,
    EvaluationMethod,
    ReviewState,
    Trigger,
    VisitFacts,
    VisitRecord,
    VisitRule,
    VisitStatus,
)
from yidi.evaluation.models import Evaluation, ReturnVisit, ReturnVisitRule

SYSTEM_NAME = "系统（评价回访）"
SCHEDULE = "schedule_return_visit"
CANCEL = "cancel_return_visit"
RISK = "return_visit_risk"
OWN_EVENTS = frozenset({SCHEDULE, CANCEL, RISK})


# --- the citizen's evaluation (called by the portal) ---------------------------------------------------------


def _check_round_open(case: Case) -> None:
    if queries.get_round_evaluation(case) is not None:
        raise RuleViolation("本轮已评价，不能重复评价；如有不同意见，可联系办理单位或督查人员")


@transaction.atomic
def do_evaluate_by_citizen(code: str, *, actor, evaluation: str, note: str = "") -> Case:
    """The person evaluates the result through the portal (the portal has checked their phone for this matter).

    - `actor` is the portal's service account (role citizen, no case scope): the matter is locked by its code;
    - the status must allow an evaluation (after the result, or after closing), within
      `YIDI_EVALUATION_WINDOW_DAYS` of closing (or of the result while not closed);
    - one evaluation per round; 不满意 needs the person's words;
    - 不满意 then reopens the matter by rule, in this transaction (see `on_case_event`).
    """
    if actor is None or Role.CITIZEN not in actor.role_set:
        raise access.ActionDenied("只有群众服务通道可以提交群众自评")
    note = note.strip()
    if problem := domain.check_evaluation_input(evaluation, note):
        raise InvalidInput("note" if evaluation == Result.DISSATISFIED else "evaluation", problem)
    try:
        case = Case.objects.select_for_update(of=("self",)).select_related("channel", "lead_unit").get(code=code)
    except Case.DoesNotExist:
        raise access.CaseNotFound("事项不存在") from None
    before = case.status
    try:
        after = next_status(case.status_enum, CaseAction.EVALUATE)
    except IllegalTransition:
        raise RuleViolation(f"事项当前“{STATUS_LABELS[case.status_enum]}”，暂不能评价") from None
    _check_round_open(case)
    closes_at = domain.evaluation_window_closes_at(
        concluded_at=case.concluded_at, closed_at=case.closed_at, window_days=conf.window_days())
    if closes_at is None or clock.now() > closes_at:
        last = local_date(closes_at) if closes_at else None
        when = f"，本事项已于{last.year}年{last.month}月{last.day}日截止" if last else ""
        raise RuleViolation(f"评价期限已过（办结之日起{conf.window_days()}日内可评价{when}）")
    case.evaluation = Result(evaluation)
    return finish_transition(
        case, CaseAction.EVALUATE, actor=actor, from_status=before, to_status=after, fields=["evaluation"],
        reason=note, data={"evaluation": evaluation, "on_behalf": False, "method": EvaluationMethod.ONLINE.value},
    )


# --- the timeline listener ---------------------------------------------------------------------------------------


def on_case_event(case: Case, event: CaseEvent) -> None:
    """React to a timeline row of `case` (see the module docstring). Runs inside the action's transaction."""
    action = event.action
    if action in OWN_EVENTS:
        return
    if action == CaseAction.EVALUATE:
        _keep_evaluation(case, event)
    elif action == CaseAction.REOPEN:
        _after_reopen(case, event)
    elif action in (CaseAction.CLOSE, CaseAction.ARCHIVE):
        _settle_reviews(case, ReviewState.CLOSED_OFF, at=event.at)
        if action == CaseAction.ARCHIVE:
            _cancel_on_archive(case, event)
    elif action == CaseAction.RECORD_RETURN_VISIT and not event.data.get("return_visit_id"):
        _complete_from_timeline(case, event)
    if action == CaseAction.CLOSE:
        _schedule(case, event, Trigger.CLOSED)
    elif event.to_status == CaseStatus.CONCLUDED and event.from_status != CaseStatus.CONCLUDED:
        _schedule(case, event, Trigger.CONCLUDED)
        _schedule(case, event, Trigger.PERFORMANCE_DUE)
    elif action == "add_obligation":
        _schedule(case, event, Trigger.PERFORMANCE_DUE)


def _system_event(case: Case, action: str, *, reason: str, data: dict) -> None:
    """One timeline row by the system (评价回访) that keeps the status: the version moves once."""
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    add_event(case, action, actor=None, from_status=case.status, reason=reason, data=data, system_name=SYSTEM_NAME)
    audit_case(case, action, actor=None, fields=["return_visits"], reason=reason, data=data)


# evaluations ------------------------------------------------------------------------------------------------------


def _keep_evaluation(case: Case, event: CaseEvent) -> None:
    result = event.data.get("evaluation", "")
    round_number = queries.current_round(case)
    if Evaluation.objects.filter(case=case, round=round_number).exists():
        raise RuleViolation("本轮已评价，不能重复评价")
    method = event.data.get("method") or (
        EvaluationMethod.PHONE if event.data.get("on_behalf", True) else EvaluationMethod.ONLINE)
    decision = domain.reopen_decision(result, event.reason, round_number - 1, conf.max_auto_reopens())
    evaluation = Evaluation.objects.create(
        case=case, round=round_number, result=result, note=event.reason, method=method,
        person_id=event.data.get("person_id"), recorded_by=event.actor, recorded_at=event.at,
        unit_id=case.lead_unit_id, event_seq=event.seq, review_state=decision.review_state,
        review_note=decision.reason if decision.review_state == ReviewState.AWAITING else "",
    )
    if decision.reopen:
        if _reopen_by_rule(case, reason=decision.reason, evaluation=evaluation):
            evaluation.reviewed_at = clock.now()
            evaluation.save(update_fields=["reviewed_at"])
        else:
            evaluation.review_state = ReviewState.AWAITING
            evaluation.review_note = "事项无主办单位，不能自动重办，待督查研判"
            evaluation.save(update_fields=["review_state", "review_note"])


def _reopen_by_rule(case: Case, *, reason: str, evaluation: Evaluation) -> bool:
    """重办 by rule (system actor): the last lead unit takes the matter again, signed for, as `do_reopen_case`
    does; False when the matter never had a lead unit (left to the supervisor)."""
    last_lead = Assignment.objects.filter(case=case, role=AssignmentRole.LEAD).order_by("-assigned_at", "-id").first()
    if last_lead is None:
        return False
    before = case.status
    after = next_status(case.status_enum, CaseAction.REOPEN)
    now = clock.now()
    Assignment.objects.filter(case=case, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).update(
        status=AssignmentStatus.ENDED, ended_at=now
    )
    Assignment.objects.create(
        case=case, unit_id=last_lead.unit_id, role=AssignmentRole.LEAD, status=AssignmentStatus.SIGNED,
        assigned_at=now, assigned_by_id=last_lead.assigned_by_id, signed_at=now, note=f"重办（按评价规则）：{reason}",
    )
    case.lead_unit_id, case.closed_at, case.outcome, case.evaluation = last_lead.unit_id, None, "", ""
    fields = ["lead_unit", "closed_at", "outcome", "evaluation"]
    case.status = after
    case.version += 1
    deadlines.on_case_event(case, CLOCK_EVENTS[CaseAction.REOPEN], at=now, save=False)
    case.save(update_fields=["status", "version", "updated_at", *fields, *deadlines.SUMMARY_FIELDS])
    data = {"by_rule": True, "evaluation_round": evaluation.round, "lead_unit_name": last_lead.unit.name}
    add_event(case, CaseAction.REOPEN, actor=None, from_status=before, reason=reason, data=data,
              system_name=SYSTEM_NAME)
    audit_case(case, CaseAction.REOPEN, actor=None, fields=["status", *fields], reason=reason, data=data)
    return True


def _settle_reviews(case: Case, state: ReviewState, *, at) -> None:
    """A dissatisfied evaluation that waited for review leaves the supervisor's list: reopened or closed off."""
    Evaluation.objects.filter(case=case, review_state=ReviewState.AWAITING).update(review_state=state, reviewed_at=at)


def _after_reopen(case: Case, event: CaseEvent) -> None:
    _settle_reviews(case, ReviewState.REOPENED, at=event.at)
    ReturnVisit.objects.filter(case=case, status=VisitStatus.SCHEDULED).update(
        status=VisitStatus.CANCELLED, cancelled_at=event.at, cancel_reason="事项重办，本轮回访取消"
    )


def _cancel_on_archive(case: Case, event: CaseEvent) -> None:
    """An archived matter takes no more steps: a visit still open is cancelled with the reason (as a reopening
    does; the archive's own timeline row is the one step recorded)."""
    ReturnVisit.objects.filter(case=case, status=VisitStatus.SCHEDULED).update(
        status=VisitStatus.CANCELLED, cancelled_at=event.at, cancel_reason="事项已归档，未完成的回访取消"
    )


# scheduling -------------------------------------------------------------------------------------------------------


def _rules() -> list[VisitRule]:
    return [
        VisitRule(
            id=rule.pk, name=rule.name, trigger=Trigger(rule.trigger), offset_days=rule.offset_days,
            day_unit=DayUnit(rule.day_unit), channel_group=rule.channel_group, handling_mode=rule.handling_mode,
            outcome=rule.outcome, priority=rule.priority, no_obligation_offset_days=rule.no_obligation_offset_days,
        )
        for rule in ReturnVisitRule.objects.filter(is_active=True)
    ]


def _performance_dates(case: Case):
    """(the due dates of the latest effective agreement's obligations, the agreement's date) of a mediation."""
    from yidi.mediation.models import Agreement

    agreement = (
        Agreement.objects.filter(mediation__case=case, effective_at__isnull=False).order_by("-effective_at", "-id")
        .first()
    )
    if agreement is None:
        return [], local_date(case.concluded_at) if case.concluded_at else None
    return list(agreement.obligations.values_list("due_on", flat=True)), local_date(agreement.effective_at)


def _schedule(case: Case, event: CaseEvent, trigger: Trigger) -> None:
    """Schedule (or move) the round's visit of the matter's rule, when the rule's trigger is this event."""
    facts = VisitFacts(channel_group=case.channel.group, handling_mode=case.handling_mode, outcome=case.outcome)
    rule = domain.select_rule(facts, _rules())
    if rule is None or rule.trigger != trigger:
        return
    obligations, agreement_on = _performance_dates(case) if trigger == Trigger.PERFORMANCE_DUE else ([], None)
    due = domain.due_on(rule, event_on=local_date(event.at), calendar=deadlines.calendar_for(case),
                        obligation_due_dates=obligations, agreement_on=agreement_on)
    visit, created = ReturnVisit.objects.get_or_create(
        case=case, rule_id=rule.id, round=queries.current_round(case), follow_up_of=None,
        defaults={"due_on": due, "unit_id": case.lead_unit_id, "region_id": case.region_id, "scheduled_at": event.at},
    )
    if not created:
        if visit.status != VisitStatus.SCHEDULED or visit.due_on == due:
            return
        visit.due_on = due
        visit.save(update_fields=["due_on"])
    verb = "安排回访" if created else "调整回访日期"
    _system_event(case, SCHEDULE, reason=f"按规则“{rule.name}”{verb}，应于{due:%Y-%m-%d}前完成", data={
        "return_visit_id": visit.pk, "due_on": due.isoformat(), "rule": rule.name, "rescheduled": not created})


def _complete_from_timeline(case: Case, event: CaseEvent) -> None:
    """A return visit recorded on the matter page completes the round's earliest open visit."""
    visit = (
        ReturnVisit.objects.select_for_update().filter(case=case, status=VisitStatus.SCHEDULED)
        .order_by("follow_up_of_id", "due_on", "id").first()
    )
    if visit is None:
        return
    visit.status, visit.done_at, visit.done_by_id, visit.summary = VisitStatus.DONE, event.at, event.actor_id, event.reason
    visit.save(update_fields=["status", "done_at", "done_by", "summary"])


# --- recording a visit, and what it escalates ---------------------------------------------------------------------


def _lock_visit(visit_id: int, *, actor) -> tuple[Case, ReturnVisit]:
    """The visit in `actor`'s scope (404 otherwise), with its matter locked first, then the visit."""
    visit = queries.get_visit_for_user(actor, visit_id)
    case = access.get_case_for_user(actor, visit.case.code, for_update=True)
    return case, ReturnVisit.objects.select_for_update().get(pk=visit.pk)


RECORD_FIELDS = ("method", "summary", "performance", "satisfaction", "lawsuit", "lawsuit_note", "risk_remaining",
                 "risk_signs", "measures")


@transaction.atomic
def do_record_return_visit(
    visit_id: int, *, actor, method: str, summary: str, performance: str = domain.Performance.NOT_APPLICABLE,
    satisfaction: str = domain.Satisfaction.NOT_STATED, lawsuit: str = domain.Lawsuit.NONE, lawsuit_note: str = "",
    risk_remaining: bool = False, risk_signs: str = "", measures: str = "",
) -> ReturnVisit:
    """Record a scheduled visit (回访记录): performance, satisfaction, any lawsuit, remaining risk, measures.

    - the matter's lifecycle step (or side action after closing) is `cases.actions.do_record_return_visit`;
    - remaining risk: a `return_visit_risk` row with the signs, a follow-up visit in `YIDI_RISK_FOLLOW_UP_DAYS`,
      and the matter on the risk list until a dispatcher records the disposal;
    - a stated satisfaction, when nothing was evaluated this round and the lifecycle allows it, is recorded as
      the evaluation (method: return visit) — a 不满意 then reopens by rule like any other.
    """
    record = VisitRecord(
        method=method, summary=summary.strip(), performance=performance, satisfaction=satisfaction, lawsuit=lawsuit,
        lawsuit_note=lawsuit_note.strip(), risk_remaining=risk_remaining, risk_signs=risk_signs.strip(),
        measures=measures.strip(),
    )
    case, visit = _lock_visit(visit_id, actor=actor)
    if not actor.role_set & queries.RECORD_ROLES:
        raise access.ActionDenied("您的角色无权登记回访")
    if visit.status != VisitStatus.SCHEDULED:
        raise RuleViolation(f"该回访{visit.get_status_display()}，不能再登记")
    if problem := domain.check_visit_record(record):
        raise InvalidInput(*problem)
    facts = (f"履行情况：{PERFORMANCE_LABELS[domain.Performance(record.performance)]}；"
             f"满意度：{SATISFACTION_LABELS[domain.Satisfaction(record.satisfaction)]}；"
             f"{LAWSUIT_LABELS[domain.Lawsuit(record.lawsuit)]}")
    case = case_actions.do_record_return_visit(case.code, actor=actor, summary=record.summary, data={
        "return_visit_id": visit.pk, "method": VISIT_METHOD_LABELS[domain.VisitMethod(record.method)],
        "result": facts, "performance": record.performance, "satisfaction": record.satisfaction,
        "lawsuit": record.lawsuit, "risk_remaining": record.risk_remaining,
    })
    now = clock.now()
    for name in RECORD_FIELDS:
        setattr(visit, name, getattr(record, name))
    visit.status, visit.done_at, visit.done_by = VisitStatus.DONE, now, actor
    visit.save(update_fields=[*RECORD_FIELDS, "status", "done_at", "done_by"])
    if record.risk_remaining:
        _escalate_risk(case, visit, actor=actor)
    if record.satisfaction != domain.Satisfaction.NOT_STATED:
        _evaluate_from_visit(case, visit, actor=actor)
    return visit


def _escalate_risk(case: Case, visit: ReturnVisit, *, actor) -> None:
    due = local_date(clock.now()) + timedelta(days=conf.risk_follow_up_days())
    follow_up = ReturnVisit.objects.create(
        case=case, rule=None, round=visit.round, due_on=due, unit_id=visit.unit_id, region_id=case.region_id,
        scheduled_at=clock.now(), follow_up_of=visit,
    )
    side_event(case, RISK, actor=actor, reason=visit.risk_signs, audit_fields=["return_visits"], data={
        "return_visit_id": visit.pk, "follow_up_id": follow_up.pk, "follow_up_on": due.isoformat(),
        "result": f"风险迹象：{visit.risk_signs}；措施：{visit.measures}；{due:%Y-%m-%d}前跟进回访"})


def _evaluate_from_visit(case: Case, visit: ReturnVisit, *, actor) -> None:
    if queries.get_round_evaluation(case) is not None:
        return
    try:
        after = next_status(case.status_enum, CaseAction.EVALUATE)
    except IllegalTransition:
        return
    case.evaluation = Result(visit.satisfaction)
    finish_transition(
        case, CaseAction.EVALUATE, actor=actor, from_status=case.status, to_status=after, fields=["evaluation"],
        reason=visit.summary, data={"evaluation": visit.satisfaction, "on_behalf": True,
                                    "method": EvaluationMethod.RETURN_VISIT.value, "return_visit_id": visit.pk},
    )


@transaction.atomic
def do_acknowledge_risk(visit_id: int, *, actor, measures: str) -> ReturnVisit:
    """A dispatcher records how the risk a visit found was dealt with; the matter leaves the risk list."""
    measures = measures.strip()
    case, visit = _lock_visit(visit_id, actor=actor)
    if not actor.role_set & queries.RISK_DISPOSAL_ROLES:
        raise access.ActionDenied("只有指挥调度员可以登记风险处置")
    if not visit.risk_remaining:
        raise RuleViolation("该回访未发现风险隐患")
    if visit.risk_disposed_at is not None:
        raise RuleViolation("该风险已登记处置")
    if not measures:
        raise InvalidInput("measures", "请填写风险处置措施")
    visit.risk_disposed_at, visit.risk_disposed_by, visit.risk_disposal = clock.now(), actor, measures
    visit.save(update_fields=["risk_disposed_at", "risk_disposed_by", "risk_disposal"])
    side_event(case, RISK, actor=actor, reason=f"风险处置：{measures}", audit_fields=["return_visits"],
               data={"return_visit_id": visit.pk, "disposed": True})
    return visit

