"""Reads of matters. Everything starts from `accounts.access.visible_cases`, so scope is never forgotten."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from django.db import connections
from django.db.models import BooleanField, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models import Case as When_
from django.utils import timezone

from yidi.accounts.access import visible_cases
from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.cases.domain import OPEN_STATUSES, CaseStatus
from yidi.cases.models import ACTIVE_ASSIGNMENT, Assignment, AssignmentRole, Case, CaseEvent, RoutingRecord
from yidi.regions.domain import code_range

LIST_RELATED = ("region", "region__parent", "channel", "primary_type", "lead_unit")

GRADE_ORDER = When_(
    When(grade="red", then=Value(0)),
    When(grade="orange", then=Value(1)),
    When(grade="yellow", then=Value(2)),
    When(grade="blue", then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)
QUEUE_ORDER = ("-is_urgent", GRADE_ORDER, "registered_at", "id")  # urgent and red first within a work queue


def text_grams(text: str) -> list[int]:
    """The bigrams of `text` as `yidi_text_grams` (migration `cases.0016`) writes them: two code points, 16 bits
    each, as one signed 32-bit integer."""
    return sorted({((ord(first) & 0xFFFF) << 16 | (ord(second) & 0xFFFF)) - 2**31
                   for first, second in pairwise(text)})


class HasTextGrams(Func):
    """PostgreSQL: the matter's title and description hold every bigram of `words` (its `text_grams` column and
    GIN index, migration `cases.0016`; not a model field). Only narrows: a `LIKE` still decides."""

    output_field = BooleanField()

    def __init__(self, words: str) -> None:
        super().__init__(F("id"))
        self.grams = text_grams(words)

    def as_sql(self, compiler, connection, **extra):
        column = compiler.compile(self.get_source_expressions()[0])[0]  # "alias"."id": the matter's own row
        return f"{column.rsplit('.', 1)[0]}.\"text_grams\" @> %s::integer[]", (self.grams,)


def text_filter(cases: QuerySet, text: str) -> QuerySet:
    """The matters whose code is `text`, or whose title or description holds it."""
    by_code, by_words = Q(code=text), Q(title__contains=text) | Q(description__contains=text)
    if len(text) >= 2 and connections[cases.db].vendor == "postgresql":
        # (code OR bigrams) AND (code OR words): the first half is what the two indexes answer, as it stands
        cases = cases.filter(by_code | HasTextGrams(text))
    return cases.filter(by_code | by_words)


@dataclass(frozen=True)
class Queue:
    code: str
    title: str
    roles: frozenset[Role]


QUEUES = (
    Queue("to_accept", "待受理", frozenset({Role.REGISTRAR, Role.DISPATCHER})),
    Queue("to_assign", "待交办", frozenset({Role.DISPATCHER})),
    Queue("to_sign", "本单位待签收", frozenset({Role.HANDLER, Role.MEDIATOR})),
    Queue("in_hand", "本单位在办", frozenset({Role.HANDLER, Role.MEDIATOR})),
    Queue("to_close", "待办结", frozenset({Role.DISPATCHER})),
    Queue("registered_by_me", "我登记的", frozenset({Role.REGISTRAR, Role.GRID_WORKER})),
    Queue("urgent_open", "红橙预警在办", frozenset({Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER})),
)
QUEUE_BY_CODE = {queue.code: queue for queue in QUEUES}


def _unit_assignments(user, *, statuses) -> QuerySet:
    return Assignment.objects.filter(unit_id=user.unit_id, role=AssignmentRole.LEAD, status__in=statuses)


def queue_filter(user, code: str) -> Q:
    if code == "to_accept":
        return Q(status=CaseStatus.REGISTERED)
    if code == "to_assign":
        return Q(status__in=[CaseStatus.ACCEPTED, CaseStatus.RETURNED])
    if code == "to_sign":
        return Q(status=CaseStatus.ASSIGNED, pk__in=_unit_assignments(user, statuses=["pending"]).values("case_id"))
    if code == "in_hand":
        return Q(
            status__in=OPEN_STATUSES - {CaseStatus.ASSIGNED},
            pk__in=Assignment.objects.filter(ACTIVE_ASSIGNMENT, unit_id=user.unit_id).values("case_id"),
        )
    if code == "to_close":
        return Q(status__in=[CaseStatus.CONCLUDED, CaseStatus.RETURN_VISITED, CaseStatus.EVALUATED])
    if code == "registered_by_me":
        return Q(registered_by=user)
    if code == "urgent_open":
        return Q(status__in=OPEN_STATUSES, grade__in=["red", "orange"])
    raise KeyError(code)


def queues_for(user) -> list[Queue]:
    return [queue for queue in QUEUES if queue.roles & user.role_set]


@dataclass(frozen=True)
class CaseFilters:
    queue: str = ""
    statuses: tuple[str, ...] = ()
    primary_type: str = ""
    grade: str = ""
    region_prefix: str = ""
    channel: str = ""
    request_type: str = ""
    registered_from: date | None = None
    registered_to: date | None = None
    text: str = ""
    deadline: str = ""  # overdue | warning | green
    lead_unit: str = ""
    only_open: bool = False


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def list_cases(user, filters: CaseFilters) -> QuerySet:
    """The user's matters under the filters, newest first (urgent and red first within a work queue)."""
    cases = visible_cases(user).select_related(*LIST_RELATED)
    if filters.queue:
        cases = cases.filter(queue_filter(user, filters.queue))
    if filters.statuses:
        cases = cases.filter(status__in=filters.statuses)
    if filters.primary_type:
        cases = cases.filter(primary_type__code=filters.primary_type)
    if filters.grade:
        cases = cases.filter(grade=filters.grade)
    if filters.region_prefix:
        low, high = code_range(filters.region_prefix)
        cases = cases.filter(region_id__gte=low, region_id__lt=high)
    if filters.channel:
        cases = cases.filter(channel__code=filters.channel)
    if filters.request_type:
        cases = cases.filter(request_type=filters.request_type)
    if filters.registered_from:
        cases = cases.filter(registered_at__gte=_day_start(filters.registered_from))
    if filters.registered_to:
        cases = cases.filter(registered_at__lt=_day_start(filters.registered_to + timedelta(days=1)))
    if filters.deadline == "warning":
        cases = cases.filter(deadline_state__in=["yellow", "red"])
    elif filters.deadline:
        cases = cases.filter(deadline_state=filters.deadline)
    if filters.lead_unit:
        cases = cases.filter(lead_unit__code=filters.lead_unit)
    if filters.only_open:
        cases = cases.filter(status__in=OPEN_STATUSES)
    if filters.text:
        cases = text_filter(cases, filters.text.strip())
    if filters.queue:
        return cases.order_by(*QUEUE_ORDER)
    return cases.order_by("-registered_at", "-id")


