"""Analytics pages: the KPI table, the drill-down to the matters behind each number, rankings, and exports.

Parse the filters → scope them to the user (`queries.slice_for_user`, through `accounts.access`) → compute → render.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header

from yidi.analytics import engine, queries, tables
from yidi.analytics.domain import KPI_BY_CODE, KPIS, PART_LABELS, InvalidSlice, Part
from yidi.analytics.exports import CONTENT_TYPES, do_export_table
from yidi.analytics.queries import SCORE, SliceRequest
from yidi.core.db_router import reading_from_replica

EXPORT_MAX_ROWS = 50000


def _request(request: HttpRequest) -> SliceRequest:
    get = request.GET
    return SliceRequest(region=get.get("region", ""), unit=get.get("unit", ""), dispute_type=get.get("type", ""),
                        channel=get.get("channel", ""), period=get.get("period", ""), starts_on=get.get("from", ""),
                        ends_on=get.get("to", ""))


def _require_viewer(request: HttpRequest) -> None:
    if not queries.can_view_analytics(request.user):
        raise Http404("页面不存在")


def _filters(request: HttpRequest) -> dict:
    user = request.user
    return {
        "filter_values": request.GET, "regions": queries.region_choices(user.unit.region_id),
        "units": queries.unit_choices(user.unit.region_id), "types": queries.type_choices(),
        "channels": queries.channel_choices(),
    }


def _scoped(request: HttpRequest):
    """The slice, or (None, error message) for bad input; out of scope is 404."""
    try:
        return queries.slice_for_user(request.user, _request(request), today=timezone.localdate()), ""
    except queries.OutOfScope:
        raise Http404("该区划或单位不在您的查看范围内") from None
    except InvalidSlice as error:
        return None, str(error)


def _error_page(request: HttpRequest, template: str, message: str, extra: dict | None = None) -> HttpResponse:
    return render(request, template, {**_filters(request), "error": message, **(extra or {})}, status=400)


def _file(request: HttpRequest, rows: list[list], *, fmt: str, title: str, what: str, s) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404("不支持的导出格式")
    content, content_type = do_export_table(rows, fmt=fmt, title=title, what=what, filters=tables.slice_params(s),
                                            actor=request.user)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{title}-{s.period.token}.{fmt}")
    return response


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def kpi_table(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    s, error = _scoped(request)
    if s is None:
        return _error_page(request, "analytics/kpis.html", error)
    values = engine.compute([kpi.code for kpi in KPIS], s)
    return render(request, "analytics/kpis.html", {
        **_filters(request), "slice": s, "values": values, "has_data": engine.has_matters(s),
        "query": tables.slice_query(s),
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def kpi_export(request: HttpRequest, table_format: str) -> HttpResponse:
    _require_viewer(request)
    s, error = _scoped(request)
    if s is None:
        return _error_page(request, "analytics/kpis.html", error)
    values = engine.compute([kpi.code for kpi in KPIS], s)
    return _file(request, tables.kpi_rows(values), fmt=table_format, title="考核指标", what="kpis", s=s)


def _drill(request: HttpRequest):
    kpi_code, part = request.GET.get("kpi", ""), request.GET.get("part", "")
    if kpi_code not in KPI_BY_CODE:
        return None, None, f"没有指标“{kpi_code[:40]}”"
    if part not in (Part.NUMERATOR, Part.DENOMINATOR):
        return None, None, "part 只能是 numerator（分子）或 denominator（分母）"
    s, error = _scoped(request)
    return s, (KPI_BY_CODE[kpi_code], Part(part)), error


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def matter_list(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    if not request.GET.get("kpi"):
        return render(request, "analytics/matters.html", {"hint": True})
    s, chosen, error = _drill(request)
    if s is None:
        return _error_page(request, "analytics/matters.html", error)
    kpi, part = chosen
    cases = queries.list_matters(request.user, kpi.code, part, s)
    page = Paginator(cases, 20).get_page(request.GET.get("page"))
    query = tables.slice_query(s, kpi=kpi.code, part=part.value)
    return render(request, "analytics/matters.html", {
        **_filters(request), "slice": s, "kpi": kpi, "part": part, "part_label": PART_LABELS[part],
        "part_text": kpi.numerator if part == Part.NUMERATOR else kpi.denominator, "page_obj": page,
        "querystring": query, "query": query, "back_query": tables.slice_query(s),
        "population_only": kpi.code == "litigation_per_10k" and part == Part.DENOMINATOR,
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def matter_export(request: HttpRequest, table_format: str) -> HttpResponse:
    _require_viewer(request)
    s, chosen, error = _drill(request)
    if s is None:
        return _error_page(request, "analytics/matters.html", error)
    kpi, part = chosen
    limit = getattr(settings, "YIDI_ANALYTICS_EXPORT_MAX_ROWS", EXPORT_MAX_ROWS)
    cases = queries.list_matters(request.user, kpi.code, part, s)[:limit]
    return _file(request, tables.matter_rows(cases), fmt=table_format,
                 title=f"{kpi.name}{PART_LABELS[part]}事项", what="matters", s=s)


def _ranking(request: HttpRequest, s):
    group = request.GET.get("group", "township")
    by = request.GET.get("by", SCORE)
    return queries.ranking(s, group=group, by=by)


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def ranking_page(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    s, error = _scoped(request)
    context = {"kpis": KPIS, "group": request.GET.get("group", "township"), "by": request.GET.get("by", SCORE)}
    if s is None:
        return _error_page(request, "analytics/rankings.html", error, context)
    try:
        ranking = _ranking(request, s)
    except InvalidSlice as failure:
        return _error_page(request, "analytics/rankings.html", str(failure), context)
    return render(request, "analytics/rankings.html", {
        **_filters(request), **context, "slice": s, "ranking": ranking, "previous": s.period.previous(),
        "query": tables.slice_query(s, group=ranking.group, by=ranking.by), "base_query": tables.slice_query(s),
    })


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def ranking_export(request: HttpRequest, table_format: str) -> HttpResponse:
    _require_viewer(request)
    s, error = _scoped(request)
    if s is None:
        return _error_page(request, "analytics/rankings.html", error)
    try:
        ranking = _ranking(request, s)
    except InvalidSlice as failure:
        return _error_page(request, "analytics/rankings.html", str(failure))
    return _file(request, tables.ranking_rows(ranking), fmt=table_format, title=f"{ranking.title}排名",
                 what="rankings", s=s)
