"""Bearer-token authentication of integration clients for the native API, the scope each operation needs, the role
the client acts with, and its request rate.

- `client_auth("cases:read")` is the `auth=` of an operation: the token must belong to an active client
  (`accounts.actions.authenticate_api_client`; otherwise 401 `unauthenticated`) holding that scope (otherwise 403
  `forbidden_scope`). `request.auth` is then the `ApiClient`; its service account (`client.user`) is the actor
  given to `accounts.access` and the actions.
- The service account holds the unit's clerk and handler roles (`accounts.actions.API_CLIENT_ROLES`). An operation
  that needs `cases:assign` (交办, 办结, 重办, 加急, 会商, 审批延期) runs with the dispatcher role in addition, when the
  client's unit dispatches matters (`DISPATCHING_UNIT_KINDS`: a centre, its command desk, a township centre or
  platform). The role is added for that request only, so the scope list stays the one place that grants it:
  revoking the scope (or the client) revokes the role. A client of any other unit (a department) uses
  `cases:assign` only for the transfers (申请、接收、拒收转办), which its handler role performs. `alerts:write`
  (人工上报风险预警) adds the dispatcher role the same way: the action admits only the region's dispatchers.
- The request protocol every write of the API shares: `expected_version` reads `If-Match` (missing → 428
  `precondition_required`), `respond_once` runs a write once per `Idempotency-Key` (a replay returns the first
  response; the same key with another body → 422) and answers with the matter's ETag.
- `ClientRateThrottle` limits each client to its rate of requests a minute (`client_rate_per_minute`), counted
  in the same fixed one-minute windows as the log-in and portal limits (`accounts.auth.do_count_request`); over
  it: 429 `rate_limited` with `Retry-After`.
"""

import json
import re
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from ninja.errors import Throttled
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from yidi.accounts.actions import authenticate_api_client, do_run_idempotent, request_fingerprint
from yidi.accounts.auth import do_count_request
from yidi.accounts.domain import Role, UnitKind
from yidi.accounts.models import ApiClient, ApiScope
from yidi.core.api_errors import register_error

# Units that run a command desk at their level and so may assign matters (交办) through their system.
DISPATCHING_UNIT_KINDS = frozenset(
    {UnitKind.CENTRE, UnitKind.COMMAND_DESK, UnitKind.TOWNSHIP_CENTRE, UnitKind.TOWNSHIP_PLATFORM}
)
# The scopes whose operations a client of such a unit performs as its dispatcher.
DISPATCHER_SCOPES = frozenset({ApiScope.CASES_ASSIGN, ApiScope.ALERTS_WRITE})
DEFAULT_RATE_PER_MINUTE = 600
RATE_SCOPE = "api_client"


class ScopeMissing(Exception):
    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(f"此客户端没有“{ApiScope(scope).label}”（{scope}）权限")


register_error(ScopeMissing, 403, "forbidden_scope")
register_error(Throttled, 429, "rate_limited", "请求过于频繁，已超过本客户端每分钟的请求上限，请按 Retry-After 所示秒数后重试")


def dispatches(unit_kind: str) -> bool:
    """Does a client of a unit of this kind act as dispatcher in its `cases:assign` operations?"""
    return UnitKind(unit_kind) in DISPATCHING_UNIT_KINDS


def _act_as_dispatcher(client: ApiClient) -> None:
    """Add the dispatcher role to the service account for this request (its cached role list, not the rows)."""
    user = client.user
    user._role_codes = sorted({*user.role_codes, Role.DISPATCHER.value})


class ClientToken(HttpBearer):
    def __init__(self, scope: str):
        self.scope = ApiScope(scope).value
        super().__init__()

    def authenticate(self, request, token: str) -> ApiClient | None:
        client = authenticate_api_client(token)
        if client is None:
            return None
        if not client.has_scope(self.scope):
            raise ScopeMissing(self.scope)
        if self.scope in DISPATCHER_SCOPES and dispatches(client.unit.kind):
            _act_as_dispatcher(client)
        return client


