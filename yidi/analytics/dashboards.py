"""The supervision dashboards: the centre's overview, the township map (or schematic), per-unit pages and the
mediator pool's performance — reads, then pages.

Figures and where they come from:
- rates (化解率, 满意率, 按期办结率 …) are the KPI engine's (`yidi.analytics.engine.compute`), and link to its
  drill-down (`analytics_matters`); per township they are the engine's own conditions (`engine.parts`) grouped;
- plain volumes (registered, concluded, closed, open, overdue now, red/yellow now) by month, type, channel, unit
  and township are this module's `MEASURES`, each one `Q` on `Case`; each figure links to `dashboard_matters`,
  which lists `matching_cases(...)` — the very same `Q`, so a list holds exactly the matters counted;
- every aggregate is one GROUP BY query (no Python loop over matters), so a page runs a fixed number of queries;
  results are cached for `YIDI_DASHBOARD_CACHE_SECONDS` (default 60 s), keyed by the page, its region, period
  and filters. The scope is the region: only the roles that oversee a region open these pages
  (`queries.can_view_analytics`), and for them `access.case_scope` holds the whole region, so the figures of a
  region are exactly what they may read; the lists are filtered by `access.case_scope` besides.
"""

import hashlib
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header

from yidi.accounts import access
from yidi.accounts.models import Unit
from yidi.analytics import engine, queries, rollup, tables
from yidi.analytics.domain import KPI_BY_CODE, InvalidSlice, KpiValue, Part
from yidi.analytics.engine import Slice
from yidi.analytics.exports import CONTENT_TYPES, do_export_table
from yidi.analytics.queries import SliceRequest
from yidi.cases.domain import OPEN_STATUSES
from yidi.cases.models import Case, Channel
from yidi.core import clock
from yidi.core.db_router import reading_from_replica
from yidi.core.models import TaxonomyLabel
from yidi.mediation.domain import OPEN_MEDIATION_STATUSES, MediationStatus, success_rate
from yidi.mediation.models import Designation, Mediator, MediatorRating
from yidi.regions.domain import code_range
from yidi.regions.models import Region, RegionMap

CACHE_VERSION = "dashboard-1"
EXPORT_MAX_ROWS = 50000
NO_DATA = "无数据"
_OPEN = sorted(OPEN_STATUSES)
_MEDIATION_RESULTS = [MediationStatus.AGREED, MediationStatus.FAILED]


def cache_seconds() -> int:
    return int(getattr(settings, "YIDI_DASHBOARD_CACHE_SECONDS", 60))


# --- measures: one condition each, shared by the counts and the lists -----------------------------------------------


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    time_field: str  # the timestamp that places a matter in the period ("" for a snapshot of now)
    unit_field: str  # which unit a unit page counts it for
    description: str


MEASURES = {m.code: m for m in (
    Measure("registered", "本期登记", "registered_at", "registering_unit_id", "本期登记的事项（按登记单位计入单位）"),
    Measure("registered_open", "其中在办", "registered_at", "registering_unit_id", "本期登记、目前仍在办理的事项"),
    Measure("concluded", "本期出结果", "concluded_at", "lead_unit_id", "本期作出办理结果的事项（按主办单位）"),
    Measure("closed", "本期办结", "closed_at", "lead_unit_id", "本期办结的事项（按主办单位）"),
    Measure("open_now", "当前在办", "", "lead_unit_id", "目前仍在办理的全部事项（不限登记时间）"),
    Measure("overdue_now", "当前超期", "", "lead_unit_id", "目前在办且已超过办理期限的事项"),
    Measure("red_now", "红色预警", "", "lead_unit_id", "目前在办、期限进入红色预警的事项"),
    Measure("yellow_now", "黄色预警", "", "lead_unit_id", "目前在办、期限进入黄色预警的事项"),
)}
SNAPSHOT_NOTE = "当前数（不受统计期间影响）"
# The rates the overview shows, from the KPI engine.
OVERVIEW_KPIS = ("resolution", "satisfaction", "handle_on_time", "sign_timely", "mediation_success",
                 "evaluation_participation")
UNIT_KPIS = ("sign_timely", "handle_on_time", "resolution", "satisfaction", "first_time_resolution")
# What the township map can be coloured by: a measure of ours or a rate of the engine. Only rates whose
# conditions are columns of the matter are grouped per township in the same query (the clock and evaluation
# KPIs run subqueries per matter: too slow for every township at once; they are on the rates panel).
MAP_MEASURES = {
    "registered": ("本期登记", "count"),
    "open_now": ("当前在办", "count"),
    "overdue_now": ("当前超期", "bad"),
    "closed": ("本期办结", "count"),
    "resolution": ("化解率", "rate"),
}


def _between(field_name: str, start_at: datetime, end_at: datetime) -> Q:
    return Q(**{f"{field_name}__gte": start_at, f"{field_name}__lt": end_at})


def measure_q(code: str, s: Slice) -> Q:
    """The condition of a measure for the slice's period (snapshots ignore the period)."""
    period = _between(MEASURES[code].time_field, s.start_at, s.end_at) if MEASURES[code].time_field else Q()
    if code == "registered":
        return period
    if code == "registered_open":
        return period & Q(status__in=_OPEN)
    if code == "concluded":
        return period & ~Q(outcome="")
    if code == "closed":
        return period
    if code == "open_now":
        return Q(status__in=_OPEN)
    state = {"overdue_now": "overdue", "red_now": "red", "yellow_now": "yellow"}[code]
    return Q(status__in=_OPEN, deadline_state=state)


def region_cases(region_code: str) -> QuerySet:
    low, high = code_range(region_code)
    return Case.objects.filter(region_id__gte=low, region_id__lt=high)


