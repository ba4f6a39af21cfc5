"""The KPI engine: every KPI of `yidi.analytics.domain.KPIS` for any slice, as SQL aggregates, with drill-down.

Interface (for dashboards, reports and the API):

    from yidi.analytics.engine import Slice, compute, matters
    from yidi.analytics.domain import year_period

    slice_ = Slice(region_code="330681109", period=year_period(2026))          # 枫桥镇, 2026
    values = compute(["handle_on_time", "satisfaction"], slice_)               # -> list[KpiValue]
    values[0].numerator, values[0].denominator, values[0].value, values[0].reason
    matters("handle_on_time", "numerator", slice_)                             # -> QuerySet[Case]

- `Slice`: a region code (county, township or village; its code range), a period (whole Shanghai days), and
  optionally a unit (id), a dispute type (taxonomy label code of the matter's primary type) and a channel code.
  The slice does not check who asks: callers scope it first (`yidi.analytics.queries.slice_for_user`).
- `compute` never divides by zero: a zero denominator gives `value=None` and the KPI's reason ("本期无应受理事项");
  a period without matters gives zeros.
- `matters(kpi, part, slice)` is exactly the set counted in that part (the same conditions, not a re-derivation);
  for averages both parts list the matters averaged; for 万人成讼率 the denominator is population (no matters).
- No Python loop touches matters: one aggregate query for the counted KPIs, one per working-day KPI. Working
  days come from `WorkdayOrdinal` (the national calendar of `yidi.core.worktime`, ordinals per date).
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import (
    Case as When_,
)
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.utils import timezone

from yidi.analytics.domain import (
    KPI_BY_CODE,
    KPIS,
    InvalidSlice,
    KpiValue,
    Part,
    Period,
    UnitBasis,
    kpi_value,
)
from yidi.analytics.models import RegionPopulation, WorkdayOrdinal
from yidi.analytics.workdays import ensure_index
from yidi.cases.domain import AGREEMENT_OUTCOMES, MODE_OUTCOMES, RESOLVED_OUTCOMES, CaseStatus, HandlingMode
from yidi.cases.models import Assignment, Case, CaseDeadline, CaseEvent, Channel, Contact, Visit
from yidi.core import clock
from yidi.core.deadlines import Stage
from yidi.core.models import TaxonomyLabel
from yidi.evaluation.models import Evaluation
from yidi.regions.domain import code_range

# 受理期限 in working days by channel group (the policy table has no acceptance stage). Default: 1 working day
# (即接即办; the 12345 sign limit); 信访: 15 days to decide on acceptance (信访工作条例 Art. 22-23) ≈ 10 working days.
DEFAULT_ACCEPT_WORKDAYS = {"default": 1, "petition": 10}
PRE_LITIGATION_CHANNELS = ("court_pre_filing",)
# Timeline actions after which a matter was not resolved at the first attempt (一次性化解).
NOT_FIRST_TIME_ACTIONS = ("return", "escalate", "accept_transfer", "reopen", "record_petition_request")
_RESOLVED = sorted(o.value for o in RESOLVED_OUTCOMES)
_AGREEMENT = sorted(o.value for o in AGREEMENT_OUTCOMES)
_MEDIATION_OUTCOMES = sorted(o.value for o in MODE_OUTCOMES[HandlingMode.MEDIATION])
ORDINAL_KPIS = frozenset({"accept_timely", "days_accept", "days_handle", "days_close", "days_total"})


@dataclass(frozen=True)
class Slice:
    region_code: str
    period: Period
    unit_id: int | None = None
    dispute_type_code: str = ""
    channel_code: str = ""
    _cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.period.starts_on, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.period.ends_on + timedelta(days=1), time.min))

    def with_period(self, period: Period) -> "Slice":
        return Slice(self.region_code, period, self.unit_id, self.dispute_type_code, self.channel_code)

    def with_region(self, region_code: str) -> "Slice":
        return Slice(region_code, self.period, self.unit_id, self.dispute_type_code, self.channel_code)

    def with_unit(self, unit_id: int | None) -> "Slice":
        return Slice(self.region_code, self.period, unit_id, self.dispute_type_code, self.channel_code)


def aggregate(queryset: QuerySet, **aggregates) -> dict:
    """`queryset.aggregate(...)`, on PostgreSQL with JIT compilation off: these aggregates carry correlated
    subplans whose estimated cost switches JIT on, and compiling them costs more than running them (measured: 1 s
    of JIT for a 0.3 s query at a million matters). yidi's connections run without JIT unless `YIDI_PG_JIT` turns
    it on; then it is turned off here for the statement: `SET LOCAL` ends with the transaction (or with the
    caller's, inside one)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or not getattr(settings, "YIDI_PG_JIT", False):
        return queryset.aggregate(**aggregates)
    with transaction.atomic(using=queryset.db):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        return queryset.aggregate(**aggregates)


def _ids(model, **lookup) -> list[int]:
    return list(model.objects.filter(**lookup).values_list("pk", flat=True))


def _once(s: Slice, key: str, load):
    """A reference look-up made once per slice object (ids of a type or channel, today's ordinal)."""
    if key not in s._cache:
        s._cache[key] = load()
    return s._cache[key]


def base_cases(s: Slice) -> QuerySet:
    """The matters of the slice that can count in it at all: in the region, of the type and channel, registered
    before the period ends."""
    low, high = code_range(s.region_code)
    queryset = Case.objects.filter(region_id__gte=low, region_id__lt=high, registered_at__lt=s.end_at)
    if s.dispute_type_code:
        ids = _once(s, "types", lambda: _ids(TaxonomyLabel, code=s.dispute_type_code))
        queryset = queryset.filter(primary_type_id__in=ids)
    if s.channel_code:
        ids = _once(s, "channels", lambda: _ids(Channel, code=s.channel_code))
        queryset = queryset.filter(channel_id__in=ids)
    return queryset


def _in(field_name: str, s: Slice) -> Q:
    return Q(**{f"{field_name}__gte": s.start_at, f"{field_name}__lt": s.end_at})


def _unit(kpi_code: str, s: Slice) -> Q:
    basis = KPI_BY_CODE[kpi_code].unit_basis
    if s.unit_id is None or basis in (UnitBasis.CLOCK, UnitBasis.EVALUATED, UnitBasis.NONE):
        return Q()  # clock and evaluation bases filter inside their subqueries
    if basis == UnitBasis.REGISTERING:
        return Q(registering_unit_id=s.unit_id)
    return Q(lead_unit_id=s.unit_id)


def _ordinal(outer) -> Subquery:
    """The working-day ordinal of the Shanghai date of `outer` (a field name or expression of the outer row)."""
    outer = ExpressionWrapper(OuterRef(outer) if isinstance(outer, str) else outer, output_field=DateTimeField())
    return Subquery(WorkdayOrdinal.objects.filter(day=TruncDate(outer)).values("ordinal")[:1],
                    output_field=IntegerField())


def _workdays(start: str, end: str):
    return _ordinal(end) - _ordinal(start)


# --- the parts of each KPI ------------------------------------------------------------------------------------------


def _clock(stage: Stage, s: Slice, now: datetime) -> tuple[Q, Q]:
    """Matters with a stage clock that ended in the period (met) or fell due in it and is still open (overdue);
    late = met after its due instant, or still open. The responsible unit is the lead whose assignment was active
    when the clock ended (met) or fell due."""
    due_until = min(s.end_at, now)
    clocks = CaseDeadline.objects.filter(case_id=OuterRef("pk"), stage=stage).filter(
        Q(met_at__gte=s.start_at, met_at__lt=s.end_at)
        | Q(met_at__isnull=True, cancelled_at__isnull=True, due_at__gte=s.start_at, due_at__lt=due_until)
    )
    if s.unit_id is not None:
        moment = Coalesce(OuterRef("met_at"), OuterRef("due_at"))
        clocks = clocks.filter(Exists(Assignment.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=moment),
            case_id=OuterRef("case_id"), unit_id=s.unit_id, role=Assignment.Role.LEAD, assigned_at__lte=moment,
        )))
    late = clocks.filter(Q(met_at__isnull=True) | Q(met_at__gt=F("due_at")))
    # cheap guard first: a matter closed before the period cannot have a clock ending in it
    guard = Q(closed_at__isnull=True) | Q(closed_at__gte=s.start_at)
    return guard & Q(Exists(clocks)), ~Q(Exists(late))


