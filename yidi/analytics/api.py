"""The analytics part of the native API (/api/v1/): mounted in `yidi/api.py`.

- GET /analytics/kpis?kpi=&region=&unit=&type=&channel=&period=&from=&to= — values with numerator, denominator
  and the reason when undefined (`kpi` may repeat or be comma-separated; none = every KPI);
- GET /analytics/rankings?group=township|department&by=<kpi>|score&region=&period=&from=&to=.
Scope `analytics:read`; the client sees its unit's region (a region-wide unit) or only its own unit's figures.
Bad input is 400 `invalid_input` with the parameter in `field`; a region or unit outside the client's view is
404 `not_found`.
"""

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from yidi.accounts.api_auth import client_auth
from yidi.accounts.models import ApiScope
from yidi.analytics import engine, queries
from yidi.analytics.domain import KPIS, InvalidSlice
from yidi.analytics.queries import SCORE, SliceRequest
from yidi.analytics.tables import slice_params
from yidi.core.api_errors import error_response, register_error

register_error(InvalidSlice, 400, "invalid_input", with_field=True)
register_error(queries.OutOfScope, 404, "not_found")

router = Router(tags=["统计分析与考核"])


def _slice_request(request: HttpRequest) -> SliceRequest:
    get = request.GET
    return SliceRequest(region=get.get("region", ""), unit=get.get("unit", ""), dispute_type=get.get("type", ""),
                        channel=get.get("channel", ""), period=get.get("period", ""), starts_on=get.get("from", ""),
                        ends_on=get.get("to", ""))


def _slice_out(s) -> dict:
    return {**slice_params(s), "from": s.period.starts_on.isoformat(), "to": s.period.ends_on.isoformat(),
            "period_label": s.period.label}


def _number(value):
    return None if value is None else str(value)


@router.get("/kpis", auth=client_auth(ApiScope.ANALYTICS_READ), url_name="api_analytics_kpis",
            summary="考核指标（分子、分母、值，无法计算时给出原因）")
def kpis(request: HttpRequest):
    codes = [code.strip() for value in request.GET.getlist("kpi") for code in value.split(",") if code.strip()]
    s = queries.slice_for_client(request.auth, _slice_request(request), today=timezone.localdate())
    values = engine.compute(codes or [kpi.code for kpi in KPIS], s)
    return {
        "slice": _slice_out(s), "has_data": engine.has_matters(s),
        "results": [
            {"kpi": v.code, "name": v.kpi.name, "numerator": _number(v.numerator), "denominator": _number(v.denominator),
             "value": _number(v.value), "unit": v.kpi.measure_unit, "reason": v.reason,
             "higher_is_better": v.kpi.higher_is_better, "time_basis": v.kpi.time_basis, "source": v.kpi.source}
            for v in values
        ],
    }


@router.get("/rankings", auth=client_auth(ApiScope.ANALYTICS_READ), url_name="api_analytics_rankings",
            summary="乡镇街道或部门排名（按指标或考核得分，含最低样本量与较上期变化）")
def rankings(request: HttpRequest):
    s = queries.slice_for_client(request.auth, _slice_request(request), today=timezone.localdate())
    if s.unit_id is not None:
        return error_response(404, "not_found", "排名只对区划级客户端开放")
    ranking = queries.ranking(s, group=request.GET.get("group", "township"), by=request.GET.get("by", SCORE))
    return {
        "slice": _slice_out(s), "group": ranking.group, "by": ranking.by, "title": ranking.title,
        "unit": ranking.measure_unit, "minimum_volume": ranking.minimum_volume,
        "previous_period": s.period.previous().label,
        "results": [
            {"rank": row.rank, "key": row.key, "name": row.name, "value": _number(row.value), "volume": row.volume,
             "previous": _number(row.previous), "change": _number(row.change), "note": row.excluded_reason,
             "breakdown": [{"label": line.label, "detail": line.detail, "points": str(line.points)}
                           for line in row.detail]}
            for row in ranking.rows
        ],
    }
