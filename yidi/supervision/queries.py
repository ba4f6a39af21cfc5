"""Reads for alerts and the command view, always within the user's visibility.

Who sees an alert (`alert_scope`, the alert counterpart of `accounts.access.case_scope`):
- only staff holding a case-reading role (`accounts.access.can_read_cases`);
- people of a region-wide unit (centre, command desk, township centre and platforms, village committee) and the
  region's dispatchers, supervisors and leaders see the alerts located in their unit's region — a township's
  people see only their township's (and its villages') alerts;
- people of other units (departments …) see the alerts in their region whose dispute type their responsibility
  list names;
- everyone sees the alerts their unit or they themselves own, and those on which their unit was given a task.
An alert outside this scope is "not found" (404). The matters inside an alert are listed only as far as
`accounts.access.visible_cases` lets the user see them; the others are counted.
"""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from yidi.accounts import access
from yidi.accounts.domain import REGION_OVERSIGHT_ROLES, REGION_WIDE_KINDS, UnitKind
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.regions.domain import code_range
from yidi.supervision.domain import STATUS_LABELS, Actor, AlertFacts, AlertStatus, oversees
from yidi.supervision.models import Alert, AlertCase, AlertEvent, CommandInstruction, CommandTask, TaskStatus


class AlertNotFound(Http404):
    pass


def actor_of(user) -> Actor:
    unit = user.unit if user.unit_id else None
    return Actor(
        roles=user.role_set, unit_id=user.unit_id, unit_region=unit.region_id if unit else "", user_id=user.pk
    )


def facts_of(alert: Alert) -> AlertFacts:
    return AlertFacts(region=alert.region_id, owner_unit_id=alert.owner_unit_id, owner_user_id=alert.owner_user_id)


def alert_scope(user) -> Q:
    if not access.can_read_cases(user):
        return Q(pk__in=[])
    unit = user.unit
    low, high = code_range(unit.region_id)
    in_region = Q(region_id__gte=low, region_id__lt=high)
    own = (
        Q(owner_unit_id=unit.pk) | Q(owner_user_id=user.pk)
        | Q(pk__in=CommandTask.objects.filter(unit_id=unit.pk).values("alert_id"))
    )
    if UnitKind(unit.kind) in REGION_WIDE_KINDS or user.role_set & REGION_OVERSIGHT_ROLES:
        return in_region | own
    return (in_region & Q(dispute_type_id__in=unit.responsibilities.values("dispute_type_id"))) | own


def visible_alerts(user) -> QuerySet:
    return Alert.objects.filter(alert_scope(user))


def can_see_alerts(user) -> bool:
    return access.can_read_cases(user)


def get_alert_for_user(user, alert_id: int, *, for_update: bool = False) -> Alert:
    queryset = visible_alerts(user).select_related("region", "dispute_type", "owner_unit", "owner_user")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.get(pk=alert_id)
    except Alert.DoesNotExist:
        raise AlertNotFound("预警不存在或无权查看") from None


def unseen_case_codes(user, codes: list[str]) -> list[str]:
    """The codes among `codes` of matters that do not exist or that the user may not see, in the order given."""
    seen = set(access.visible_cases(user).filter(code__in=codes).values_list("code", flat=True))
    return [code for code in dict.fromkeys(codes) if code not in seen]


def list_alerts(user, *, status: str = "", severity: str = "", kind: str = "", region: str = "") -> QuerySet:
    alerts = visible_alerts(user).select_related("region", "dispute_type", "owner_unit")
    if status:
        alerts = alerts.filter(status=status)
    if severity:
        alerts = alerts.filter(severity=severity)
    if kind:
        alerts = alerts.filter(kind=kind)
    if region:
        low, high = code_range(region)
        alerts = alerts.filter(region_id__gte=low, region_id__lt=high)
    return alerts.annotate(case_count=Count("alert_cases")).order_by("-detected_at", "-id")


def count_by_status(user, *, severity: str = "", kind: str = "", region: str = "") -> list[dict]:
    """Per status: its code, label and how many visible alerts (with the other filters) are in it."""
    rows = dict(
        list_alerts(user, severity=severity, kind=kind, region=region).order_by()
        .values_list("status").annotate(n=Count("id", distinct=True)).values_list("status", "n")
    )
    return [{"status": status.value, "label": STATUS_LABELS[status], "count": rows.get(status.value, 0)}
            for status in AlertStatus]


@dataclass
class AlertCases:
    visible: list  # Case rows the user may see, with region, type, lead unit
    hidden_count: int  # matters in the alert outside the user's scope


