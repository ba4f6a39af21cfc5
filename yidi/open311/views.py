"""Open311 GeoReport v2 at /open311/v2/, in `.json` and `.xml` (http://wiki.open311.org/GeoReport_v2).

Plain Django views, not ninja: the spec routes by file suffix and posts form-encoded bodies. Parse → authorise →
one query or action → render. Rules:
- reads are public and carry no personal data: only matters of the `open311` channel, the description masked
  (`mask_in_text`), the address cut after the township (`mask`), coordinates rounded to ~100 m, no parties;
- a create authenticates by `api_key` (an integration client's token with `cases:write`; a session never counts)
  and registers the matter through `cases.actions.do_register_case` as the client's service account, in the
  client's unit's region;
- every refusal is the spec's error list (`[{"code", "description"}]`, `<errors><error>…`) with that HTTP status,
  and nothing is written.
"""

import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from yidi.accounts.access import ActionDenied
from yidi.accounts.actions import authenticate_api_client
from yidi.accounts.models import ApiScope
from yidi.cases import actions
from yidi.cases.domain import RuleViolation
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.masking import PersonalKind, mask, mask_in_text
from yidi.open311 import domain, queries
from yidi.open311.domain import Open311Error, bad_request
from yidi.portal.domain import plain_status

XML_LIST_ITEMS = {  # a list in JSON → its element names in XML
    "endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value",
}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOT_A_FORM = "请求内容须为有效的表单（application/x-www-form-urlencoded）"
SERVICE_NOTICE = "已登记，事项编码 {code}。工作人员将在1个工作日内审核是否受理，可凭编码查询办理进度。"


# --- rendering ----------------------------------------------------------------------------------------------


def _xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = XML_LIST_ITEMS[element.tag]
        for item in value:
            _xml_fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _xml_text(value)


def render(body, *, fmt: str, root: str = "", item: str = "", status: int = 200) -> HttpResponse:
    """JSON as is; XML under `root`, a list's entries each in an `item` element (ElementTree escapes)."""
    if fmt == "json":
        return JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    element = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _xml_fill(ET.SubElement(element, item), entry)
    else:
        _xml_fill(element, body)
    return HttpResponse(ET.tostring(element, encoding="utf-8", xml_declaration=True), status=status,
                        content_type="text/xml; charset=utf-8")


def render_error(error: Open311Error, fmt: str) -> HttpResponse:
    return render([{"code": error.status, "description": error.description}], fmt=fmt, root="errors", item="error",
                  status=error.status)


def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _coordinate(value: Decimal | None) -> float | None:
    return None if value is None else float(round(value, domain.PUBLIC_COORDINATE_PLACES))


def _public_request(case: Case) -> dict:
    """A matter as Open311 shows it to anybody: nothing that names or reaches a person."""
    place = case.region.short_name or case.region.name
    address = f"{place}（{mask(case.address, PersonalKind.ADDRESS)}）" if case.address else place
    return {
        "service_request_id": case.code,
        "status": domain.open311_status(case.status),
        "status_notes": plain_status(case.status, handling_mode=case.handling_mode, outcome=case.outcome).label,
        "service_name": case.primary_type.name if case.primary_type else "",
        "service_code": case.primary_type.code if case.primary_type else "",
        "description": mask_in_text(case.description),
        "agency_responsible": case.lead_unit.name if case.lead_unit else "",
        "service_notice": "",
        "requested_datetime": _when(case.registered_at),
        "updated_datetime": _when(case.updated_at),
        "expected_datetime": _when(case.due_at),
        "address": address,
        "lat": _coordinate(case.latitude),
        "long": _coordinate(case.longitude),
    }


def _service(label) -> dict:
    return {
        "service_code": label.code, "service_name": label.name,
        "description": f"{label.name}：申请人民调解，由矛调中心登记后交有关单位或调解组织办理。",
        "metadata": True, "type": "realtime", "keywords": domain.service_keywords(label.name),
        "group": label.taxonomy.name,
    }


# --- endpoints ----------------------------------------------------------------------------------------------