def count_queue(user, code: str) -> int:
    return visible_cases(user).filter(queue_filter(user, code)).count()


def page_rows(page: QuerySet) -> list[Case]:
    """The matters of a slice of `list_cases` (a page), in one query: they are chosen by their own columns (the
    subquery), then read with their related rows, so the joins run for them only and not for every matter that
    passed the filters (22,000 waiting to be closed at a million matters; 7,600 holding a searched word, which the
    planner estimates at 80 and so joins before sorting)."""
    order = page.query.order_by
    return list(Case.objects.select_related(*LIST_RELATED).filter(pk__in=page.values("pk")).order_by(*order))


def list_queue_preview(user, code: str, *, limit: int = 6) -> list[Case]:
    """The first `limit` matters of a work queue, in one query (`page_rows`)."""
    return page_rows(list_cases(user, CaseFilters(queue=code))[:limit])


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    parties: list
    contacts: list
    visits: list
    attachments: list
    assignments: list
    events: list
    labels: list
    deadlines: list
    urgings: list
    transfers: list
    consultations: list
    extension_requests: list


def get_case_detail(case: Case) -> CaseDetail:
    """Everything the detail page shows, in a fixed number of queries."""
    return CaseDetail(
        deadlines=list(case.deadlines.order_by("-started_at", "-id")),
        urgings=list(case.urgings.select_related("unit", "issued_by")),
        transfers=list(case.transfers.select_related("from_unit", "to_unit")),
        consultations=list(case.consultations.all()),
        extension_requests=list(case.extension_requests.select_related("deadline", "requested_by")),
        case=case,
        parties=list(case.parties.select_related("person")),
        contacts=list(case.contacts.select_related("channel", "person")),
        visits=list(case.visits.select_related("unit")),
        attachments=list(case.attachments.all()),
        assignments=list(case.assignments.select_related("unit").order_by("assigned_at", "id")),
        events=list(CaseEvent.objects.filter(case=case).select_related("actor_unit").order_by("seq")),
        labels=list(case.labels.select_related("taxonomy", "label").order_by("taxonomy_id")),
    )