def alert_cases_for_user(user, alert: Alert) -> AlertCases:
    ids = list(AlertCase.objects.filter(alert=alert).values_list("case_id", flat=True))
    visible = list(
        access.visible_cases(user).filter(pk__in=ids)
        .select_related("region", "region__parent", "primary_type", "lead_unit").order_by("registered_at", "id")
    )
    return AlertCases(visible=visible, hidden_count=len(ids) - len(visible))


def list_alert_events(alert: Alert) -> list[AlertEvent]:
    return list(alert.events.select_related("actor_unit").order_by("seq"))


# --- the command view ------------------------------------------------------------------------------------


@dataclass
class TimelineItem:
    at: object
    label: str
    actor_name: str
    unit_name: str
    reason: str
    detail: str
    case_code: str = ""


def merged_timeline(alert: Alert, cases: list[Case], *, limit: int = 200) -> list[TimelineItem]:
    """The alert's steps and the timelines of the matters the user sees in it, newest first."""
    items = [
        TimelineItem(e.at, f"预警 · {e.label}", e.actor_name, e.unit_name, e.note, e.detail)
        for e in list_alert_events(alert)
    ]
    codes = {case.pk: case.code for case in cases}
    events = (
        CaseEvent.objects.filter(case_id__in=list(codes)).select_related("actor_unit").order_by("-at", "-id")[:limit]
    )
    items += [
        TimelineItem(e.at, f"{codes[e.case_id]} · {e.label}", e.actor_name, e.unit_name, e.reason, e.detail,
                     codes[e.case_id])
        for e in events
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def units_involved(cases: list[Case], tasks: list[CommandTask]) -> list[dict]:
    """The units on the matters (active lead and co-units) and those given tasks, with what each does."""
    from yidi.cases.models import ACTIVE_ASSIGNMENT, Assignment

    units: dict[int, dict] = {}
    for assignment in Assignment.objects.filter(ACTIVE_ASSIGNMENT, case_id__in=[c.pk for c in cases]).select_related(
        "unit"
    ):
        row = units.setdefault(assignment.unit_id, {"unit": assignment.unit, "lead": 0, "co": 0, "tasks": 0,
                                                     "open_tasks": 0})
        row["lead" if assignment.role == "lead" else "co"] += 1
    for task in tasks:
        row = units.setdefault(task.unit_id, {"unit": task.unit, "lead": 0, "co": 0, "tasks": 0, "open_tasks": 0})
        row["tasks"] += 1
        row["open_tasks"] += task.status == TaskStatus.OPEN
    return sorted(units.values(), key=lambda row: (-row["lead"] - row["co"], row["unit"].name))


def list_tasks(alert: Alert) -> list[CommandTask]:
    return list(alert.tasks.select_related("unit", "assigned_by", "done_by").order_by("due_at", "id"))


def list_instructions(alert: Alert) -> list[CommandInstruction]:
    return list(alert.instructions.select_related("given_by").order_by("-given_at", "-id"))


def is_task_visible(user, task_id: int) -> bool:
    """A command task of an alert the user may see (others answer 404, like a task that does not exist)."""
    return CommandTask.objects.filter(pk=task_id, alert__in=visible_alerts(user)).exists()


def list_unit_tasks(user, *, status: str = "") -> QuerySet:
    """The command tasks given to the user's unit (我的指挥任务), open ones first by deadline."""
    if not user.unit_id or not access.can_read_cases(user):
        return CommandTask.objects.none()
    tasks = CommandTask.objects.filter(unit_id=user.unit_id).select_related(
        "alert", "alert__region", "alert__owner_unit", "assigned_by", "done_by", "unit"
    )
    if status:
        tasks = tasks.filter(status=status)
    return tasks.order_by("-status", "due_at", "id")  # "open" sorts after "done": descending puts it first


def now():
    return clock.now()


def may_raise_manual(user) -> bool:
    """人工上报: the rule of `actions.do_raise_manual_alert` over the user's own region (a dispatcher, supervisor or
    leader of a unit with a region); the action then checks the matters' region."""
    actor = actor_of(user)
    return can_see_alerts(user) and oversees(actor, actor.unit_region)


def case_page_link(case, user) -> tuple[str, str] | None:
    """The matter page's link to raise an alert over it, for those who may."""
    if not may_raise_manual(user):
        return None
    return "上报风险预警", f"{reverse('alert_new')}?cases={case.code}"