def _satisfaction(s: Slice) -> tuple[Q, Q]:
    evaluations = Evaluation.objects.filter(case_id=OuterRef("pk"), recorded_at__gte=s.start_at,
                                            recorded_at__lt=s.end_at)
    if s.unit_id is not None:
        evaluations = evaluations.filter(unit_id=s.unit_id)
    return Q(Exists(evaluations)), ~Q(Exists(evaluations.filter(result="dissatisfied")))


# KPIs whose denominator itself is a subquery (a stage clock, an evaluation): counted by their own query that
# filters on the denominator (a semi-join the planner can drive either way) and counts the numerator's extra
# condition within it, so no subquery runs twice per matter. `split` gives (denominator, extra condition).
SPLIT_KPIS = {"sign_timely": lambda s, now: _clock(Stage.SIGN, s, now),
              "handle_on_time": lambda s, now: _clock(Stage.HANDLE, s, now),
              "satisfaction": lambda s, now: _satisfaction(s)}


def split(kpi_code: str, s: Slice, *, now: datetime | None = None) -> tuple[Q, Q]:
    """(denominator, extra) of a `SPLIT_KPIS` KPI: its numerator is exactly `denominator & extra`."""
    return SPLIT_KPIS[kpi_code](s, now or clock.now())


def _later_contact() -> Exists:
    return Exists(Contact.objects.filter(case_id=OuterRef("pk"), contacted_at__gt=OuterRef("registered_at")))


