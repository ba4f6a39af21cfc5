"""Reads for personal-data protection. Matters come only through `accounts.access`; export requests only
through `get_export_for_user`, which reports anything outside the user's scope as "not found" (404)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from yidi.accounts import access
from yidi.audit.models import AuditEvent, AuditOutcome
from yidi.cases.domain import CaseStatus
from yidi.cases.models import ACTIVE_ASSIGNMENT, Assignment, Case, CaseEvent, CaseParty
from yidi.cases.queries import CaseFilters, list_cases
from yidi.privacy import domain
from yidi.privacy.domain import APPROVER_ROLES, PersonalField, RecordType, RevealBasis, RevealDecision
from yidi.privacy.models import Anonymisation, ExportRequest
from yidi.regions.domain import code_range

REVEAL_ACTION = "privacy.reveal"


class ExportNotFound(Http404):
    pass


# --- reveal ------------------------------------------------------------------------------------------------


def is_unit_assigned(user, case: Case) -> bool:
    """Is the user's unit actively assigned (lead or co-unit, pending or signed) to the matter right now?"""
    if not user.unit_id:
        return False
    return Assignment.objects.filter(ACTIVE_ASSIGNMENT, case_id=case.pk, unit_id=user.unit_id).exists()


def reveal_decision(user, case: Case) -> RevealDecision:
    """For a matter the user already reads: may they reveal its parties' personal data? One query at most."""
    roles = user.role_set
    assigned = domain.needs_assignment_check(roles) and is_unit_assigned(user, case)
    return domain.decide_reveal(roles, unit_is_assigned=assigned)


@dataclass(frozen=True)
class RevealTarget:
    case: Case
    party: CaseParty
    field: PersonalField

    @property
    def masked(self) -> str:
        from yidi.core.masking import mask

        return mask(getattr(self.party.person, self.field.value), self.field.kind)


def get_reveal_target(user, code: str, party_id: int, field: str) -> RevealTarget | None:
    """The party field to reveal, if the matter is in the user's read scope and the party belongs to it."""
    try:
        case = access.get_case_for_user(user, code)
        personal_field = PersonalField(field)
    except (access.CaseNotFound, ValueError):
        return None
    party = CaseParty.objects.select_related("person").filter(case=case, pk=party_id).first()
    return RevealTarget(case, party, personal_field) if party else None


def list_recent_reveal_times(user, *, since: datetime) -> list[datetime]:
    """When this user revealed a value since `since`, oldest first (the audit log's (account, time) index)."""
    return list(
        AuditEvent.objects.filter(
            actor_username=user.get_username(), at__gt=since, action=REVEAL_ACTION, outcome=AuditOutcome.SUCCESS
        )
        .order_by("at")
        .values_list("at", flat=True)
    )


# --- exports -----------------------------------------------------------------------------------------------


def is_approver(user) -> bool:
    return bool(access.can_read_cases(user) and user.role_set & APPROVER_ROLES)


def export_scope(user) -> Q:
    """Requests a user may open: their own, and (approvers) those raised in their unit's region."""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    own = Q(requested_by_id=user.pk)
    if not is_approver(user):
        return own
    low, high = code_range(user.unit.region_id)
    return own | Q(region_id__gte=low, region_id__lt=high)


EXPORT_RELATED = ("requested_by", "requester_unit", "decided_by")


def get_export_for_user(user, export_id: int, *, for_update: bool = False) -> ExportRequest:
    queryset = ExportRequest.objects.filter(export_scope(user))
    queryset = queryset.select_for_update(of=("self",)) if for_update else queryset.select_related(*EXPORT_RELATED)
    export = queryset.filter(pk=export_id).first()
    if export is None:
        raise ExportNotFound("导出申请不存在或无权查看")
    return export


def list_my_exports(user) -> QuerySet[ExportRequest]:
    return ExportRequest.objects.filter(requested_by_id=user.pk).select_related(*EXPORT_RELATED)


def list_pending_approvals(user) -> QuerySet[ExportRequest]:
    """Pending requests of others in the approver's region, oldest first (index on (status, region))."""
    if not is_approver(user):
        return ExportRequest.objects.none()
    return (
        ExportRequest.objects.filter(export_scope(user), status=domain.ExportStatus.PENDING)
        .exclude(requested_by_id=user.pk)
        .select_related(*EXPORT_RELATED)
        .order_by("requested_at", "id")
    )


def exportable_cases(user, filters: CaseFilters) -> QuerySet[Case]:
    """The matters under the list filter whose parties' full data the user could reveal one by one."""
    grant = domain.reveal_grant(user.role_set)
    if grant is None or not access.can_read_cases(user):
        return Case.objects.none()
    cases = list_cases(user, filters)
    if grant.basis is RevealBasis.ASSIGNMENT:
        cases = cases.filter(pk__in=Assignment.objects.filter(ACTIVE_ASSIGNMENT, unit_id=user.unit_id).values("case_id"))
    return cases


def count_exportable(user, filters: CaseFilters) -> tuple[int, int]:
    """(matters in scope under the filter, of which the user may export full data)."""
    return list_cases(user, filters).count(), exportable_cases(user, filters).count()


def list_export_parties(case_ids) -> list[CaseParty]:
    """The parties of these matters with their matter and person, by matter then party order."""
    return list(
        CaseParty.objects.filter(case_id__in=list(case_ids))
        .select_related("case", "person")
        .order_by("case__registered_at", "case_id", "position", "id")
    )


# --- retention ---------------------------------------------------------------------------------------------


def list_expired_cases(record_type: RecordType, *, cutoff: datetime) -> QuerySet:
    """(id, code, retention start) of matters of this record type whose retention started at or before
    `cutoff` and which are not yet anonymised, oldest first.

    - archived matter: status archived and never declined; the period runs from the archive event;
    - not-accepted matter: declined (not_accepted, or archived after it); it runs from the decline event.
    """
    events = CaseEvent.objects.filter(case=OuterRef("pk"))
    done = Anonymisation.objects.filter(case=OuterRef("pk"))
    declined = events.filter(action="decline")
    if record_type is RecordType.ARCHIVED_CASE:
        cases = Case.objects.filter(status=CaseStatus.ARCHIVED).exclude(Exists(declined))
        start = events.filter(action="archive").order_by("-at").values("at")[:1]
    else:
        cases = Case.objects.filter(status__in=[CaseStatus.NOT_ACCEPTED, CaseStatus.ARCHIVED]).filter(Exists(declined))
        start = declined.order_by("at").values("at")[:1]
    return (
        cases.exclude(Exists(done))
        .annotate(retention_started_at=Subquery(start))
        .filter(retention_started_at__lte=cutoff)
        .order_by("retention_started_at", "id")
        .values_list("pk", "code", "retention_started_at")
    )