@dataclass(frozen=True)
class Group:
    """One bar, slice or tile: which rows of a measure it holds (a query parameter and its value)."""

    param: str  # month | type | channel | lead | area | unit | mediator
    value: str


def _month_range(token: str, s: Slice) -> tuple[datetime, datetime]:
    year, month = (int(part) for part in token.split("-"))
    first = date(year, month, 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(first + timedelta(days=monthrange(year, month)[1]), time.min))
    return max(start, s.start_at), min(end, s.end_at)


def group_q(measure: str, group: Group, s: Slice) -> Q:
    """The condition of one group (the same split the GROUP BY made)."""
    value = group.value
    if group.param == "month":
        if not MEASURES[measure].time_field:
            raise InvalidSlice("month", "当前数不按月份分组")
        try:
            start, end = _month_range(value, s)
        except ValueError:
            raise InvalidSlice("month", f"月份“{value[:10]}”格式不对，应为 YYYY-MM") from None
        return _between(MEASURES[measure].time_field, start, end)
    if group.param in ("type", "channel", "lead"):
        column = {"type": "primary_type_id", "channel": "channel_id", "lead": "lead_unit_id"}[group.param]
        if value == "none":
            return Q(**{f"{column}__isnull": True})
        if not value.isdigit():
            raise InvalidSlice(group.param, f"分组“{value[:20]}”不正确")
        return Q(**{column: int(value)})
    if group.param == "area":
        if value == "self":
            return Q(region_id=s.region_code)
        if not value.isdigit() or not value.startswith(s.region_code) or len(value) != len(s.region_code) + 3:
            raise InvalidSlice("area", f"区划“{value[:15]}”不是所选区划的下一级")
        low, high = code_range(value)
        return Q(region_id__gte=low, region_id__lt=high)
    if group.param == "unit":
        return Q(**{MEASURES[measure].unit_field: int(value)})
    raise InvalidSlice("group", "分组参数不正确")


def matching_cases(measure: str, s: Slice, groups: list[Group]) -> QuerySet:
    """The matters behind one figure: region, measure and every group condition (the lists and exports)."""
    condition = measure_q(measure, s)
    for group in groups:
        condition &= group_q(measure, group, s)
    return region_cases(s.region_code).filter(condition)


MEDIATOR_MEASURES = {
    "mediator_open": "在办调解",
    "mediator_results": "本期调结（达成协议或调解不成）",
    "mediator_agreements": "本期达成协议",
    "mediator_sessions": "本期开过调解会议",
}


def _designations(mediator_id: int | None = None) -> QuerySet:
    """Designations that count for a mediator: not recused (as `yidi.mediation.queries.mediator_stats`)."""
    designations = Designation.objects.filter(ended_at=None)
    return designations if mediator_id is None else designations.filter(mediator_id=mediator_id)


def mediator_designation_q(measure: str, s: Slice) -> Q:
    """On `Designation`: the condition of a mediator measure (mediations of matters in the region)."""
    low, high = code_range(s.region_code)
    in_region = Q(mediation__case__region_id__gte=low, mediation__case__region_id__lt=high)
    if measure == "mediator_open":
        return in_region & Q(mediation__status__in=sorted(OPEN_MEDIATION_STATUSES))
    ended = in_region & _between("mediation__ended_at", s.start_at, s.end_at)
    if measure == "mediator_results":
        return ended & Q(mediation__status__in=_MEDIATION_RESULTS)
    if measure == "mediator_agreements":
        return ended & Q(mediation__status=MediationStatus.AGREED)
    if measure == "mediator_sessions":
        return in_region & _between("mediation__sessions__started_at", s.start_at, s.end_at)
    raise InvalidSlice("measure", f"没有统计项“{measure[:30]}”")


def mediator_cases(measure: str, s: Slice, mediator_id: int) -> QuerySet:
    designations = _designations(mediator_id).filter(mediator_designation_q(measure, s))
    return region_cases(s.region_code).filter(Exists(designations.filter(mediation__case_id=OuterRef("pk"))))


# --- tables: the figures of every page, shared by the page, its charts and its exports ---------------------------


@dataclass
class Cell:
    value: object  # int, Decimal, str or None
    url: str = ""
    display: str = ""

    @property
    def text(self) -> str:
        if self.display:
            return self.display
        return "—" if self.value is None else str(self.value)

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, (int, Decimal)) or self.value is None


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def export_rows(self) -> list[list]:
        out: list[list] = [list(self.header)]
        for row in self.rows:
            out.append([cell.value if cell.value is not None else "—" for cell in row])
        return out

    @property
    def is_empty(self) -> bool:
        return not self.rows


@dataclass
class Links:
    """Builds the drill-down links of one page (our lists and the engine's)."""

    s: Slice
    extra: dict = field(default_factory=dict)  # e.g. the unit of a unit page

    def matters(self, measure: str, *groups: Group) -> str:
        params = {**tables.slice_params(self.s), "measure": measure, **self.extra}
        for group in groups:
            params[group.param] = group.value
        return f"{reverse('dashboard_matters')}?{urlencode(params)}"

    def kpi(self, code: str, part: str, *, region: str = "", unit: str = "") -> str:
        s = self.s.with_region(region) if region else self.s
        params = {**tables.slice_params(s), "kpi": code, "part": part}
        if unit:
            params["unit"] = unit
        return f"{reverse('analytics_matters')}?{urlencode(params)}"


def _count(value) -> int:
    return int(value or 0)


def _rate_cells(value: KpiValue, links: Links, **kwargs) -> list[Cell]:
    """Value, numerator and denominator of a rate, the two parts linked to the engine's drill-down."""
    return [
        Cell(value.value, display=value.display if value.value is not None else f"—（{value.reason}）"),
        Cell(int(value.numerator), links.kpi(value.code, Part.NUMERATOR, **kwargs)),
        Cell(int(value.denominator), links.kpi(value.code, Part.DENOMINATOR, **kwargs)),
    ]


