"""Reads for mediation. Matters come only through `accounts.access`; everything here is about a matter the caller
already holds, or about the mediator pool of the user's county."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Avg, Count, Q, QuerySet

from yidi.accounts.domain import UnitKind
from yidi.cases.models import Case, CaseParty, PartyRole
from yidi.core import clock
from yidi.core.deadlines import Stage
from yidi.mediation import clocks, domain
from yidi.mediation.domain import (
    OPEN_MEDIATION_STATUSES,
    ActorKind,
    Availability,
    Candidate,
    MatterFacts,
    MediationStatus,
    ObligationState,
    Proposal,
    Signer,
)
from yidi.mediation.models import (
    Appointment,
    AppointmentStatus,
    ConflictOfInterest,
    Designation,
    Mediation,
    MediationRoom,
    Mediator,
    MediatorRating,
    Obligation,
)
from yidi.privacy.domain import RevealBasis, reveal_grant
from yidi.regions.domain import code_range
from yidi.regions.models import Region

COMMITTEE_KINDS = frozenset({UnitKind.VILLAGE_COMMITTEE, UnitKind.PROFESSIONAL_MEDIATION})


def get_mediation(case: Case) -> Mediation | None:
    """The matter's current mediation: the open one, else the latest."""
    return Mediation.objects.filter(case=case).order_by("-opened_at", "-id").first()


def active_designations(mediation: Mediation | None) -> list[Designation]:
    if mediation is None:
        return []
    return list(
        mediation.designations.filter(ended_at=None).select_related("mediator__user__unit").order_by("-is_lead", "id")
    )


def is_designated(user, mediation: Mediation | None) -> bool:
    return mediation is not None and mediation.designations.filter(ended_at=None, mediator__user=user).exists()


def get_actor_kinds(user, case: Case, mediation: Mediation | None) -> frozenset[ActorKind]:
    """How the user stands towards this mediation (designated mediator, lead unit, dispatcher, window)."""
    in_lead_unit = bool(user.unit_id) and case.lead_unit_id == user.unit_id
    return domain.actor_kinds(user.role_set, in_lead_unit=in_lead_unit, is_designated=is_designated(user, mediation))


def may_download_documents(user, case: Case, mediation: Mediation | None) -> bool:
    """The documents print parties' full ID numbers: only the designated mediators, the lead unit and the roles
    that may reveal personal data across their region (`yidi.privacy.domain.REVEAL_BASIS`) download them."""
    if get_actor_kinds(user, case, mediation) & {ActorKind.DESIGNATED_MEDIATOR, ActorKind.LEAD_UNIT}:
        return True
    grant = reveal_grant(user.role_set)
    return grant is not None and grant.basis is RevealBasis.READ_SCOPE


def default_committee(case: Case) -> str:
    """The mediation committee named on the documents: the lead unit when it is one, else the township's."""
    unit = case.lead_unit
    if unit is not None and unit.kind in COMMITTEE_KINDS:
        return unit.name
    county = Region.objects.filter(code=case.region_id[:6]).values_list("name", flat=True).first() or ""
    township = Region.objects.filter(code=case.region_id[:9]).values_list("short_name", flat=True).first() or ""
    return f"{county}{township}人民调解委员会"


def case_parties(case: Case, *, parties_only: bool = False) -> list[CaseParty]:
    parties = case.parties.select_related("person").order_by("position", "id")
    if parties_only:
        parties = parties.exclude(role=PartyRole.AGENT)
    return list(parties)


def conflicts_for(case: Case) -> dict[int, str]:
    """Declared conflicts touching the matter or one of its parties: mediator id → phrase (the first one)."""
    parties = {party.person_id: party.person.name for party in case_parties(case)}
    found: dict[int, str] = {}
    conflicts = ConflictOfInterest.objects.filter(Q(case=case) | Q(person_id__in=parties)).order_by("declared_at", "id")
    for conflict in conflicts:
        found.setdefault(conflict.mediator_id, domain.describe_conflict(
            conflict.relation, person_name=parties.get(conflict.person_id, ""), note=conflict.note,
        ))
    return found


@dataclass(frozen=True)
class MediatorStats:
    open_mediations: int = 0
    results: int = 0
    agreements: int = 0
    rating_count: int = 0
    rating_average: float | None = None

    @property
    def success_rate(self) -> float | None:
        return domain.success_rate(self.agreements, self.results)


