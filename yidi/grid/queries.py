"""Reads for the grid workers' pages. Matters always come through `accounts.access.visible_cases`."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from yidi.accounts.access import visible_cases
from yidi.accounts.domain import Role
from yidi.cases.domain import OPEN_STATUSES
from yidi.cases.models import ACTIVE_ASSIGNMENT, Assignment, AssignmentRole, Case, CaseEvent
from yidi.core.masking import mask
from yidi.evaluation.queries import list_due_return_visits as due_return_visits
from yidi.grid.domain import is_grid_user
from yidi.regions.models import Region

HOME_LIMIT = 20
CARD_RELATED = ("region", "region__parent", "lead_unit")


def can_use_grid(user) -> bool:
    """Grid workers and the clerks of village committees (`grid.domain.is_grid_user`); the unit is read only
    for a clerk, so the navigation costs no query for anybody else."""
    if user is None or not user.is_authenticated or not user.is_active or not user.unit_id:
        return False
    roles = user.role_set
    return Role.GRID_WORKER in roles or (Role.REGISTRAR in roles and is_grid_user(roles, user.unit.kind))


def area_choices(user) -> list:
    """The places a grid report may be located at: the villages (and their grids) in the user's unit region,
    grouped by township when there are several. Without shipped village data, the townships themselves."""
    regions = list(
        Region.objects.within(user.unit.region_id).filter(level__in=["township", "village", "grid"], is_active=True)
        .only("code", "short_name", "level", "parent_id").order_by("code")
    )
    villages = {r.code: r for r in regions if r.level == "village"}
    places = [r for r in regions if r.level in ("village", "grid")]
    if not places:
        places = [r for r in regions if r.level == "township"] or list(
            Region.objects.filter(code=user.unit.region_id))
    townships = {r.code: r.short_name for r in regions if r.level == "township"}
    groups: dict[str, list[tuple[str, str]]] = {}
    for region in places:
        if region.level == "grid":
            village = villages.get(region.parent_id)
            label = f"{village.short_name} · {region.short_name}" if village else region.short_name
        else:
            label = region.short_name
        groups.setdefault(region.code[:9], []).append((region.code, label))
    if len(groups) == 1:
        return next(iter(groups.values()))
    return [(townships.get(code, code), options) for code, options in groups.items()]


def list_reported_open(user, *, limit: int = HOME_LIMIT) -> list[Case]:
    """Matters the user's unit registered that are still open, newest first."""
    return list(
        visible_cases(user).filter(registering_unit_id=user.unit_id, status__in=OPEN_STATUSES)
        .select_related(*CARD_RELATED).order_by("-registered_at", "-id")[:limit]
    )


def list_assigned_to_unit(user, *, limit: int = HOME_LIMIT) -> list[Case]:
    """Matters the user's unit leads now (pending or signed for), except those it registered itself (they are
    in `list_reported_open` already), soonest deadline first."""
    assigned = Assignment.objects.filter(ACTIVE_ASSIGNMENT, unit_id=user.unit_id, role=AssignmentRole.LEAD)
    cases: QuerySet = (
        visible_cases(user).filter(pk__in=assigned.values("case_id"), status__in=OPEN_STATUSES)
        .exclude(registering_unit_id=user.unit_id).select_related(*CARD_RELATED)
    )
    return list(cases.order_by("due_at", "-registered_at", "-id")[:limit])


@dataclass(frozen=True)
class ReturnVisitDuty:
    code: str
    due_on: date | None
    visit_id: int


def list_due_return_visits(user, *, limit: int = HOME_LIMIT) -> list[ReturnVisitDuty]:
    """The return visits (回访) due for the user's unit (`yidi.evaluation`), each opening its record form."""
    return [ReturnVisitDuty(code=visit.case.code, due_on=visit.due_on, visit_id=visit.pk)
            for visit in due_return_visits(user, limit=limit)]


def list_recent_events(case: Case, *, limit: int = 5) -> list[CaseEvent]:
    """The matter's last steps, newest first."""
    return list(CaseEvent.objects.filter(case=case).select_related("actor_unit").order_by("-seq")[:limit])


def list_masked_parties(case: Case) -> list[dict]:
    """The parties as a phone screen may show them: role, masked name and masked phone."""
    return [
        {"role": party.get_role_display(), "name": mask(party.person.name, "name"),
         "phone": mask(party.person.phone, "phone")}
        for party in case.parties.select_related("person").order_by("position")
    ]