@require_GET
def discovery(request: HttpRequest, response_format: str) -> HttpResponse:
    discovery_path = reverse("open311:open311_discovery", kwargs={"response_format": "json"})
    base = settings.YIDI_PUBLIC_BASE_URL.rstrip("/") + discovery_path.rsplit("/", 1)[0]  # …/open311/v2
    return render({
        "changeset": domain.CHANGESET,
        "contact": f"{settings.CENTRE_NAME}：接口对接与问题反馈请联系本中心系统管理员",
        "key_service": "api_key 即接口客户端令牌（需“登记事项”权限 cases:write），由系统管理员创建",
        "endpoints": [{
            "specification": domain.SPECIFICATION_URL, "url": base,
            "changeset": domain.CHANGESET, "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }, fmt=response_format, root="discovery")


@require_GET
def services(request: HttpRequest, response_format: str) -> HttpResponse:
    body = [_service(label) for label in queries.list_services()]
    return render(body, fmt=response_format, root="services", item="service")


@require_GET
def service_definition(request: HttpRequest, service_code: str, response_format: str) -> HttpResponse:
    if queries.get_service(service_code) is None:
        return render_error(Open311Error(404, f"未知的服务代码“{service_code[:40]}”"), response_format)
    attributes = [{
        "variable": True, "code": attribute.code, "datatype": attribute.datatype, "required": attribute.required,
        "datatype_description": attribute.datatype_description or None, "order": attribute.order,
        "description": attribute.description,
        **({"values": [{"key": key, "name": name} for key, name in attribute.values]} if attribute.values else {}),
    } for attribute in domain.ATTRIBUTES]
    body = {"service_code": service_code, "attributes": attributes}
    return render(body, fmt=response_format, root="service_definition")


@csrf_exempt  # the create authenticates by api_key in the body, never by a session cookie
@require_http_methods(["GET", "POST"])
def requests(request: HttpRequest, response_format: str) -> HttpResponse:
    try:
        if request.method == "POST":
            return _create_request(request, response_format)
        body = [_public_request(case) for case in _search(request.GET)]
        return render(body, fmt=response_format, root="service_requests", item="request")
    except Open311Error as error:
        return render_error(error, response_format)


@require_GET
def service_request(request: HttpRequest, code: str, response_format: str) -> HttpResponse:
    case = queries.get_request(code)
    if case is None:
        return render_error(Open311Error(404, f"未找到服务请求“{code[:40]}”"), response_format)
    return render([_public_request(case)], fmt=response_format, root="service_requests", item="request")


def _search(params) -> list[Case]:
    ids = tuple(dict.fromkeys(part.strip() for part in params.get("service_request_id", "").split(",")
                              if part.strip()))
    if len(ids) > domain.MAX_REQUEST_IDS:
        raise bad_request(f"service_request_id 一次最多{domain.MAX_REQUEST_IDS}个")
    if ids:
        return queries.list_requests(request_ids=ids)
    codes = tuple(dict.fromkeys(part.strip() for part in params.get("service_code", "").split(",") if part.strip()))
    known = {label.code for label in queries.list_services()}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise bad_request(f"未知的服务代码“{unknown[0][:40]}”")
    zone = ZoneInfo(settings.TIME_ZONE)
    start, end = (
        domain.parse_datetime(params[name], name=name, zone=zone) if params.get(name, "").strip() else None
        for name in ("start_date", "end_date")
    )
    start, end = domain.date_window(start, end, now=clock.now())
    return queries.list_requests(service_codes=codes, start=start, end=end,
                                 statuses=domain.parse_statuses(params.get("status", "")))


def _create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.content_type not in FORM_TYPES:
        raise bad_request(NOT_A_FORM)
    try:
        form = request.POST
    except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig, SuspiciousOperation, UnicodeDecodeError):
        raise bad_request(NOT_A_FORM) from None
    if not form:  # an empty body, or a multipart body without a single well-formed part
        raise bad_request(NOT_A_FORM)
    client = authenticate_api_client(form.get("api_key", "")) if form.get("api_key") else None
    if client is None:
        raise Open311Error(403, "api_key 缺失或无效（须为有效的接口客户端令牌）")
    if not client.has_scope(ApiScope.CASES_WRITE):
        raise Open311Error(403, "此 api_key 没有“登记事项”（cases:write）权限")
    service_code = form.get("service_code", "").strip()
    if not service_code:
        raise bad_request("请填写 service_code（服务代码）")
    service = queries.get_service(service_code)
    if service is None:
        raise bad_request(f"未知的服务代码“{service_code[:40]}”")
    region = client.unit.region
    draft = domain.build_draft(
        {key: form.get(key, "") for key in form}, service_code=service.code, service_name=service.name,
        region_code=region.code, place=region.short_name or region.name, now=clock.now(),
        zone=ZoneInfo(settings.TIME_ZONE),
    )
    try:
        case = actions.do_register_case(draft, actor=client.user)
    except RuleViolation as error:  # InvalidInput included: the intake rules of `check_draft` and the region
        raise bad_request(str(error)) from None
    except ActionDenied as error:
        raise Open311Error(403, str(error)) from None
    body = [{"service_request_id": case.code, "service_notice": SERVICE_NOTICE.format(code=case.code),
             "account_id": None}]
    return render(body, fmt=fmt, root="service_requests", item="request")