def latest_route_suggestion(case: Case) -> RoutingRecord | None:
    """The routing rules' latest proposal for the matter, with `lead_unit_name` set for display."""
    record = case.routings.filter(is_override=False).order_by("-decided_at", "-id").first()
    if record is not None:
        record.lead_unit_name = (
            Unit.objects.filter(code=record.lead_unit_code).values_list("name", flat=True).first() or ""
        )
    return record


def attach_route_suggestions(cases) -> None:
    """Set `route` (latest proposal, with `lead_unit_name`) on each matter of a page, in two queries."""
    cases = list(cases)
    latest: dict[int, RoutingRecord] = {}
    for record in RoutingRecord.objects.filter(case__in=cases, is_override=False).order_by("decided_at", "id"):
        latest[record.case_id] = record
    names = dict(
        Unit.objects.filter(code__in={r.lead_unit_code for r in latest.values()}).values_list("code", "name")
    )
    for case in cases:
        case.route = latest.get(case.pk)
        if case.route is not None:
            case.route.lead_unit_name = names.get(case.route.lead_unit_code, "")


@dataclass(frozen=True)
class VisitSummary:
    """最多跑一地, measured: how many times the person came in person, and to how many different places."""

    count: int
    places: int
    visits: list  # Visit rows, oldest first, with `unit` and `recorded_by` loaded


def visit_place_key(visit) -> tuple[str, str]:
    """Two visits are at the same place when recorded by the same unit; without a unit, by the place named."""
    if visit.unit_id:
        return ("unit", str(visit.unit_id))
    return ("place", " ".join(visit.place.split()))


def visit_summary(case: Case) -> VisitSummary:
    """The matter's in-person visits (one query): count, distinct places and the list."""
    visits = list(case.visits.select_related("unit", "recorded_by").order_by("visited_at", "id"))
    return VisitSummary(count=len(visits), places=len({visit_place_key(v) for v in visits}), visits=visits)


def is_unit_actively_assigned(unit_id: int, case: Case) -> bool:
    """Is this unit assigned to the matter right now (lead or co-unit, pending or signed)?"""
    return Assignment.objects.filter(ACTIVE_ASSIGNMENT, case_id=case.pk, unit_id=unit_id).exists()


def list_api_cases(user, *, statuses: tuple[str, ...] = (), region_prefix: str = "", updated_since=None) -> QuerySet:
    """The matters `user` reads, most recently changed first (the API's list; `updated_since` for sync)."""
    cases = visible_cases(user).select_related("region", "channel", "primary_type", "lead_unit")
    if statuses:
        cases = cases.filter(status__in=statuses)
    if region_prefix:
        low, high = code_range(region_prefix)
        cases = cases.filter(region_id__gte=low, region_id__lt=high)
    if updated_since is not None:
        cases = cases.filter(updated_at__gte=updated_since)
    return cases.order_by("-updated_at", "-id")
