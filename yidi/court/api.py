"""The court part of the native API (/api/v1/court/, docs/court-exchange.md): mounted in `yidi/api.py`.

Parse → authorise → one action or query → render. Rules:
- the client needs the `court:exchange` scope and must be linked to an active court (`Court.api_client`),
  otherwise 403 `court_not_configured`;
- every POST is signed by the court (`Yidi-Signature`, HMAC-SHA256 with the court's secret over
  "<timestamp>.<raw body>", at most 5 minutes old): otherwise 401 `invalid_signature`, nothing read further;
- a body that does not follow the format is 400 with a stable code (`malformed_json`, `unsupported_format`,
  `wrong_message_type`, `missing_field`, `invalid_field`, `unknown_field`) and the field at fault; nothing written;
- a replayed message gets its first answer again; conflicts are 409 (`referral_conflict`, `message_id_reused`).
"""

import json

from django.http import HttpRequest, JsonResponse
from ninja import Router

from yidi.accounts.api_auth import client_auth
from yidi.accounts.models import ApiScope
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.api_errors import error_response
from yidi.court import actions, domain, queries
from yidi.court.domain import FormatError, MessageType
from yidi.webhooks.signing import verify_signature

router = Router(tags=["诉调对接"])

SIGNATURE_TOLERANCE_SECONDS = 300
MESSAGE_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "yidi-court/1 消息，见 docs/court-exchange.md",
    "required": ["format", "type", "message_id", "sent_at", "court"],
    "properties": {"format": {"type": "string", "enum": [domain.FORMAT]}, "type": {"type": "string"},
                   "message_id": {"type": "string"}, "sent_at": {"type": "string"}, "court": {"type": "object"}},
}}}}}
RESPONSES = {"responses": {code: {"description": text} for code, text in {
    400: "格式错误（code 与 field 指明原因）", 401: "未认证或签名无效", 403: "无权限或未配置对接法院",
    409: "与已收到的消息冲突", 422: "所回复的消息不存在"}.items()}}


def _json(status: int, body: dict) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _court(request: HttpRequest):
    court = actions.court_for_client(request.auth)
    if court is None:
        return None, error_response(403, "court_not_configured", "此接口客户端未关联启用中的对接法院，请联系系统管理员")
    return court, None


def _signed_message(request: HttpRequest, court):
    """The parsed JSON body if the court's signature over the raw body is valid; else an error response."""
    header = request.headers.get("Yidi-Signature", "")
    if not verify_signature(court.secret, header, request.body, clock.now().timestamp(),
                            tolerance=SIGNATURE_TOLERANCE_SECONDS):
        return None, error_response(401, "invalid_signature", "签名无效或已过期：请用本法院的签名密钥对请求原文签名（Yidi-Signature）")
    try:
        return json.loads(request.body), None
    except (ValueError, UnicodeDecodeError):
        return None, error_response(400, "malformed_json", "请求内容不是有效的 JSON")


def _format_error(error: FormatError) -> JsonResponse:
    return error_response(400, error.code, str(error), field=error.field)


def _exchange_error(error: actions.CourtExchangeError) -> JsonResponse:
    return error_response(error.status, error.code, str(error))


@router.post("/referrals", auth=client_auth(ApiScope.COURT_EXCHANGE), url_name="api_court_referrals",
             summary="法院委派（委托）调解：登记为事项（按法院案号幂等）", openapi_extra={**MESSAGE_BODY, **RESPONSES})
def receive_referral(request: HttpRequest):
    court, refused = _court(request)
    if refused:
        return refused
    data, refused = _signed_message(request, court)
    if refused:
        return refused
    try:
        envelope, referral = domain.parse_referral(data)
        receipt = actions.do_receive_referral(court, envelope.message_id, referral, client=request.auth)
    except FormatError as error:
        return _format_error(error)
    except actions.CourtExchangeError as error:
        return _exchange_error(error)
    return _json(receipt.status, receipt.body)


@router.get("/referrals/{court_case_number}", auth=client_auth(ApiScope.COURT_EXCHANGE),
            url_name="api_court_referral", summary="查询委派（委托）事项的办理情况", openapi_extra=RESPONSES)
def get_referral(request: HttpRequest, court_case_number: str):
    court, refused = _court(request)
    if refused:
        return refused
    case: Case | None = queries.get_referred_case(court, court_case_number)
    if case is None:
        return error_response(404, "not_found", "未找到该案号的委派（委托）调解")
    return _json(200, actions.status_body(case))


def _answer(request: HttpRequest, expected: MessageType):
    court, refused = _court(request)
    if refused:
        return refused
    data, refused = _signed_message(request, court)
    if refused:
        return refused
    try:
        answer = domain.parse_answer(data, expected=expected)
        receipt = actions.do_receive_answer(court, answer, client=request.auth)
    except FormatError as error:
        return _format_error(error)
    except actions.CourtExchangeError as error:
        return _exchange_error(error)
    return _json(receipt.status, receipt.body)


@router.post("/acceptances", auth=client_auth(ApiScope.COURT_EXCHANGE), url_name="api_court_acceptances",
             summary="法院受理：移送起诉立案、司法确认申请受理（含案号）", openapi_extra={**MESSAGE_BODY, **RESPONSES})
def receive_acceptance(request: HttpRequest):
    return _answer(request, MessageType.ACCEPTANCE)


@router.post("/rulings", auth=client_auth(ApiScope.COURT_EXCHANGE), url_name="api_court_rulings",
             summary="法院裁定：司法确认裁定、移送起诉的处理结果", openapi_extra={**MESSAGE_BODY, **RESPONSES})
def receive_ruling(request: HttpRequest):
    return _answer(request, MessageType.RULING)
