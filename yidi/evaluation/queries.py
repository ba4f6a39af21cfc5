"""Reads of evaluations and return visits. Every list is scoped by `accounts.access.visible_cases`."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from yidi.accounts.access import can_read_cases, visible_cases
from yidi.accounts.domain import REGION_OVERSIGHT_ROLES, REGION_WIDE_KINDS, Role, UnitKind
from yidi.cases.domain import (
    ACTION_ROLES,
    EVALUATION_LABELS,
    CaseAction,
    CaseStatus,
    IllegalTransition,
    next_status,
)
from yidi.cases.domain import Evaluation as Result
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.core.pagination import LIST_COUNT_CAP
from yidi.evaluation import conf
from yidi.evaluation.domain import (
    EVALUATION_METHOD_LABELS,
    ReviewState,
    VisitStatus,
    evaluation_window_closes_at,
)
from yidi.evaluation.models import Evaluation, ReturnVisit
from yidi.regions.domain import code_range

# Who opens the return-visit worklist: those who record visits, and dispatchers and supervisors (read only).
RECORD_ROLES = ACTION_ROLES[CaseAction.RECORD_RETURN_VISIT]
WORKLIST_ROLES = RECORD_ROLES | {Role.DISPATCHER, Role.SUPERVISOR}
SUPERVISION_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER, Role.DISPATCHER})
RISK_DISPOSAL_ROLES = frozenset({Role.DISPATCHER})


def can_open_worklist(user) -> bool:
    return can_read_cases(user) and bool(user.role_set & WORKLIST_ROLES)


def can_record_visits(user) -> bool:
    return can_read_cases(user) and bool(user.role_set & RECORD_ROLES)


def can_supervise(user) -> bool:
    return can_read_cases(user) and bool(user.role_set & SUPERVISION_ROLES)


def can_dispose_risk(user) -> bool:
    return can_read_cases(user) and bool(user.role_set & RISK_DISPOSAL_ROLES)


# --- rounds and the evaluation window ------------------------------------------------------------------------


def count_reopenings(case: Case) -> int:
    return CaseEvent.objects.filter(case=case, action=CaseAction.REOPEN).count()


def current_round(case: Case) -> int:
    """Evaluations and return visits are counted per round: a reopening (重办) starts a new one."""
    return count_reopenings(case) + 1


def get_round_evaluation(case: Case) -> Evaluation | None:
    return Evaluation.objects.filter(case=case, round=current_round(case)).first()


def evaluation_state(case: Case) -> dict:
    """For the citizen portal: whether the person may evaluate the matter now, and what this round holds.

    Keys: `is_open` (bool), `reason` (why not, Chinese; "" when open), `round`, `closes_at` (aware datetime or
    None), `choices` ([(value, label)] of the results), `recorded` (None, or a dict with `result`, `result_label`,
    `note`, `method`, `method_label`, `recorded_at`, `on_behalf`).
    """
    round_number = current_round(case)
    recorded = Evaluation.objects.filter(case=case, round=round_number).first()
    closes_at = evaluation_window_closes_at(
        concluded_at=case.concluded_at, closed_at=case.closed_at, window_days=conf.window_days()
    )
    reason = ""
    try:
        next_status(CaseStatus(case.status), CaseAction.EVALUATE)
    except IllegalTransition:
        reason = "事项尚未办结，暂不能评价" if recorded is None else "本轮已评价"
    if not reason and recorded is not None:
        reason = "本轮已评价"
    if not reason and (closes_at is None or clock.now() > closes_at):
        reason = "评价期限已过"
    return {
        "is_open": not reason,
        "reason": reason,
        "round": round_number,
        "closes_at": closes_at,
        "choices": [(key.value, label) for key, label in EVALUATION_LABELS.items()],
        "recorded": None if recorded is None else {
            "result": recorded.result,
            "result_label": EVALUATION_LABELS[Result(recorded.result)],
            "note": recorded.note,
            "method": recorded.method,
            "method_label": EVALUATION_METHOD_LABELS.get(recorded.method, recorded.method),
            "recorded_at": recorded.recorded_at,
            "on_behalf": recorded.on_behalf,
        },
    }


# --- return visits -------------------------------------------------------------------------------------------


def visit_scope(user) -> QuerySet:
    """The return visits `user` works on: their unit's, and for region-wide units (and the roles that oversee a
    region) every visit of a matter in their unit's region; always within the matters they may read."""
    if not can_read_cases(user):
        return ReturnVisit.objects.none()
    unit = user.unit
    readable = Exists(visible_cases(user).filter(pk=OuterRef("case_id")))  # by the matter's key, visit by visit
    if UnitKind(unit.kind) in REGION_WIDE_KINDS or user.role_set & REGION_OVERSIGHT_ROLES:
        # Such a user reads every matter of the region (`access.case_scope`), so the region's visits need no
        # look at their matters: each visit holds its matter's region, and its index finds them. Its unit's
        # visits outside the region (few, often none) are looked up first, on their own: joined to the region's
        # by an OR, any form of "the unit's and readable" led PostgreSQL's planner to plans that read every
        # visit or every matter of the county for one page (measured at a million matters, docs/scaling.md).
        low, high = code_range(unit.region_id)
        in_region = Q(region_id__gte=low, region_id__lt=high)
        outside = list(ReturnVisit.objects.filter(Q(region_id__lt=low) | Q(region_id__gte=high), readable,
                                                  unit_id=unit.pk).values_list("pk", flat=True))
        return ReturnVisit.objects.filter(in_region | Q(pk__in=outside))
    return ReturnVisit.objects.filter(Q(unit_id=unit.pk) & Q(readable))