def mediator_stats(mediator_ids) -> dict[int, MediatorStats]:
    """Workload, record and ratings per mediator, in three grouped queries.

    - workload: designations not recused on open mediations;
    - record: designations not recused on mediations that ended in an agreement or a failure (a party's refusal
      is not counted against the mediator);
    - ratings: every rating the parties gave.
    """
    ids = list(mediator_ids)
    counts = (
        Designation.objects.filter(mediator_id__in=ids, ended_at=None)
        .values("mediator_id")
        .annotate(
            open=Count("id", filter=Q(mediation__status__in=sorted(OPEN_MEDIATION_STATUSES))),
            results=Count("id", filter=Q(mediation__status__in=[MediationStatus.AGREED, MediationStatus.FAILED])),
            agreements=Count("id", filter=Q(mediation__status=MediationStatus.AGREED)),
        )
    )
    ratings = {
        row["mediator_id"]: row
        for row in MediatorRating.objects.filter(mediator_id__in=ids)
        .values("mediator_id")
        .annotate(n=Count("id"), average=Avg("score"))
    }
    stats = {mediator_id: MediatorStats() for mediator_id in ids}
    for row in counts:
        rating = ratings.pop(row["mediator_id"], None)
        stats[row["mediator_id"]] = MediatorStats(
            row["open"], row["results"], row["agreements"], rating["n"] if rating else 0,
            float(rating["average"]) if rating else None,
        )
    for mediator_id, rating in ratings.items():
        stats[mediator_id] = MediatorStats(rating_count=rating["n"], rating_average=float(rating["average"]))
    return stats


def pool(county_code: str) -> QuerySet[Mediator]:
    low, high = code_range(county_code)
    return (
        Mediator.objects.filter(is_active=True, region_id__gte=low, region_id__lt=high)
        .select_related("user__unit", "region", "room")
        .prefetch_related("specialties")
    )


def matter_facts(case: Case) -> MatterFacts:
    names = dict(Region.objects.filter(code__in=[case.region_id[:9], case.region_id]).values_list("code", "short_name"))
    return MatterFacts(
        dispute_type=case.primary_type.code if case.primary_type_id else "",
        dispute_type_name=case.primary_type.name if case.primary_type_id else "",
        region_code=case.region_id,
        township_name=names.get(case.region_id[:9], ""),
        village_name=names.get(case.region_id, "") if len(case.region_id) >= 12 else "",
    )


def list_proposals(case: Case, mediation: Mediation | None) -> list[Proposal]:
    """The county's pool ranked for the matter (`domain.propose_mediators`), conflicts excluded with the reason."""
    mediators = list(pool(case.region_id[:6]))
    stats = mediator_stats(m.pk for m in mediators)
    conflicts = conflicts_for(case)
    designated = {d.mediator_id for d in active_designations(mediation)}
    candidates = []
    for mediator in mediators:
        stat = stats[mediator.pk]
        candidates.append(Candidate(
            mediator_id=mediator.pk, name=str(mediator), specialties=frozenset(s.code for s in mediator.specialties.all()),
            region_code=mediator.region_id, region_name=mediator.region.short_name,
            availability=Availability(mediator.availability), open_mediations=stat.open_mediations,
            capacity=mediator.capacity, results=stat.results, agreements=stat.agreements,
            rating_count=stat.rating_count, rating_average=stat.rating_average,
            conflict=conflicts.get(mediator.pk, ""), is_designated=mediator.pk in designated,
        ))
    return domain.propose_mediators(matter_facts(case), candidates)


# --- the directory --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    text: str = ""
    specialty: str = ""
    region: str = ""  # a township code
    organisation_type: str = ""
    availability: str = ""
    room: int | None = None


@dataclass(frozen=True)
class DirectoryEntry:
    mediator: Mediator
    stats: MediatorStats
    specialties: list[str] = field(default_factory=list)


