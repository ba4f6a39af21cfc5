"""Reads for supervision of deadlines: the 督办 list and overdue matters by unit and by township."""

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from yidi.accounts.access import visible_cases
from yidi.cases.domain import OPEN_STATUSES
from yidi.cases.models import Urging
from yidi.regions.models import Region

SUPERVISION_ROLES = frozenset({"supervisor", "leader", "dispatcher"})


def can_supervise(user) -> bool:
    return user.is_authenticated and bool(user.role_set & SUPERVISION_ROLES)


def list_urgings(user, *, level: str = "") -> QuerySet:
    urgings = Urging.objects.filter(case__in=visible_cases(user)).select_related(
        "case", "case__region", "unit", "issued_by"
    )
    if level:
        urgings = urgings.filter(level=level)
    return urgings.order_by("-issued_at", "-id")


def overdue_by_unit(user) -> list[dict]:
    """Open matters per lead unit: how many, how many overdue, how many near their deadline."""
    rows = (
        visible_cases(user)
        .filter(status__in=OPEN_STATUSES, lead_unit__isnull=False)
        .values("lead_unit__code", "lead_unit__name")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(deadline_state="overdue")),
            warning=Count("id", filter=Q(deadline_state__in=["yellow", "red"])),
        )
        .order_by("-overdue", "-warning", "lead_unit__name")
    )
    return list(rows)


def overdue_by_township(user) -> list[dict]:
    rows = (
        visible_cases(user)
        .filter(status__in=OPEN_STATUSES)
        .annotate(township=Substr("region_id", 1, 9))
        .values("township")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(deadline_state="overdue")),
            warning=Count("id", filter=Q(deadline_state__in=["yellow", "red"])),
        )
        .order_by("-overdue", "-warning", "township")
    )
    names = dict(Region.objects.filter(code__in=[r["township"] for r in rows]).values_list("code", "short_name"))
    return [{**row, "name": names.get(row["township"], row["township"])} for row in rows]