def _accept_limits() -> When_:
    limits = getattr(settings, "YIDI_ANALYTICS_ACCEPT_WORKDAYS", DEFAULT_ACCEPT_WORKDAYS)
    whens = [
        When(channel_id__in=_ids(Channel, group=group), then=Value(int(days)))
        for group, days in sorted(limits.items()) if group != "default"
    ]
    return When_(*whens, default=Value(int(limits.get("default", 1))), output_field=IntegerField())


def _decided_at():
    """When the acceptance was decided (accepted, or declined on the timeline), as seen from inside `_ordinal`."""
    declined_at = Subquery(CaseEvent.objects.filter(case_id=OuterRef(OuterRef("pk")), action="decline")
                           .order_by("seq").values("at")[:1])
    return Coalesce(OuterRef("accepted_at"), declined_at, output_field=DateTimeField())


def parts(kpi_code: str, s: Slice, *, now: datetime | None = None) -> tuple[Q, Q]:
    """(denominator, numerator) conditions on `base_cases(s)` for a counted KPI; the numerator implies the
    denominator. For averages both are the averaged matters."""
    now = now or clock.now()
    unit = _unit(kpi_code, s)
    concluded = _in("concluded_at", s) & ~Q(outcome="") & unit
    closed = _in("closed_at", s) & unit
    if kpi_code == "accept_timely":
        limit = _accept_limits()
        registered = _in("registered_at", s) & unit
        decided = Q(accepted_at__isnull=False) | Q(status__in=[CaseStatus.NOT_ACCEPTED, CaseStatus.ARCHIVED])
        today = _once(s, f"ordinal:{timezone.localdate(now)}", lambda: WorkdayOrdinal.objects.filter(
            day=timezone.localdate(now)).values_list("ordinal", flat=True).first() or 0)
        waiting_too_long = Q(accepted_at__isnull=True, status=CaseStatus.REGISTERED) & Q(
            LessThan(_ordinal("registered_at") + limit, Value(today)))
        denominator = registered & (decided | waiting_too_long)
        timely = Q(LessThanOrEqual(_ordinal(_decided_at()) - _ordinal("registered_at"), limit))
        return denominator, registered & decided & timely
    if kpi_code in SPLIT_KPIS:
        denominator, extra = split(kpi_code, s, now=now)
        return denominator, denominator & extra
    if kpi_code == "resolution":
        return concluded, concluded & Q(outcome__in=_RESOLVED)
    if kpi_code == "mediation_success":
        denominator = _in("concluded_at", s) & Q(outcome__in=_MEDIATION_OUTCOMES) & unit
        return denominator, denominator & Q(outcome__in=_AGREEMENT)
    if kpi_code == "evaluation_participation":
        return closed, closed & ~Q(evaluation="")
    if kpi_code == "repeat_contact":
        registered = _in("registered_at", s) & unit
        return registered, registered & Q(_later_contact())
    if kpi_code == "first_time_resolution":
        setbacks = CaseEvent.objects.filter(case_id=OuterRef("pk"), action__in=NOT_FIRST_TIME_ACTIONS)
        return closed, closed & Q(outcome__in=_RESOLVED) & ~Q(Exists(setbacks)) & ~Q(_later_contact())
    if kpi_code == "pre_litigation_resolution":
        channels = _once(s, "pre_litigation", lambda: _ids(Channel, code__in=PRE_LITIGATION_CHANNELS))
        denominator = concluded & Q(channel_id__in=channels)
        return denominator, denominator & Q(outcome__in=_RESOLVED)
    if kpi_code == "litigation_per_10k":
        diverted = CaseEvent.objects.filter(case_id=OuterRef("pk"), action="divert", at__gte=s.start_at,
                                            at__lt=s.end_at, data__route="litigation")
        numerator = Q(diversion_route="litigation") & Q(Exists(diverted))
        return Q(pk__in=[]), numerator
    if kpi_code == "one_place":
        elsewhere = Visit.objects.filter(case_id=OuterRef("case_id")).exclude(place=OuterRef("place"))
        two_places = Visit.objects.filter(case_id=OuterRef("pk")).filter(Exists(elsewhere))
        return closed, closed & ~Q(Exists(two_places))
    if kpi_code == "zero_visit":
        return closed, closed & ~Q(Exists(Visit.objects.filter(case_id=OuterRef("pk"))))
    if kpi_code == "days_accept":
        accepted = _in("accepted_at", s) & unit
        return accepted, accepted
    if kpi_code == "days_handle":
        denominator = concluded & Q(accepted_at__isnull=False)
        return denominator, denominator
    if kpi_code == "days_close":
        denominator = closed & Q(concluded_at__isnull=False)
        return denominator, denominator
    if kpi_code == "days_total":
        return closed, closed
    raise InvalidSlice("kpi", f"没有指标“{kpi_code[:40]}”")


