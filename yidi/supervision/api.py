"""The supervision part of the native API (/api/v1/): mounted in `yidi/api.py`.

- `GET /alerts` (scope `alerts:read`): the alerts the client's service account may see
  (`supervision.queries.alert_scope`), paginated (`page`, `page_size` ≤ 100), filters status/severity/kind/region;
- `GET /alerts/{id}`: one alert with its reason, figures, timeline and the codes of the matters the client may
  see (the others are counted); out of scope → 404 `not_found`, exactly like one that does not exist.
Texts pass through `mask_in_text`, as on the pages.
"""

from django.http import HttpRequest
from ninja import Query, Router

from yidi.accounts.api_auth import client_auth
from yidi.accounts.models import ApiScope
from yidi.core.api_errors import register_error
from yidi.core.masking import mask_in_text
from yidi.supervision import queries
from yidi.supervision.models import Alert
from yidi.supervision.schemas import AlertListQuery, AlertOut, AlertPage, ErrorOut

register_error(queries.AlertNotFound, 404, "not_found", "预警不存在或无权查看")

router = Router(tags=["风险预警与专项治理"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _code_name(obj) -> dict | None:
    if obj is None:
        return None
    return {"code": str(getattr(obj, "code", obj.pk)), "name": obj.name}


def _summary(alert: Alert, case_count: int) -> dict:
    return {
        "id": alert.pk, "kind": alert.kind, "kind_label": alert.get_kind_display(), "status": alert.status,
        "status_label": alert.get_status_display(), "severity": alert.severity,
        "severity_label": alert.get_severity_display(), "title": mask_in_text(alert.title),
        "region": _code_name(alert.region), "dispute_type": _code_name(alert.dispute_type),
        "owner_unit": _code_name(alert.owner_unit), "case_count": case_count, "detected_at": alert.detected_at,
        "updated_at": alert.updated_at,
    }


@router.get("/alerts", response={200: AlertPage, **ERRORS}, auth=client_auth(ApiScope.ALERTS_READ),
            url_name="api_alerts", summary="风险预警列表（分页）")
def list_alerts(request: HttpRequest, filters: Query[AlertListQuery]):
    alerts = queries.list_alerts(
        request.auth.user, status=filters.status or "", severity=filters.severity or "", kind=filters.kind or "",
        region=filters.region,
    )
    start = (filters.page - 1) * filters.page_size
    return {"count": alerts.count(), "page": filters.page, "page_size": filters.page_size,
            "results": [_summary(a, a.case_count) for a in alerts[start:start + filters.page_size]]}


@router.get("/alerts/{alert_id}", response={200: AlertOut, **ERRORS}, auth=client_auth(ApiScope.ALERTS_READ),
            url_name="api_alert", summary="风险预警详情（理由、检验数据、处置记录、关联事项）")
def get_alert(request: HttpRequest, alert_id: int):
    user = request.auth.user
    alert = queries.get_alert_for_user(user, alert_id)
    cases = queries.alert_cases_for_user(user, alert)
    return {
        **_summary(alert, len(cases.visible) + cases.hidden_count),
        "reason": mask_in_text(alert.reason), "severity_rule": alert.severity_rule, "measures": alert.measures,
        "period_start_on": alert.period_start_on, "period_end_on": alert.period_end_on,
        "case_codes": [case.code for case in cases.visible], "hidden_case_count": cases.hidden_count,
        "events": [
            {"seq": e.seq, "action": e.action, "label": e.label, "from_status": e.from_status,
             "to_status": e.to_status, "at": e.at, "actor_name": e.actor_name, "note": mask_in_text(e.note)}
            for e in queries.list_alert_events(alert)
        ],
    }