def list_directory(county_code: str, filters: DirectoryFilters) -> list[DirectoryEntry]:
    """The county's pool under the filters, available first, then by name. A mediator serving the whole county
    matches every township."""
    mediators = pool(county_code)
    if filters.text:
        mediators = mediators.filter(
            Q(user__display_name__contains=filters.text) | Q(user__unit__name__contains=filters.text)
            | Q(room__name__contains=filters.text) | Q(languages__contains=filters.text)
        )
    if filters.specialty:
        mediators = mediators.filter(specialties__code=filters.specialty)
    if filters.region:
        low, high = code_range(filters.region)
        mediators = mediators.filter(Q(region_id__gte=low, region_id__lt=high) | Q(region_id=county_code))
    if filters.organisation_type:
        mediators = mediators.filter(organisation_type=filters.organisation_type)
    if filters.availability:
        mediators = mediators.filter(availability=filters.availability)
    if filters.room:
        mediators = mediators.filter(room_id=filters.room)
    mediators = list(mediators.distinct())
    rank = {Availability.AVAILABLE: 0, Availability.LIMITED: 1, Availability.UNAVAILABLE: 2}
    mediators.sort(key=lambda m: (rank[Availability(m.availability)], str(m), m.pk))
    stats = mediator_stats(m.pk for m in mediators)
    return [
        DirectoryEntry(m, stats[m.pk], [s.name for s in sorted(m.specialties.all(), key=lambda s: s.position)])
        for m in mediators
    ]


def list_rooms(county_code: str) -> list[MediationRoom]:
    low, high = code_range(county_code)
    return list(
        MediationRoom.objects.filter(is_active=True, unit__region_id__gte=low, unit__region_id__lt=high)
        .select_related("unit__region", "lead_mediator__user")
        .prefetch_related("specialties", "mediators")
        .order_by("name")
    )


# --- one mediation ------------------------------------------------------------------------------------------


def required_signers(mediation: Mediation) -> list[Signer]:
    parties = [(p.pk, p.person.name) for p in case_parties(mediation.case, parties_only=True)]
    mediators = [(d.mediator_id, str(d.mediator)) for d in active_designations(mediation)]
    return domain.required_signers(parties, mediators, committee=mediation.committee)


@dataclass
class ObligationRow:
    obligation: Obligation
    state: ObligationState
    records: list
    urgings: list

    @property
    def state_label(self) -> str:
        return domain.OBLIGATION_STATE_LABELS[self.state]

    @property
    def needs_urging(self) -> bool:
        return self.state is ObligationState.OVERDUE


def list_obligations(mediation: Mediation, *, today: date) -> list[ObligationRow]:
    agreement = getattr(mediation, "agreement", None)
    if agreement is None:
        return []
    rows = []
    obligations = agreement.obligations.select_related("obligor__person", "obligee__person").prefetch_related(
        "records__receipt", "urgings"
    )
    for obligation in obligations:
        records = list(obligation.records.all())
        state = domain.obligation_state(
            due_on=obligation.due_on, today=today, performed=obligation.performed_on is not None, records=len(records)
        )
        rows.append(ObligationRow(obligation, state, records, list(obligation.urgings.all())))
    return rows


def judicial_confirmation_window(case: Case):
    """The clock of the 30-day window to apply for judicial confirmation, if the agreement started one."""
    return clocks.latest(case, Stage.JUDICIAL_CONFIRMATION)


def response_clock(case: Case):
    return clocks.latest(case, Stage.PARTY_RESPONSE)


def conclusion_blocker(case) -> str:
    """Why the matter's generic 登记办理结果 must wait (registered in `cases.actions.CONCLUDE_GUARDS`): an open
    mediation, or an outgoing hand-off whose outcome has not come back. Both record the outcome themselves."""
    from yidi.mediation.domain import OPEN_MEDIATION_STATUSES, OUTGOING_KINDS, HandOffStatus
    from yidi.mediation.models import HandOff, Mediation

    mediation = Mediation.objects.filter(case=case, status__in=OPEN_MEDIATION_STATUSES).first()
    if mediation is not None:
        return f"调解（{mediation.number}）尚未结束：请在调解页面登记调解结果（达成协议、调解不成或当事人拒绝）"
    handoff = HandOff.objects.filter(
        case=case, kind__in=OUTGOING_KINDS, status__in=[HandOffStatus.SENT, HandOffStatus.RECEIVED]
    ).first()
    if handoff is not None:
        return f"事项已移送{handoff.receiver}，尚未收到处理结果：请在“对接移送”中登记接收机关的处理结果"
    return ""


def upcoming_appointments(case: Case) -> list[Appointment]:
    """The matter's booked sessions not yet cancelled, from two hours ago on (a session under way still shows),
    soonest first."""
    return list(
        Appointment.objects.filter(
            mediation__case=case, status=AppointmentStatus.SCHEDULED,
            starts_at__gte=clock.now() - domain.UPCOMING_GRACE,
        ).select_related("created_by").order_by("starts_at", "id")
    )
