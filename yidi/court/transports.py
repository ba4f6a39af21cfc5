"""`CourtTransport`: the outbox transport of kind `court` (registered in `yidi.integrations.transports`).

One delivery is one POST of the message (docs/court-exchange.md) to the court's endpoint:
- the destination is the court's code; its current endpoint and secret are read at send time, and a court
  deleted or switched off fails the message at once;
- the parties' identity data is filled in now, from the matter's encrypted records (`outbound.complete`);
- headers `Content-Type: application/json`, `Yidi-Format`, `Yidi-Message-Id` (the idempotency key, the same on
  every retry), `Yidi-Court`, `Yidi-Timestamp` and `Yidi-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret,
  "<ts>.<raw body>")>` (`yidi.webhooks.signing`);
- the URL is checked (https, or http to loopback) and resolved against private, link-local and metadata
  addresses exactly as for webhooks (`yidi.webhooks`); no redirect, no proxy from the environment, time-out
  `TIMEOUT_SECONDS`;
- 2xx is delivered; 4xx except 408 and 429 is permanent; anything else is retried by the outbox's schedule.
"""

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from yidi.cases.models import Case
from yidi.core import clock
from yidi.court import domain, outbound
from yidi.court.models import Court
from yidi.integrations.transports import DeliveryError, PermanentDeliveryError
from yidi.webhooks.domain import check_url
from yidi.webhooks.signing import signature_header
from yidi.webhooks.transports import check_resolved, classify_status

TIMEOUT_SECONDS = 10
USER_AGENT = "yidi-court/1"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def build_body(text: str) -> bytes:
    """The body as sent: the stored message with the parties filled in."""
    payload = json.loads(text)
    case_code = (payload.get("case") or {}).get("code")
    if payload.get("parties", "absent") is None and case_code:
        case = Case.objects.filter(code=case_code).first()
        if case is None:
            raise PermanentDeliveryError("事项已不存在，无法生成发往法院的材料")
        payload = outbound.complete(payload, case)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class CourtTransport:
    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        court = Court.objects.filter(code=destination, is_active=True).first()
        if court is None:
            raise PermanentDeliveryError("对接法院已删除或已停用")
        url = court.endpoint_url
        problem = check_url(url, debug=settings.DEBUG)
        if problem:
            raise PermanentDeliveryError(problem.replace("回调地址", "法院接收地址"))
        check_resolved(urlsplit(url).hostname or "")
        body = build_body(text)
        timestamp = int(clock.now().timestamp())
        # S310: the scheme is https (or http to loopback), checked by `check_url` above
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "Yidi-Format": domain.FORMAT,
            "Yidi-Message-Id": key, "Yidi-Court": court.code, "Yidi-Timestamp": str(timestamp),
            "Yidi-Signature": signature_header(court.secret, timestamp, body),
        })
        try:
            with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:  # incl. time-outs
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"无法连接法院接收地址：{reason}") from None
        classify_status(status)