def rates_table(values: list[KpiValue], links: Links, *, unit: str = "") -> Table:
    table = Table("rates", "化解、满意与时效", ["指标", "值（%）", "分子（件）", "分母（件）", "分子口径", "分母口径"])
    for value in values:
        table.rows.append([Cell(value.kpi.name), *_rate_cells(value, links, unit=unit),
                           Cell(value.kpi.numerator), Cell(value.kpi.denominator)])
    return table


def _months(s: Slice) -> list[str]:
    """Every month of the period up to the current one (months still to come are not shown as zeros)."""
    months, day = [], s.period.starts_on.replace(day=1)
    last = min(s.period.ends_on, timezone.localdate(clock.now()))
    while day <= last:
        months.append(f"{day:%Y-%m}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def monthly_series(s: Slice, base: QuerySet, *, unit_id: int | None = None) -> dict[str, dict[str, int]]:
    """Registered and closed per month "YYYY-MM" (two GROUP BY queries)."""
    series = {}
    for measure in ("registered", "closed"):
        rows = base.filter(measure_q(measure, s))
        if unit_id is not None:
            rows = rows.filter(**{MEASURES[measure].unit_field: unit_id})
        time_field = MEASURES[measure].time_field
        grouped = rows.annotate(month=TruncMonth(time_field)).values("month").annotate(n=Count("pk")).order_by()
        series[measure] = {f"{timezone.localtime(row['month']) if timezone.is_aware(row['month']) else row['month']:%Y-%m}":
                           row["n"] for row in grouped}
    return series


def monthly_table(s: Slice, links: Links, series: dict[str, dict[str, int]]) -> Table:
    """Registered and closed per month (from `monthly_series` or the rollup), every month of the period listed."""
    table = Table("monthly", "月度趋势", ["月份", "登记（件）", "办结（件）"])
    for month in _months(s):
        table.rows.append([Cell(month)] + [
            Cell(series[m].get(month, 0), links.matters(m, Group("month", month))) for m in ("registered", "closed")])
    return table


def _grouped(base: QuerySet, condition: Q, column: str, *names: str) -> list[dict]:
    """One GROUP BY: matters of `condition` per `column` (with the joined names), most first."""
    return list(base.filter(condition).values(column, *names).annotate(n=Count("pk")).order_by("-n", column))


def breakdown_table(key: str, title: str, label: str, rows: list[dict], column: str, name_column: str, param: str,
                    measure: str, links: Links, *, empty_name: str, label_url=None) -> Table:
    table = Table(key, title, [label, f"{MEASURES[measure].label}（件）"])
    for row in rows:
        ident = row[column]
        group = Group(param, "none" if ident is None else str(ident))
        table.rows.append([Cell(row[name_column] or empty_name, label_url(row) if label_url else ""),
                           Cell(row["n"], links.matters(measure, group))])
    return table


def _area_names(s: Slice) -> dict[str, str]:
    names = dict(Region.objects.filter(parent_id=s.region_code).values_list("code", "short_name"))
    return names


def area_rows(s: Slice, base: QuerySet) -> dict[str, dict]:
    """Every measure (and the map's rates) per area one level below the slice's region — townships of a county,
    villages of a township — in one GROUP BY query; the region's own totals are the sums of its areas."""
    length = len(s.region_code) + 3
    aggregates = {code: Count("pk", filter=measure_q(code, s)) for code in MEASURES}
    rate_codes = [code for code, (_l, kind) in MAP_MEASURES.items() if kind == "rate"]
    for code in rate_codes:
        denominator, numerator = engine.parts(code, s)
        aggregates[f"{code}__n"] = Count("pk", filter=numerator)
        aggregates[f"{code}__d"] = Count("pk", filter=denominator)
    return {row["area"]: row for row in base.annotate(area=Substr("region_id", 1, length)).values("area")
            .annotate(**aggregates).order_by()}


SNAPSHOT_MEASURES = ("registered_open", "open_now", "overdue_now", "red_now", "yellow_now")


def snapshot_area_rows(s: Slice, base: QuerySet) -> dict[str, dict]:
    """The snapshot measures (and 其中在办) per area, from the open matters only (one GROUP BY)."""
    length = len(s.region_code) + 3
    aggregates = {code: Count("pk", filter=measure_q(code, s)) for code in SNAPSHOT_MEASURES}
    return {row["area"]: row for row in base.filter(status__in=_OPEN).annotate(area=Substr("region_id", 1, length))
            .values("area").annotate(**aggregates).order_by()}


@dataclass
class OverviewCounts:
    """The overview's grouped figures, wherever they came from (the matters, or the rollup and the open matters)."""

    per_area: dict[str, dict]  # area → every measure, "resolution__n" and "resolution__d"
    by_type: list[dict]  # primary_type_id, primary_type__name, n (registered), most first
    by_channel: list[dict]  # channel_id, channel__name, n
    monthly: dict[str, dict[str, int]]  # "registered"/"closed" → month → n
    source: str  # "live" or "rollup"


def live_counts(s: Slice, base: QuerySet) -> OverviewCounts:
    """Every grouped figure of the overview straight from the matters (GROUP BY queries)."""
    registered = measure_q("registered", s)
    return OverviewCounts(
        area_rows(s, base), _grouped(base, registered, "primary_type_id", "primary_type__name"),
        _grouped(base, registered, "channel_id", "channel__name"), monthly_series(s, base), "live")


def rolled_up_counts(s: Slice, base: QuerySet, through_on) -> OverviewCounts:
    """The same figures from the daily rollup (days up to `through_on`; later days live) and the open matters."""
    counts = rollup.period_counts(s.region_code, s.period.starts_on, s.period.ends_on, through_on=through_on)
    snapshot = snapshot_area_rows(s, base)
    per_area = {}
    for area in set(counts.by_area) | set(snapshot):
        day = counts.by_area.get(area, {})
        now_ = snapshot.get(area, {})
        per_area[area] = {"registered": day.get("registered", 0), "concluded": day.get("concluded", 0),
                          "closed": day.get("closed", 0), "resolution__n": day.get("resolved", 0),
                          "resolution__d": day.get("concluded", 0),
                          **{code: now_.get(code, 0) for code in SNAPSHOT_MEASURES}}
    type_names = dict(TaxonomyLabel.objects.filter(pk__in=[k for k in counts.by_type if k is not None])
                      .values_list("pk", "name"))
    channel_names = dict(Channel.objects.filter(pk__in=list(counts.by_channel)).values_list("pk", "name"))
    by_type = sorted(({"primary_type_id": k, "primary_type__name": type_names.get(k), "n": n}
                      for k, n in counts.by_type.items()), key=_most_first("primary_type_id"))
    by_channel = sorted(({"channel_id": k, "channel__name": channel_names.get(k), "n": n}
                         for k, n in counts.by_channel.items()), key=_most_first("channel_id"))
    monthly = {measure: {month: row[measure] for month, row in counts.by_month.items() if row[measure]}
               for measure in ("registered", "closed")}
    return OverviewCounts(per_area, by_type, by_channel, monthly, "rollup")


def _most_first(column: str):
    """The order of `_grouped`: most first, then by id (nulls last, as PostgreSQL and SQLite sort … ASC differ)."""
    return lambda row: (-row["n"], row[column] is None, row[column] or 0)


def overview_counts(s: Slice, base: QuerySet) -> OverviewCounts:
    """From the rollup when it serves the region and has been built (refreshed first when stale), else live."""
    if rollup.serves(s.region_code):
        state = rollup.ensure_fresh()
        if state is not None:
            return rolled_up_counts(s, base, state.through_on)
    return live_counts(s, base)


def area_table(s: Slice, links: Links, rows: dict[str, dict], names: dict[str, str]) -> Table:
    """The map measures of each area (from `area_rows`), each figure linked to its matters."""
    header = ["代码", "名称"] + [f"{label}（{'%' if kind == 'rate' else '件'}）"
                               for _code, (label, kind) in MAP_MEASURES.items()]
    table = Table("areas", "按乡镇（街道）" if len(s.region_code) == 6 else "按下级区划", header)
    ordered = sorted(names.items())
    if s.region_code in rows:
        ordered.append((s.region_code, "（未细化到下级区划）"))
    for code, name in ordered:
        row = rows.get(code, {})
        area = "self" if code == s.region_code else code
        cells = [Cell(code), Cell(name)]
        for measure, (_label, kind) in MAP_MEASURES.items():
            if kind != "rate":
                cells.append(Cell(_count(row.get(measure)), links.matters(measure, Group("area", area))))
                continue
            value = engine.kpi_value(KPI_BY_CODE[measure], row.get(f"{measure}__n"), row.get(f"{measure}__d"))
            url = links.kpi(measure, Part.DENOMINATOR, region=code) if area != "self" else ""
            cells.append(Cell(value.value, url, display=value.display))
        table.rows.append(cells)
    return table


def _summary_cards(counts: dict, links: Links, codes) -> list[dict]:
    return [{"code": code, "label": MEASURES[code].label, "value": _count(counts[code]),
             "url": links.matters(code), "snapshot": not MEASURES[code].time_field,
             "description": MEASURES[code].description} for code in codes]


def _chart(kind: str, table: Table, *, label_col: int, value_cols: list[int], names: list[str] | None = None) -> dict:
    """A chart's data (read by dashboard.js): categories and series, each point with the link of its cell."""
    return {
        "kind": kind,
        "categories": [row[label_col].text for row in table.rows],
        "series": [{"name": names[i] if names else table.header[col],
                    "data": [{"value": float(row[col].value) if row[col].value is not None else None,
                              "url": row[col].url} for row in table.rows]}
                   for i, col in enumerate(value_cols)],
    }


def _map_data(table: Table, measure: str, region_map: RegionMap | None) -> dict:
    """The township tiles (and map features) coloured by `measure`: value, bucket 0–5 and link per area."""
    column = 2 + list(MAP_MEASURES).index(measure)
    label, kind = MAP_MEASURES[measure]
    present = [float(row[column].value) for row in table.rows if row[column].value is not None]
    top = max(present, default=0)
    low = min(present, default=0) if kind == "rate" else 0
    names = {code: name for name, code in (region_map.mapping.items() if region_map else [])}
    tiles = []
    for row in table.rows:
        cell = row[column]
        if cell.value is None:
            bucket = None
        elif top == low:
            bucket = 3 if top else 0
        else:
            bucket = min(5, int((float(cell.value) - low) / (top - low) * 5 + (0 if kind == "rate" else 0.999)))
        tiles.append({"code": row[0].text, "name": row[1].text, "value": cell.text, "number": (
            float(cell.value) if cell.value is not None else None), "bucket": bucket, "url": cell.url,
            "feature": names.get(row[0].text, "")})
    return {"measure": measure, "label": label, "kind": kind, "tiles": tiles, "max": top, "min": low}


# --- the pages' figures -------------------------------------------------------------------------------------------


def _cache_key(page: str, s: Slice, **extra) -> str:
    raw = "|".join([CACHE_VERSION, page, s.region_code, s.period.starts_on.isoformat(), s.period.ends_on.isoformat(),
                    s.period.kind, *[f"{k}={v}" for k, v in sorted(extra.items())]])
    return "yidi:dashboard:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _cached(key: str, build):
    found = cache.get(key)
    if found is not None:
        return found
    value = build()
    cache.set(key, value, cache_seconds())
    return value


def overview(s: Slice, *, map_measure: str = "registered") -> dict:
    """The centre's overview of a region and period (see the module docstring); cached briefly."""
    # The map's digest is part of the key, so an uploaded or replaced map shows at once rather than after the cache.
    map_digest = RegionMap.objects.filter(county_id=s.region_code).values_list("sha256", flat=True).first() \
        if len(s.region_code) == 6 else None
    return _cached(_cache_key("overview", s, measure=map_measure, map=map_digest or ""),
                   lambda: _overview(s, map_measure))


def _overview(s: Slice, map_measure: str) -> dict:
    links = Links(s)
    base = region_cases(s.region_code)
    grouped = overview_counts(s, base)
    per_area = grouped.per_area
    counts = {code: sum(_count(row[code]) for row in per_area.values()) for code in MEASURES}
    by_type = breakdown_table("by_type", "按纠纷类型（本期登记）", "纠纷类型", grouped.by_type, "primary_type_id",
                              "primary_type__name", "type", "registered", links, empty_name="待分类")
    by_channel = breakdown_table("by_channel", "按来源渠道（本期登记）", "来源渠道", grouped.by_channel, "channel_id",
                                 "channel__name", "channel", "registered", links, empty_name="未知渠道")
    by_unit = breakdown_table("overdue_by_unit", "当前超期事项按主办单位", "主办单位",
                              _grouped(base, measure_q("overdue_now", s), "lead_unit_id", "lead_unit__name",
                                       "lead_unit__code"),
                              "lead_unit_id", "lead_unit__name", "lead", "overdue_now", links, empty_name="尚未交办",
                              label_url=lambda row: reverse("dashboard_unit", args=[row["lead_unit__code"]])
                              + f"?{tables.slice_query(s)}" if row["lead_unit__code"] else "")
    by_unit.note = SNAPSHOT_NOTE
    monthly = monthly_table(s, links, grouped.monthly)
    names = _area_names(s)
    areas = area_table(s, links, per_area, names)
    region_map = RegionMap.objects.filter(county_id=s.region_code).only("county_id", "mapping").first() \
        if len(s.region_code) == 6 else None
    summary = Table("summary", "事项概况", ["统计项", "数量（件）", "说明"], [
        [Cell(card["label"]), Cell(card["value"], card["url"]), Cell(card["description"])]
        for card in _summary_cards(counts, links, MEASURES)])
    return {
        "cards": _summary_cards(counts, links, ["registered", "registered_open", "concluded", "closed"]),
        "snapshot_cards": _summary_cards(counts, links, ["open_now", "overdue_now", "red_now", "yellow_now"]),
        "has_data": any(_count(counts[code]) for code in ("registered", "concluded", "closed")),
        "tables": {t.key: t for t in (summary, monthly, by_type, by_channel, by_unit, areas)},
        "charts": {
            "monthly": _chart("line", monthly, label_col=0, value_cols=[1, 2], names=["登记", "办结"]),
            "by_type": _chart("hbar", by_type, label_col=0, value_cols=[1], names=["本期登记"]),
            "by_channel": _chart("pie", by_channel, label_col=0, value_cols=[1], names=["本期登记"]),
            "overdue_by_unit": _chart("hbar", by_unit, label_col=0, value_cols=[1], names=["当前超期"]),
        },
        "map": _map_data(areas, map_measure, region_map),
        "has_map": region_map is not None,
    }


def unit_page(s: Slice, unit: Unit) -> dict:
    return _cached(_cache_key("unit", s, unit=unit.pk), lambda: _unit_page(s, unit))


def _unit_page(s: Slice, unit: Unit) -> dict:
    links = Links(s, extra={"unit": unit.code})
    base = region_cases(s.region_code)
    aggregates = {code: Count("pk", filter=measure_q(code, s) & Q(**{MEASURES[code].unit_field: unit.pk}))
                  for code in MEASURES}
    counts = base.aggregate(**aggregates)
    open_by_type = breakdown_table(
        "open_by_type", "当前在办事项按纠纷类型", "纠纷类型",
        _grouped(base, measure_q("open_now", s) & Q(lead_unit_id=unit.pk), "primary_type_id", "primary_type__name"),
        "primary_type_id", "primary_type__name", "type", "open_now", links, empty_name="待分类")
    open_by_type.note = SNAPSHOT_NOTE
    monthly = monthly_table(s, links, monthly_series(s, base, unit_id=unit.pk))
    monthly.header = ["月份", "本单位登记（件）", "本单位主办办结（件）"]
    summary = Table("summary", "事项概况", ["统计项", "数量（件）", "说明"], [
        [Cell(card["label"]), Cell(card["value"], card["url"]), Cell(card["description"])]
        for card in _summary_cards(counts, links, MEASURES)])
    return {
        "cards": _summary_cards(counts, links, ["registered", "concluded", "closed", "open_now"]),
        "snapshot_cards": _summary_cards(counts, links, ["overdue_now", "red_now", "yellow_now"]),
        "has_data": any(_count(counts[code]) for code in MEASURES),
        "tables": {t.key: t for t in (summary, monthly, open_by_type)},
        "charts": {
            "monthly": _chart("line", monthly, label_col=0, value_cols=[1, 2], names=["本单位登记", "主办办结"]),
            "open_by_type": _chart("hbar", open_by_type, label_col=0, value_cols=[1], names=["当前在办"]),
        },
    }


def rates(s: Slice, unit: Unit | None = None) -> dict:
    """The engine's rates of the overview (or of a unit), with links to its drill-down; cached like the pages.

    Loaded apart from the page (htmx, `dashboard_rates`): the clock and evaluation KPIs are the slowest figures,
    and the counts and charts must not wait for them."""
    key = _cache_key("rates", s, unit=unit.pk if unit else "")

    def build() -> dict:
        links = Links(s)
        codes = UNIT_KPIS if unit else OVERVIEW_KPIS
        values = engine.compute(codes, s.with_unit(unit.pk) if unit else s)
        unit_code = unit.code if unit else ""
        return {"rates": values, "rate_cells": [(value, _rate_cells(value, links, unit=unit_code)) for value in values],
                "table": rates_table(values, links, unit=unit_code)}

    return _cached(key, build)


def mediator_pool(s: Slice) -> dict:
    return _cached(_cache_key("mediators", s), lambda: _mediator_pool(s))


def _percent(rate: float | None) -> str | None:
    return None if rate is None else f"{rate * 100:.2f}"


def _mediator_pool(s: Slice) -> dict:
    """The pool serving the region (mediators whose service region is in it), each with the mediations of
    matters in the region: workload now, results and agreements in the period, sessions, ratings."""
    links = Links(s)
    low, high = code_range(s.region_code)
    mediators = list(Mediator.objects.filter(is_active=True, region_id__gte=low, region_id__lt=high)
                     .select_related("user", "region", "room").order_by("region_id", "user__display_name", "id"))
    ids = [m.pk for m in mediators]
    counted = {row["mediator_id"]: row for row in _designations().filter(mediator_id__in=ids).values("mediator_id")
               .annotate(**{code: Count("mediation_id", filter=mediator_designation_q(code, s), distinct=True)
                            for code in ("mediator_open", "mediator_results", "mediator_agreements")}).order_by()}
    sessions = {row["mediator_id"]: row for row in _designations().filter(mediator_id__in=ids).filter(
        mediator_designation_q("mediator_sessions", s)).values("mediator_id").annotate(
        sessions=Count("mediation__sessions", distinct=True), matters=Count("mediation__case_id", distinct=True))
        .order_by()}
    ratings = {row["mediator_id"]: row for row in MediatorRating.objects.filter(
        mediator_id__in=ids, recorded_at__gte=s.start_at, recorded_at__lt=s.end_at).values("mediator_id")
        .annotate(n=Count("pk"), average=Avg("score")).order_by()}
    table = Table("mediators", "调解员履职情况", [
        "调解员", "服务区域", "所在调解室", "等级", "在办调解（件）", "同时办理上限（件）", "本期调结（件）",
        "其中达成协议（件）", "调解成功率", "调解会议（次）", "评价（次）", "平均评分"])
    total = {"open": 0, "results": 0, "agreements": 0, "sessions": 0}
    for mediator in mediators:
        row = counted.get(mediator.pk, {})
        open_, results, agreements = (_count(row.get(c)) for c in
                                      ("mediator_open", "mediator_results", "mediator_agreements"))
        held = sessions.get(mediator.pk, {})
        rate = success_rate(agreements, results)
        extra = {"mediator": mediator.pk}
        url = lambda measure, e=extra: f"{links.matters(measure)}&{urlencode(e)}"  # noqa: E731
        average = ratings.get(mediator.pk, {}).get("average")
        table.rows.append([
            Cell(mediator.user.display_name or mediator.user.username), Cell(mediator.region.short_name),
            Cell(mediator.room.name if mediator.room_id else "—"), Cell(mediator.get_grade_display() or "—"),
            Cell(open_, url("mediator_open")), Cell(mediator.capacity), Cell(results, url("mediator_results")),
            Cell(agreements, url("mediator_agreements")),
            Cell(None if rate is None else Decimal(rate * 100).quantize(Decimal("0.01")), url("mediator_results"),
                 display="—（调结不足 3 件）" if rate is None else f"{rate * 100:.2f}%"),
            Cell(_count(held.get("sessions")), url("mediator_sessions")),
            Cell(_count(ratings.get(mediator.pk, {}).get("n"))),
            Cell(None if average is None else Decimal(average).quantize(Decimal("0.01"))),
        ])
        total["open"] += open_
        total["results"] += results
        total["agreements"] += agreements
        total["sessions"] += _count(held.get("sessions"))
    busiest = sorted(table.rows, key=lambda r: (-(r[4].value or 0), r[0].text))[:15]
    workload = Table("workload", "", ["调解员", "在办调解", "同时办理上限"], [[r[0], r[4], r[5]] for r in busiest])
    return {
        "table": table, "total": total, "has_data": bool(mediators),
        "overall_rate": _percent(success_rate(total["agreements"], total["results"])),
        "charts": {"workload": _chart("hbar", workload, label_col=0, value_cols=[1, 2],
                                      names=["在办调解", "同时办理上限"])},
    }


# --- pages --------------------------------------------------------------------------------------------------------


def _slice_request(request: HttpRequest) -> SliceRequest:
    get = request.GET
    return SliceRequest(region=get.get("region", ""), period=get.get("period", ""), starts_on=get.get("from", ""),
                        ends_on=get.get("to", ""))


def _scoped(request: HttpRequest) -> tuple[Slice | None, str]:
    """The region and period asked for, within the user's region; 404 out of scope, an error for bad input."""
    if not queries.can_view_analytics(request.user):
        raise Http404("页面不存在")
    try:
        return queries.slice_for_user(request.user, _slice_request(request),
                                      today=timezone.localdate(clock.now())), ""
    except queries.OutOfScope:
        raise Http404("该区划不在您的查看范围内") from None
    except InvalidSlice as error:
        return None, str(error)


def _page_context(request: HttpRequest, s: Slice | None) -> dict:
    user = request.user
    return {
        "values": request.GET, "regions": queries.region_choices(user.unit.region_id)[:1] + [
            (code, name) for code, name in queries.region_choices(user.unit.region_id)[1:]
            if len(code) <= len(user.unit.region_id) + 3],
        "slice": s, "query": tables.slice_query(s) if s else "",
        "region": Region.objects.filter(code=s.region_code).first() if s else None,
        "cache_seconds": cache_seconds(),
    }


def _table_list(tables_: dict, url_name: str, args: list, query: str) -> list[tuple]:
    """Each table with its CSV and Excel export links."""
    return [(table, f"{reverse(url_name, args=[*args, key, 'csv'])}?{query}",
             f"{reverse(url_name, args=[*args, key, 'xlsx'])}?{query}") for key, table in tables_.items()]


def _error(request: HttpRequest, template: str, message: str) -> HttpResponse:
    return render(request, template, {**_page_context(request, None), "error": message}, status=400)


def _file(request: HttpRequest, table: Table, *, fmt: str, s: Slice, title: str, extra: dict) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404("不支持的导出格式")
    content, content_type = do_export_table(table.export_rows(), fmt=fmt, title=title, what=f"dashboard_{table.key}",
                                            filters={**tables.slice_params(s), **extra}, actor=request.user)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{title}-{s.period.token}.{fmt}")
    return response


def _map_measure(request: HttpRequest) -> str:
    measure = request.GET.get("measure", "registered")
    return measure if measure in MAP_MEASURES else "registered"


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def overview_page(request: HttpRequest) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/overview.html", error)
    data = overview(s, map_measure=_map_measure(request))
    return render(request, "analytics/dashboard/overview.html", {
        **_page_context(request, s), **data, "map_measures": MAP_MEASURES, "map_measure": _map_measure(request),
        "tab": "overview", "table_list": _table_list(data["tables"], "dashboard_export", [], tables.slice_query(s)),
        "rates_url": rates_url(s),
        "map_url": reverse("dashboard_region_map", args=[s.region_code]) if data["has_map"] else "",
        "no_data": NO_DATA,
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def overview_export(request: HttpRequest, dashboard_table: str, table_format: str) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/overview.html", error)
    if dashboard_table == "rates":
        table = rates(s)["table"]
    else:
        table = overview(s, map_measure=_map_measure(request))["tables"].get(dashboard_table)
    if table is None:
        raise Http404("没有这张表")
    return _file(request, table, fmt=table_format, s=s, title=f"{table.title}", extra={})


def _unit_for(request: HttpRequest, unit_code: str) -> Unit:
    """A unit of the user's county (departments sit at county level); its figures are limited to the region."""
    low, high = code_range(request.user.unit.region_id[:6])
    unit = Unit.objects.filter(code=unit_code, region_id__gte=low, region_id__lt=high).first()
    if unit is None:
        raise Http404("单位不存在或不在您的查看范围内")
    return unit


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def unit_detail(request: HttpRequest, unit_code: str) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/unit.html", error)
    unit = _unit_for(request, unit_code)
    data = unit_page(s, unit)
    return render(request, "analytics/dashboard/unit.html", {
        **_page_context(request, s), **data, "unit": unit, "no_data": NO_DATA, "tab": "unit",
        "rates_url": rates_url(s, unit),
        "table_list": _table_list(data["tables"], "dashboard_unit_export", [unit.code], tables.slice_query(s)),
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def unit_export(request: HttpRequest, unit_code: str, dashboard_table: str, table_format: str) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/unit.html", error)
    unit = _unit_for(request, unit_code)
    table = rates(s, unit)["table"] if dashboard_table == "rates" else unit_page(s, unit)["tables"].get(dashboard_table)
    if table is None:
        raise Http404("没有这张表")
    return _file(request, table, fmt=table_format, s=s, title=f"{unit.name}{table.title}", extra={"unit": unit.code})


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def rates_panel(request: HttpRequest) -> HttpResponse:
    """The rates panel of the overview or of a unit page (`unit=`): a fragment for htmx, else a page."""
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/rates.html", error)
    unit = _unit_for(request, request.GET["unit"]) if request.GET.get("unit") else None
    data = rates(s, unit)
    query = tables.slice_query(s)
    if unit is None:
        exports = [reverse("dashboard_export", args=["rates", fmt]) + f"?{query}" for fmt in ("csv", "xlsx")]
    else:
        exports = [reverse("dashboard_unit_export", args=[unit.code, "rates", fmt]) + f"?{query}"
                   for fmt in ("csv", "xlsx")]
    template = "analytics/dashboard/_rates_panel.html" if request.headers.get("HX-Request") == "true" \
        else "analytics/dashboard/rates.html"
    return render(request, template, {**_page_context(request, s), **data, "unit": unit, "tab": "overview",
                                      "table_list": [(data["table"], *exports)]})


def rates_url(s: Slice, unit: Unit | None = None) -> str:
    extra = f"&{urlencode({'unit': unit.code})}" if unit else ""
    return f"{reverse('dashboard_rates')}?{tables.slice_query(s)}{extra}"


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def mediators_page(request: HttpRequest) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/mediators.html", error)
    data = mediator_pool(s)
    query = tables.slice_query(s)
    return render(request, "analytics/dashboard/mediators.html", {
        **_page_context(request, s), **data, "no_data": NO_DATA, "tab": "mediators",
        "table_list": [(data["table"], f"{reverse('dashboard_mediators_export', args=['csv'])}?{query}",
                        f"{reverse('dashboard_mediators_export', args=['xlsx'])}?{query}")],
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def mediators_export(request: HttpRequest, table_format: str) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/mediators.html", error)
    return _file(request, mediator_pool(s)["table"], fmt=table_format, s=s, title="调解员履职情况", extra={})


GROUP_PARAMS = ("month", "type", "channel", "lead", "area")


@dataclass(frozen=True)
class MatterQuery:
    measure: str
    label: str
    description: str
    cases: QuerySet
    filters: dict  # the query parameters beyond the slice (measure, groups, unit, mediator)
    summary: list[str]  # the filters in words


def _matter_query(request: HttpRequest, s: Slice) -> MatterQuery:
    """Parse `measure` and its groups (bad input raises `InvalidSlice`, a unit or mediator outside scope 404)."""
    get = request.GET
    measure = get.get("measure", "") or "registered"  # the bare list: this period's registered matters
    filters: dict = {"measure": measure}
    summary: list[str] = []
    if measure in MEDIATOR_MEASURES:
        low, high = code_range(s.region_code)
        mediator_id = get.get("mediator", "")
        mediator = Mediator.objects.filter(pk=int(mediator_id) if mediator_id.isdigit() else 0,
                                           region_id__gte=low, region_id__lt=high).select_related("user").first()
        if mediator is None:
            raise Http404("调解员不存在或不在您的查看范围内")
        filters["mediator"] = mediator.pk
        summary.append(f"调解员：{mediator.user.display_name or mediator.user.username}")
        return MatterQuery(measure, MEDIATOR_MEASURES[measure], "该调解员（未回避）参与的调解所涉事项",
                           mediator_cases(measure, s, mediator.pk), filters, summary)
    if measure not in MEASURES:
        raise InvalidSlice("measure", f"没有统计项“{measure[:30]}”")
    groups: list[Group] = []
    for param in GROUP_PARAMS:
        value = get.get(param, "").strip()
        if value:
            groups.append(Group(param, value))
            filters[param] = value
            summary.append(_group_label(param, value, s))
    unit_code = get.get("unit", "").strip()
    if unit_code:
        unit = _unit_for(request, unit_code)
        groups.append(Group("unit", str(unit.pk)))
        filters["unit"] = unit.code
        summary.append(("登记单位：" if MEASURES[measure].unit_field == "registering_unit_id" else "主办单位：")
                       + unit.name)
    info = MEASURES[measure]
    return MatterQuery(measure, info.label, info.description, matching_cases(measure, s, groups), filters, summary)


def _group_label(param: str, value: str, s: Slice) -> str:
    if param == "month":
        return f"月份：{value}"
    if value == "none":
        return {"type": "纠纷类型：待分类", "channel": "来源渠道：未知", "lead": "主办单位：尚未交办"}.get(param, "")
    if param == "type" and value.isdigit():
        return f"纠纷类型：{TaxonomyLabel.objects.filter(pk=int(value)).values_list('name', flat=True).first() or value}"
    if param == "channel" and value.isdigit():
        return f"来源渠道：{Channel.objects.filter(pk=int(value)).values_list('name', flat=True).first() or value}"
    if param == "lead" and value.isdigit():
        return f"主办单位：{Unit.objects.filter(pk=int(value)).values_list('name', flat=True).first() or value}"
    if param == "area":
        if value == "self":
            return "区划：未细化到下级区划"
        return f"区划：{Region.objects.filter(code=value).values_list('name', flat=True).first() or value}"
    return ""


def _visible(request: HttpRequest, cases: QuerySet) -> QuerySet:
    return cases.filter(access.case_scope(request.user)).select_related(
        "region", "region__parent", "primary_type", "lead_unit", "channel").order_by("-registered_at", "-id")


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def matter_list(request: HttpRequest) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/matters.html", error)
    try:
        chosen = _matter_query(request, s)
    except InvalidSlice as failure:
        return _error(request, "analytics/dashboard/matters.html", str(failure))
    page = Paginator(_visible(request, chosen.cases), 20).get_page(request.GET.get("page"))
    query = f"{tables.slice_query(s)}&{urlencode(chosen.filters)}"
    return render(request, "analytics/dashboard/matters.html", {
        **_page_context(request, s), "chosen": chosen, "page_obj": page, "query": query, "querystring": query,
        "back_query": tables.slice_query(s), "snapshot": chosen.measure in MEASURES and
        not MEASURES[chosen.measure].time_field,
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def matter_export(request: HttpRequest, table_format: str) -> HttpResponse:
    s, error = _scoped(request)
    if s is None:
        return _error(request, "analytics/dashboard/matters.html", error)
    try:
        chosen = _matter_query(request, s)
    except InvalidSlice as failure:
        return _error(request, "analytics/dashboard/matters.html", str(failure))
    if table_format not in CONTENT_TYPES:
        raise Http404("不支持的导出格式")
    limit = int(getattr(settings, "YIDI_ANALYTICS_EXPORT_MAX_ROWS", EXPORT_MAX_ROWS))
    rows = tables.matter_rows(_visible(request, chosen.cases)[:limit])
    content, content_type = do_export_table(rows, fmt=table_format, title=f"{chosen.label}事项",
                                            what="dashboard_matters",
                                            filters={**tables.slice_params(s), **chosen.filters}, actor=request.user)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{chosen.label}事项-{s.period.token}.{table_format}")
    return response


@login_required
def region_map(request: HttpRequest, county_code: str) -> HttpResponse:
    """The county's township GeoJSON for the map (within the user's region only; long-cached by its hash)."""
    if not queries.can_view_analytics(request.user) or not county_code.isdigit() \
            or not request.user.unit.region_id.startswith(county_code):
        raise Http404("页面不存在")
    stored = RegionMap.objects.filter(county_id=county_code).first()
    if stored is None:
        raise Http404("该县尚未上传乡镇地图")
    response = JsonResponse(stored.geojson)
    response["Cache-Control"] = "private, max-age=300"
    response["ETag"] = f'"{stored.sha256}"'
    return response

