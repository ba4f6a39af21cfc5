"""The native API for matters (/api/v1/cases) and reference data (/api/v1/reference).

Parse → authorise (token and scope: `accounts.api_auth`; the matter: `accounts.access` with the client's service
account) → one action or query → render. Rules:
- lists are paginated (`page`, `page_size` ≤ 100) and only ever hold `access.visible_cases`;
- a matter out of scope is 404 `not_found`, exactly like one that does not exist;
- parties are masked by default (ID number, phone, address, as on the web pages); in full only for a client with
  `personal:read` whose unit is actively assigned to the matter, and every such read is audited;
- a create may carry `Idempotency-Key`: the first response is stored and replayed; another body → 422;
- an action needs `If-Match` with the matter's ETag (`W/"<version>"`): missing → 428, stale → 412.
The reference endpoints live here too: their tables belong to `core`, `regions` and `cases`, and only `cases`
may use the token authentication of `accounts`.
"""

import json
import re
from typing import Literal

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Query, Router
from ninja.responses import NinjaJSONEncoder

from yidi.accounts import access
from yidi.accounts.actions import IdempotencyKeyReused, do_run_idempotent, request_fingerprint
from yidi.accounts.api_auth import client_auth
from yidi.accounts.models import ApiScope
from yidi.cases import actions, queries
from yidi.cases.domain import (
    STATUS_LABELS,
    CaseDraft,
    CaseStatus,
    IllegalTransition,
    InvalidInput,
    PartyDraft,
    RuleViolation,
)
from yidi.cases.models import Case, Channel
from yidi.cases.schemas import (
    CaseActionIn,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePage,
    ChannelOut,
    ErrorOut,
    RegionOut,
    RegionQuery,
    TaxonomyOut,
)
from yidi.core.api_errors import error_response, register_error
from yidi.core.masking import PersonalKind, mask, mask_in_text
from yidi.core.models import Taxonomy
from yidi.regions.models import Region

register_error(InvalidInput, 400, "invalid_input", with_field=True)
register_error(IllegalTransition, 409, "illegal_transition")
register_error(RuleViolation, 409, "rule_violation")
register_error(access.ActionDenied, 403, "action_denied")
register_error(access.CaseNotFound, 404, "not_found")
register_error(IdempotencyKeyReused, 422, "idempotency_key_reused", "此 Idempotency-Key 已用于另一个请求")
register_error(actions.StaleVersion, 412, "precondition_failed")