def client_auth(scope: str) -> ClientToken:
    return ClientToken(scope)


def client_rate_per_minute(client: ApiClient) -> int:
    """The client's limit: its own entry in `YIDI_API_CLIENT_RATES` ({client name: requests a minute}), else
    `YIDI_API_RATE_PER_MINUTE` (default 600); 0 means no limit."""
    rates = getattr(settings, "YIDI_API_CLIENT_RATES", {}) or {}
    if client.name in rates:
        return int(rates[client.name])
    return int(getattr(settings, "YIDI_API_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE))


class ClientRateThrottle(BaseThrottle):
    """Ninja's throttle hook (it runs after authentication, so `request.auth` is the client). Ninja answers a
    refusal through the API's error handler (`Throttled` → 429 `rate_limited`) and sets `Retry-After` from
    `wait()`, which this thread's last decision holds."""

    def __init__(self):
        self._last = threading.local()

    def allow_request(self, request) -> bool:
        client = getattr(request, "auth", None)
        if not isinstance(client, ApiClient):
            return True
        decision = do_count_request(scope=RATE_SCOPE, source_ip=client.name, limit_per_minute=client_rate_per_minute(client))
        self._last.retry_after = decision.retry_after_seconds
        return decision.allowed

    def wait(self) -> float | None:
        return max(1, getattr(self._last, "retry_after", 0) or 0)


def client_throttle() -> list[BaseThrottle]:
    """The `throttle=` of a router (or of the whole `NinjaAPI`)."""
    return [ClientRateThrottle()]


# --- the request protocol of writes: If-Match and Idempotency-Key ----------------------------------------------

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
ETAG = re.compile(r'(?:W/)?"(\d{1,10})"')


class PreconditionRequired(Exception):
    pass


class InvalidIdempotencyKey(Exception):
    pass


register_error(PreconditionRequired, 428, "precondition_required", "请在 If-Match 头中提供事项的 ETag（先读取事项）")
register_error(InvalidIdempotencyKey, 400, "invalid_idempotency_key", "Idempotency-Key 须为1～255个可见 ASCII 字符")


def etag(version: int) -> str:
    return f'W/"{version}"'


def expected_version(request: HttpRequest) -> int:
    """The matter's version the client names in `If-Match` (`W/"<version>"`); -1 when it names none we issue (a
    412 follows). Missing: `PreconditionRequired` (428)."""
    if_match = request.headers.get("If-Match")
    if not if_match:
        raise PreconditionRequired()
    found = ETAG.search(if_match)
    return int(found.group(1)) if found else -1


def as_json(body) -> dict:
    """The body as the client will read it (dates as ISO text …), so a stored first response replays the same."""
    return json.loads(json.dumps(body, cls=NinjaJSONEncoder))


def json_response(status: int, body, *, version: int | None = None) -> JsonResponse:
    response = JsonResponse(body, status=status, encoder=NinjaJSONEncoder, safe=False,
                            json_dumps_params={"ensure_ascii": False})
    if version is not None:
        response["ETag"] = etag(version)
    return response


def checked_idempotency_key(request: HttpRequest) -> str | None:
    """The request's `Idempotency-Key`, if any; `InvalidIdempotencyKey` (400) when malformed."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise InvalidIdempotencyKey()
    return key


def respond_once(request: HttpRequest, produce: Callable[[], tuple[int, dict]], *,
                 version_of: Callable[[dict], int]) -> JsonResponse:
    """Run `produce` (one action and its rendering, returning (status, JSON body)) in one transaction; with an
    `Idempotency-Key`, only once per (client, key): a replay returns the stored first response, the same key
    with another request is 422, and a refused request keeps nothing (its key may be used again). The response
    carries the matter's ETag, read from the body by `version_of`."""
    key = checked_idempotency_key(request)
    if key is None:
        with transaction.atomic():
            status, body = produce()
    else:
        status, body, _replayed = do_run_idempotent(
            request.auth, key=key, request_hash=request_fingerprint(request.method, request.path, request.body),
            produce=produce,
        )
    return json_response(status, body, version=version_of(body))
