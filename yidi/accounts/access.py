"""The access chokepoint: every view and API fetches matters through these functions.

Who sees a matter (read):
- only staff holding a case-reading role, who belong to a unit; admin roles (三员) and citizens see none here;
- people of a region-wide unit (centre, command desk, township centre, village committee) and leaders,
  supervisors and dispatchers see every matter located in their unit's region (code range);
- people of other units (departments, courts, police stations, mediation organisations …) see the matters
  in their region whose dispute type their unit's responsibility list names, and those their unit registered;
- everyone sees the matters their unit is actively assigned to (lead or co-unit), and only while assigned,
  and the matters another unit asks them to take over (a pending transfer).
A matter outside this scope is reported as "not found" (404), never as "forbidden", so its existence is not revealed.

Who may act on a matter (write): a role listed for the action in `cases.domain.ACTION_ROLES`, on a matter in
read scope; unit-bound actions (sign, return, handle, conclude …) also need the acting unit to be the matter's
active lead unit.
"""

from django.apps import apps
from django.db.models import Q, QuerySet
from django.http import Http404

from yidi.accounts.domain import CASE_READER_ROLES, REGION_OVERSIGHT_ROLES, REGION_WIDE_KINDS, UnitKind
from yidi.regions.domain import code_range


class CaseNotFound(Http404):
    pass


class ActionDenied(Exception):
    """The user may see the matter but not perform this action on it (message in Chinese)."""


def _case_model():
    # `cases` depends on `accounts`, not the reverse: resolve the model lazily.
    return apps.get_model("cases", "Case")


def _assignment_model():
    return apps.get_model("cases", "Assignment")


def can_read_cases(user) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.unit_id
        and user.role_set & CASE_READER_ROLES
    )


def case_scope(user) -> Q:
    """The filter that limits a `Case` queryset to what `user` may read."""
    if not can_read_cases(user):
        return Q(pk__in=[])
    unit = user.unit
    low, high = code_range(unit.region_id)
    in_region = Q(region_id__gte=low, region_id__lt=high)
    assignment = _assignment_model()
    assigned = Q(
        pk__in=assignment.objects.filter(
            unit_id=unit.pk, status__in=[assignment.Status.PENDING, assignment.Status.SIGNED]
        ).values("case_id")
    ) | Q(pk__in=apps.get_model("cases", "Transfer").objects.filter(to_unit_id=unit.pk, status="pending").values("case_id"))
    if UnitKind(unit.kind) in REGION_WIDE_KINDS or user.role_set & REGION_OVERSIGHT_ROLES:
        return in_region | assigned
    responsible_types = unit.responsibilities.values("dispute_type_id")
    return (in_region & Q(primary_type_id__in=responsible_types)) | assigned | Q(registering_unit_id=unit.pk)


def visible_cases(user) -> QuerySet:
    return _case_model().objects.filter(case_scope(user))


ACTION_RELATED = ("region", "channel", "primary_type", "lead_unit")
DETAIL_RELATED = ("region", "region__parent", "channel", "primary_type", "lead_unit", "registering_unit", "registered_by")


def get_case_for_user(user, code: str, *, for_update: bool = False):
    """The matter with this code if `user` may read it; otherwise `CaseNotFound` (404).

    `for_update` locks the matter's row (only that row) for an action, with what actions read beside it.
    """
    if for_update:
        queryset = visible_cases(user).select_related(*ACTION_RELATED).select_for_update(of=("self",))
    else:
        queryset = visible_cases(user).select_related(*DETAIL_RELATED)
    try:
        return queryset.get(code=code)
    except _case_model().DoesNotExist:
        raise CaseNotFound("事项不存在或无权查看") from None


def denial_reason(user, case, action) -> str | None:
    """Why `user` may not perform `action` on `case` (a Chinese sentence), or None when allowed.

    The caller has already fetched `case` through `get_case_for_user`, so it is in read scope.
    """
    from yidi.cases.domain import (  # cases sits above accounts
        ACTION_ROLES,
        UNIT_BOUND_ACTIONS,
        UNIT_BOUND_ROLES,
    )

    acting_roles = user.role_set & ACTION_ROLES[action]
    if not acting_roles:
        return "您的角色无权执行此操作"
    # `lead_unit` is the unit of the active lead assignment while the matter is assigned (see cases.actions).
    if action in UNIT_BOUND_ACTIONS and acting_roles <= UNIT_BOUND_ROLES and case.lead_unit_id != user.unit_id:
        return "只有当前主办单位可以执行此操作"
    return None


def require_action(user, case, action) -> None:
    reason = denial_reason(user, case, action)
    if reason:
        raise ActionDenied(reason)