AVERAGE_SPANS = {
    "days_accept": ("registered_at", "accepted_at"),
    "days_handle": ("accepted_at", "concluded_at"),
    "days_close": ("concluded_at", "closed_at"),
    "days_total": ("registered_at", "closed_at"),
}


def population(region_code: str, year: int) -> int | None:
    """The resident population of a region in a year: its own row, else the sum of the rows one level down
    (e.g. a county from its townships); None when no row exists."""
    low, high = code_range(region_code)
    rows = list(RegionPopulation.objects.filter(year=year, region_id__gte=low, region_id__lt=high)
                .values_list("region_id", "resident_population"))
    if not rows:
        return None
    own = [people for code, people in rows if code == region_code]
    if own:
        return own[0]
    shallowest = min(len(code) for code, _people in rows)
    return sum(people for code, people in rows if len(code) == shallowest)


def _check_codes(kpi_codes) -> list[str]:
    codes = list(kpi_codes)
    unknown = [code for code in codes if code not in KPI_BY_CODE]
    if unknown:
        raise InvalidSlice("kpi", f"没有指标“{unknown[0][:40]}”")
    return codes


def _ensure_workdays(s: Slice) -> None:
    oldest = Case.objects.order_by("registered_at").values_list("registered_at", flat=True).first()
    first_year = min(s.period.starts_on.year, timezone.localtime(oldest).year if oldest else s.period.starts_on.year)
    ensure_index(first_year, s.period.ends_on.year)