def get_visit_for_user(user, visit_id: int) -> ReturnVisit:
    """The visit if `user` works on it; otherwise `ReturnVisitNotFound` (404), as for one that does not exist."""
    from yidi.accounts.access import CaseNotFound

    visit = visit_scope(user).select_related("case", "case__region", "unit", "rule", "done_by", "follow_up_of").filter(
        pk=visit_id).first()
    if visit is None:
        raise CaseNotFound("回访不存在或无权查看")
    return visit


@dataclass(frozen=True)
class Tab:
    code: str
    label: str


TABS = (Tab("today", "今日到期"), Tab("overdue", "已逾期"), Tab("upcoming", "近7天"), Tab("done", "已完成"))
TAB_CODES = {tab.code for tab in TABS}


def _tab_filter(tab: str, today: date) -> Q:
    scheduled = Q(status=VisitStatus.SCHEDULED)
    return {
        "today": scheduled & Q(due_on=today),
        "overdue": scheduled & Q(due_on__lt=today),
        "upcoming": scheduled & Q(due_on__gt=today, due_on__lte=today + timedelta(days=7)),
        "done": Q(status=VisitStatus.DONE),
    }[tab]


def today() -> date:
    return local_date(clock.now())


def count_worklist(user, *, cap: int = LIST_COUNT_CAP) -> dict[str, int]:
    """The counts of the worklist's tabs: exact for the scheduled visits (today, overdue, the next 7 days: one
    query over the scheduled visits only); the done visits, which only grow, counted up to `cap + 1` (a count
    above `cap` means "more than cap": a county's finished visits run to hundreds of thousands)."""
    on = today()
    visits = visit_scope(user)
    counts = visits.filter(status=VisitStatus.SCHEDULED).aggregate(
        **{tab.code: Count("id", filter=_tab_filter(tab.code, on)) for tab in TABS if tab.code != "done"})
    counts["done"] = visits.filter(_tab_filter("done", on)).order_by()[: cap + 1].count()
    return counts


def list_worklist(user, tab: str) -> QuerySet:
    """The visits of a tab, in its order. The page's rows are chosen from the visits table alone and their
    matters, regions, units and visitors read for them only (prefetched): a tab may hold tens of thousands of
    visits, and joining each of them before sorting cost a quarter of a second at a million matters."""
    visits = visit_scope(user).filter(_tab_filter(tab, today())).prefetch_related(
        "case", "case__region", "unit", "done_by", "follow_up_of")
    if tab == "done":
        return visits.order_by("-done_at", "-id")
    return visits.order_by("due_on", "id")


def list_due_return_visits(user, limit: int = 20) -> list[ReturnVisit]:
    """The scheduled visits `user` works on that are overdue or due within 7 days, soonest first (the grid
    worker's home page). Each row has `case`, `case.region` and `unit` loaded."""
    on = today()
    return list(
        visit_scope(user).filter(status=VisitStatus.SCHEDULED, due_on__lte=on + timedelta(days=7))
        .prefetch_related("case", "case__region", "unit").order_by("due_on", "id")[:limit]
    )  # prefetched: the rows are chosen before their matters are read (see `list_worklist`)


def list_open_risks(user) -> QuerySet:
    """Visits that found remaining risk, until a dispatcher records the disposal (oldest first)."""
    return (
        ReturnVisit.objects.filter(case__in=visible_cases(user), risk_remaining=True, risk_disposed_at=None)
        .select_related("case", "case__region", "unit", "done_by", "follow_up").order_by("done_at", "id")
    )


def list_case_visits(case: Case) -> QuerySet:
    return ReturnVisit.objects.filter(case=case).select_related("unit", "done_by").order_by("round", "due_on", "id")


# --- dissatisfied evaluations --------------------------------------------------------------------------------

DISSATISFIED_FILTERS = {
    "awaiting": ("待督查研判", Q(review_state=ReviewState.AWAITING)),
    "auto_reopened": ("已自动重办", Q(review_state=ReviewState.AUTO_REOPENED)),
    "all": ("全部不满意", Q()),
}


def list_dissatisfied(user, state: str = "awaiting") -> QuerySet:
    condition = DISSATISFIED_FILTERS.get(state, DISSATISFIED_FILTERS["awaiting"])[1]
    return (
        Evaluation.objects.filter(condition, result=Result.DISSATISFIED, case__in=visible_cases(user))
        .select_related("case", "case__region", "unit", "recorded_by").order_by("-recorded_at", "-id")
    )


def count_dissatisfied(user) -> dict[str, int]:
    rows = Evaluation.objects.filter(result=Result.DISSATISFIED, case__in=visible_cases(user))
    return rows.aggregate(**{code: Count("id", filter=condition) for code, (_, condition) in DISSATISFIED_FILTERS.items()})