router = Router(tags=["事项"])
reference_router = Router(tags=["基础数据"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 412: ErrorOut, 413: ErrorOut,
          422: ErrorOut, 428: ErrorOut}
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
ETAG = re.compile(r'(?:W/)?"(\d+)"')
PERSONAL_READ_PURPOSE = "接口客户端读取本单位在办事项的当事人信息"


def etag(case: Case) -> str:
    return f'W/"{case.version}"'


def _code_name(obj) -> dict | None:
    return None if obj is None else {"code": str(obj.pk if isinstance(obj, Region) else obj.code), "name": obj.name}


def _summary(case: Case) -> dict:
    return {
        "code": case.code, "status": case.status, "status_label": STATUS_LABELS[CaseStatus(case.status)],
        "title": mask_in_text(case.title), "request_type": case.request_type, "region": _code_name(case.region),
        "channel": _code_name(case.channel), "primary_type": _code_name(case.primary_type), "grade": case.grade,
        "complexity": case.complexity, "is_urgent": case.is_urgent, "lead_unit": _code_name(case.lead_unit),
        "registered_at": case.registered_at, "updated_at": case.updated_at, "version": case.version,
    }


def _party(party, *, full: bool) -> dict:
    person = party.person
    values = {field: getattr(person, field) or "" for field in ("id_number", "phone", "address")}
    if not full:
        values = {field: mask(value, PersonalKind(field)) for field, value in values.items()}
    return {"id": party.pk, "role": party.role, "kind": person.kind, "name": person.name, **values}


def _detail(case: Case, client) -> dict:
    """The matter with its parties, masked unless the client may and does receive them in full (audited)."""
    parties = list(case.parties.select_related("person").order_by("position", "id"))
    full = client.has_scope(ApiScope.PERSONAL_READ) and queries.is_unit_actively_assigned(client.unit_id, case)
    if full and parties:
        actions.do_record_personal_data_read(case, parties, actor=client.user, purpose=PERSONAL_READ_PURPOSE)
    return {
        **_summary(case),
        "description": mask_in_text(case.description), "address": mask_in_text(case.address),
        "occurred_at": case.occurred_at, "people_involved": case.people_involved,
        "amount_involved": case.amount_involved, "handling_mode": case.handling_mode, "outcome": case.outcome,
        "personal_data": "full" if full else "masked",
        "parties": [_party(party, full=full) for party in parties],
        "assignments": [
            {"unit": _code_name(a.unit), "role": a.role, "status": a.status, "assigned_at": a.assigned_at,
             "signed_at": a.signed_at}
            for a in case.assignments.select_related("unit").order_by("assigned_at", "id")
        ],
        "contacts": [
            {"channel": _code_name(c.channel), "contacted_at": c.contacted_at, "summary": mask_in_text(c.summary),
             "external_ref": c.external_ref}
            for c in case.contacts.select_related("channel").order_by("contacted_at", "id")
        ],
    }


def _json(status: int, body: dict, *, case: Case | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, encoder=NinjaJSONEncoder, json_dumps_params={"ensure_ascii": False})
    if case is not None:
        response["ETag"] = etag(case)
    return response


# --- matters ------------------------------------------------------------------------------------------------


@router.get("/cases", response={200: CasePage, **ERRORS}, auth=client_auth(ApiScope.CASES_READ), url_name="api_cases",
            summary="事项列表（分页）")
def list_cases(request: HttpRequest, filters: Query[CaseListQuery]):
    cases = queries.list_api_cases(
        request.auth.user, statuses=tuple(filters.status), region_prefix=filters.region, updated_since=filters.since
    )
    start = (filters.page - 1) * filters.page_size
    return {"count": cases.count(), "page": filters.page, "page_size": filters.page_size,
            "results": [_summary(case) for case in cases[start:start + filters.page_size]]}


@router.get("/cases/{code}", response={200: CaseOut, **ERRORS}, auth=client_auth(ApiScope.CASES_READ),
            url_name="api_case", summary="事项详情（当事人信息默认脱敏）")
def get_case(request: HttpRequest, code: str, response: HttpResponse):
    case = access.get_case_for_user(request.auth.user, code)
    response["ETag"] = etag(case)
    return _detail(case, request.auth)


def _draft(payload: CaseIn) -> CaseDraft:
    return CaseDraft(
        channel_code=payload.channel, request_type=payload.request_type, title=payload.title,
        description=payload.description, region_code=payload.region, address=payload.address,
        occurred_at=payload.occurred_at, people_involved=payload.people_involved,
        amount_involved=payload.amount_involved, latitude=payload.latitude, longitude=payload.longitude,
        primary_type_code=payload.primary_type, grade=payload.grade or "", complexity=payload.complexity or "",
        is_urgent=payload.is_urgent, in_person=payload.in_person, external_ref=payload.external_ref,
        labels=dict(payload.labels),
        parties=tuple(PartyDraft(**party.model_dump()) for party in payload.parties),
    )


@router.post("/cases", response={201: CaseOut, **ERRORS}, auth=client_auth(ApiScope.CASES_WRITE),
             url_name="api_cases", summary="登记事项（支持 Idempotency-Key）")
def create_case(request: HttpRequest, payload: CaseIn):
    client = request.auth
    key = request.headers.get("Idempotency-Key")

    def register() -> tuple[int, dict]:
        case = actions.do_register_case(_draft(payload), actor=client.user)
        case = access.get_case_for_user(client.user, case.code)
        body = json.loads(json.dumps(_detail(case, client), cls=NinjaJSONEncoder))
        return 201, body

    if key is None:
        with transaction.atomic():
            status, body = register()
        return _with_etag(status, body)
    if not IDEMPOTENCY_KEY.match(key):
        return error_response(400, "invalid_idempotency_key", "Idempotency-Key 须为1～255个可见 ASCII 字符")
    status, body, _replayed = do_run_idempotent(
        client, key=key, request_hash=request_fingerprint(request.method, request.path, request.body), produce=register
    )
    return _with_etag(status, body)


def _with_etag(status: int, body: dict) -> JsonResponse:
    response = _json(status, body)
    response["ETag"] = f'W/"{body["version"]}"'
    return response


CaseActionName = Literal["accept", "sign", "return", "start_handling", "conclude"]


def _perform(action: str, code: str, payload: CaseActionIn, *, actor):
    if action == "accept":
        return lambda: actions.do_accept_case(code, actor=actor)
    if action == "sign":
        return lambda: actions.do_sign_case(code, actor=actor)
    if action == "return":
        return lambda: actions.do_return_case(code, actor=actor, reason=payload.reason)
    if action == "start_handling":
        if payload.mode is None:
            raise InvalidInput("mode", "请选择办理方式（mode）")
        return lambda: actions.do_start_handling(code, actor=actor, mode=payload.mode)
    if payload.outcome is None:
        raise InvalidInput("outcome", "请选择办理结果（outcome）")
    return lambda: actions.do_conclude_case(code, actor=actor, outcome=payload.outcome, summary=payload.summary)


@router.post("/cases/{code}/actions/{action}", response={200: CaseOut, **ERRORS},
             auth=client_auth(ApiScope.CASES_ACT), url_name="api_case_action",
             summary="办理动作：受理、签收、回退、开始办理、出结果（须带 If-Match）")
def act_on_case(request: HttpRequest, code: str, action: CaseActionName, payload: CaseActionIn | None = None):
    if_match = request.headers.get("If-Match")
    if not if_match:
        return error_response(428, "precondition_required", "请在 If-Match 头中提供事项的 ETag（先读取事项）")
    versions = [int(found) for found in ETAG.findall(if_match)]
    client = request.auth
    perform = _perform(action, code, payload or CaseActionIn(), actor=client.user)
    case = actions.do_at_version(
        code, actor=client.user, expected_version=versions[0] if versions else -1, perform=perform
    )
    case = access.get_case_for_user(client.user, case.code)
    return _json(200, json.loads(json.dumps(_detail(case, client), cls=NinjaJSONEncoder)), case=case)


# --- reference data -----------------------------------------------------------------------------------------


@reference_router.get("/channels", response={200: list[ChannelOut], **ERRORS},
                      auth=client_auth(ApiScope.REFERENCE_READ), url_name="api_reference_channels", summary="来源渠道")
def list_channels(request: HttpRequest):
    return list(Channel.objects.filter(is_active=True).order_by("position", "code").values("code", "name", "group"))


@reference_router.get("/taxonomies/{code}", response={200: TaxonomyOut, **ERRORS},
                      auth=client_auth(ApiScope.REFERENCE_READ), url_name="api_reference_taxonomy",
                      summary="分类体系及其标签")
def get_taxonomy(request: HttpRequest, code: str):
    taxonomy = Taxonomy.objects.filter(code=code, is_active=True).first()
    if taxonomy is None:
        return error_response(404, "not_found", "分类体系不存在")
    labels = taxonomy.labels.filter(is_active=True).order_by("position", "code").values("code", "name")
    return {"code": taxonomy.code, "name": taxonomy.name, "version": taxonomy.version, "labels": list(labels)}


@reference_router.get("/regions", response={200: list[RegionOut], **ERRORS},
                      auth=client_auth(ApiScope.REFERENCE_READ), url_name="api_reference_regions",
                      summary="行政区划（parent 的下一级；不指定为最上级）")
def list_regions(request: HttpRequest, filters: Query[RegionQuery]):
    regions = Region.objects.filter(is_active=True, parent_id=filters.parent or None).order_by("code")
    return [{"code": r.code, "name": r.name, "short_name": r.short_name, "level": r.level, "parent": r.parent_id}
            for r in regions]
