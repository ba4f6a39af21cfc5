"""The supervision part of the native API (/api/v1/): mounted in `yidi/api.py`.

- `GET /alerts` (scope `alerts:read`): the alerts the client's service account may see
  (`supervision.queries.alert_scope`), paginated (`page`, `page_size` ≤ 100), filters status/severity/kind/region;
- `GET /alerts/{id}`: one alert with its reason, figures, timeline and the codes of the matters the client may
  see (the others are counted); out of scope → 404 `not_found`, exactly like one that does not exist.
- `POST /alerts` (scope `alerts:write`): 人工上报 through `actions.do_raise_manual_alert` with the client's service
  account (a client of a dispatching unit acts as its dispatcher: `accounts.api_auth`); 201 with the alert as
  `GET /alerts/{id}` shows it. Bad input → 400 `invalid_input` with `field`; a client whose account may not
  raise over those matters → 403 `action_denied`; a matter code the client cannot see → 404 `not_found`, like
  one that does not exist. `Idempotency-Key` as for `POST /cases` (`accounts.api_auth.respond_once`).
Texts pass through `mask_in_text`, as on the pages.
"""

from django.http import HttpRequest
from ninja import Query, Router

from yidi.accounts.access import CaseNotFound
from yidi.accounts.api_auth import as_json, client_auth, respond_once
from yidi.accounts.models import ApiScope
from yidi.core.api_errors import register_error
from yidi.core.masking import mask_in_text
from yidi.supervision import actions, queries
from yidi.supervision.domain import AlertActionDenied, AlertRuleViolation
from yidi.supervision.models import Alert
from yidi.supervision.schemas import AlertListQuery, AlertOut, AlertPage, ErrorOut, ManualAlertIn

register_error(queries.AlertNotFound, 404, "not_found", "预警不存在或无权查看")
register_error(AlertRuleViolation, 400, "invalid_input", with_field=True)
register_error(AlertActionDenied, 403, "action_denied")

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


def _detail(user, alert: Alert) -> dict:
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


@router.get("/alerts/{alert_id}", response={200: AlertOut, **ERRORS}, auth=client_auth(ApiScope.ALERTS_READ),
            url_name="api_alert", summary="风险预警详情（理由、检验数据、处置记录、关联事项）")
def get_alert(request: HttpRequest, alert_id: int):
    user = request.auth.user
    return _detail(user, queries.get_alert_for_user(user, alert_id))


@router.post("/alerts", response={201: AlertOut, 422: ErrorOut, **ERRORS}, auth=client_auth(ApiScope.ALERTS_WRITE),
             url_name="api_alerts", summary="人工上报风险预警（支持 Idempotency-Key）")
def raise_manual_alert(request: HttpRequest, payload: ManualAlertIn):
    user = request.auth.user

    def raise_alert() -> tuple[int, dict]:
        try:
            alert = actions.do_raise_manual_alert(actor=user, title=payload.title, reason=payload.reason,
                                                  severity=payload.severity, case_codes=payload.case_codes)
        except CaseNotFound as error:
            unseen = queries.unseen_case_codes(user, [c.strip() for c in payload.case_codes if c.strip()])
            raise CaseNotFound(f"事项 {'、'.join(unseen)} 不存在或无权查看" if unseen else str(error)) from None
        return 201, as_json(_detail(user, queries.get_alert_for_user(user, alert.pk)))

    return respond_once(request, raise_alert, version_of=lambda body: None)  # an alert has no ETag