def compute(kpi_codes, s: Slice, *, now: datetime | None = None) -> list[KpiValue]:
    """The values of `kpi_codes` (in that order) for the slice."""
    codes = _check_codes(kpi_codes)
    now = now or clock.now()
    if any(code in ORDINAL_KPIS for code in codes):
        _ensure_workdays(s)
    base = base_cases(s)
    counted = [code for code in codes if code not in AVERAGE_SPANS]
    aggregates = {}
    totals = {}
    for code in counted:
        if code in SPLIT_KPIS:
            denominator, extra = split(code, s, now=now)
            result = aggregate(base.filter(denominator), d=Count("pk"), n=Count("pk", filter=extra))
            totals[f"{code}__n"], totals[f"{code}__d"] = result["n"], result["d"]
            continue
        denominator, numerator = parts(code, s, now=now)
        aggregates[f"{code}__n"] = Count("pk", filter=numerator)
        if code != "litigation_per_10k":
            aggregates[f"{code}__d"] = Count("pk", filter=denominator)
    if aggregates:
        totals.update(aggregate(base, **aggregates))
    values: dict[str, KpiValue] = {}
    for code in counted:
        kpi = KPI_BY_CODE[code]
        if code == "litigation_per_10k":
            values[code] = _per_10k(kpi, totals[f"{code}__n"], s)
        else:
            values[code] = kpi_value(kpi, totals[f"{code}__n"], totals[f"{code}__d"])
    for code in codes:
        if code in AVERAGE_SPANS:
            denominator, _numerator = parts(code, s, now=now)
            start, end = AVERAGE_SPANS[code]
            result = aggregate(base.filter(denominator), n=Count("pk"), days=Sum(_workdays(start, end)))
            values[code] = kpi_value(KPI_BY_CODE[code], result["days"] or 0, result["n"])
    return [values[code] for code in codes]


def _per_10k(kpi, numerator: int, s: Slice) -> KpiValue:
    if s.unit_id is not None:
        return kpi_value(kpi, numerator, 0, reason="按区划常住人口计算，选择单位时不适用")
    people = population(s.region_code, s.period.starts_on.year)
    if people is None:
        return kpi_value(kpi, numerator, 0)
    return kpi_value(kpi, numerator, people)


def matters(kpi_code: str, part: str, s: Slice, *, now: datetime | None = None) -> QuerySet:
    """The matters behind one part of one KPI for the slice: exactly those counted (newest first)."""
    _check_codes([kpi_code])
    try:
        part = Part(part)
    except ValueError:
        raise InvalidSlice("part", "part 只能是 numerator（分子）或 denominator（分母）") from None
    if kpi_code in ORDINAL_KPIS:
        _ensure_workdays(s)
    denominator, numerator = parts(kpi_code, s, now=now)
    condition = numerator if part == Part.NUMERATOR else denominator
    return base_cases(s).filter(condition).order_by("-registered_at", "-id")


ALL_KPI_CODES = tuple(kpi.code for kpi in KPIS)


def has_matters(s: Slice) -> bool:
    """Whether any matter of the slice was registered, concluded or closed in the period (else: 无数据)."""
    return base_cases(s).filter(_in("registered_at", s) | _in("concluded_at", s) | _in("closed_at", s)).exists()
