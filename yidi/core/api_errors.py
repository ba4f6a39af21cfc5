"""The native API's error format: every refusal is JSON `{"code": <stable English code>, "message": <Chinese>}`,
sometimes with `field` (the input at fault) or `details` (the validation errors).

Each app declares how its own exceptions map to an HTTP status and a code with `register_error`, next to its
router; `install_error_handlers` gives the `NinjaAPI` one handler that looks the exception's class up (nearest
class in its MRO wins). Ninja's own errors (authentication, malformed JSON, validation) and an oversized body
are mapped here. Any other exception is logged and answered 500 `server_error`, without its text.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger("yidi.api")

# exception class → function(exception) → (status, payload)
_REGISTRY: dict[type[BaseException], Callable[[Any], tuple[int, dict[str, Any]]]] = {}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **{key: value for key, value in extra.items() if value is not None}}


def error_response(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse(error_body(code, message, **extra), status=status, json_dumps_params={"ensure_ascii": False})


def register_error(exception: type[BaseException], status: int, code: str, message: str | None = None,
                   *, with_field: bool = False) -> None:
    """Answer `exception` with `status` and `code`; the message is `message`, or the exception's own (Chinese)
    text when None; `with_field` adds the exception's `field` attribute."""

    def payload(error: Any) -> tuple[int, dict[str, Any]]:
        extra = {"field": getattr(error, "field", None)} if with_field else {}
        return status, error_body(code, message if message is not None else str(error), **extra)

    _REGISTRY[exception] = payload


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where and why, without the rejected input (it may be personal data)."""
    return [
        {"loc": [str(part) for part in error.get("loc", ())], "type": error.get("type", ""), "msg": error.get("msg", "")}
        for error in errors
    ]


def _builtin(error: BaseException) -> tuple[int, dict[str, Any]] | None:
    if isinstance(error, AuthenticationError):
        return 401, error_body("unauthenticated", "未认证：请在 Authorization 头中提供有效的令牌（Bearer）")
    if isinstance(error, ValidationError):
        return 400, error_body("validation_error", "请求参数不符合接口要求", details=_validation_details(error.errors))
    if isinstance(error, RequestDataTooBig):
        return 413, error_body("payload_too_large", "请求内容过大")
    if isinstance(error, HttpError) and error.status_code == 400:  # ninja: the body is not JSON
        return 400, error_body("malformed_json", "请求内容不是有效的 JSON")
    if isinstance(error, HttpError):
        return error.status_code, error_body("http_error", str(error))
    if isinstance(error, Http404):
        return 404, error_body("not_found", "对象不存在或无权查看")
    return None


def handle_error(request: HttpRequest, error: BaseException) -> HttpResponse:
    for cls in type(error).__mro__:
        if cls in _REGISTRY:
            status, body = _REGISTRY[cls](error)
            break
    else:
        found = _builtin(error)
        if found is None:
            logger.exception("API request failed: %s %s", request.method, request.path)
            found = 500, error_body("server_error", "服务器内部错误，请稍后重试")
        status, body = found
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def install_error_handlers(api) -> None:
    for exception in (Exception, Http404, HttpError, ValidationError, AuthenticationError):
        api.add_exception_handler(exception, handle_error)
