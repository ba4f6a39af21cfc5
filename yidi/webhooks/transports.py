"""`WebhookTransport`: the outbox transport of kind `webhook` (the default in `yidi.integrations.transports`).

One delivery is one HTTPS POST of the message's JSON body to the subscription's URL:
- headers `Content-Type: application/json`, `Yidi-Event-Id` (the idempotency key: the same on every retry),
  `Yidi-Timestamp` (unix seconds) and `Yidi-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`;
- the secret is the subscription's current one, found by the id in the idempotency key
  (`webhook:<subscription id>:<case code>:<seq>`); a deleted or switched-off subscription fails at once;
- the URL is checked again before sending (`domain.check_url`) and its host name resolved: an address that is
  private, link-local or metadata refuses the delivery (SSRF, security-requirements WEB-10);
- no redirect is followed and no proxy from the environment is used; time-out `TIMEOUT_SECONDS`;
- 2xx is delivered; 4xx except 408 and 429 is a `PermanentDeliveryError` (trying again cannot help); any other
  answer, a time-out or a network error is a `DeliveryError` (tried again by the outbox's schedule).
"""

import http.client
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from yidi.core import clock
from yidi.integrations.transports import DeliveryError, PermanentDeliveryError
from yidi.webhooks import domain
from yidi.webhooks.models import WebhookSubscription
from yidi.webhooks.signing import signature_header

TIMEOUT_SECONDS = 10
USER_AGENT = "yidi-webhooks/1"
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def check_resolved(host: str) -> None:
    """Refuse a host name that resolves to an address `domain.is_refused_address` refuses (DNS failure: retry)."""
    if domain.parse_ip_literal(host) is not None:
        return  # checked by `domain.check_url`
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise DeliveryError(f"无法解析回调地址的主机名：{error}") from None
    for info in infos:
        address = domain.parse_ip_literal(str(info[4][0]).partition("%")[0])
        if address is None or domain.is_refused_address(address):
            raise PermanentDeliveryError("回调地址解析到内网、链路本地或云服务元数据地址")


def classify_status(status: int) -> None:
    """Raise for a non-2xx answer: permanent for 4xx (except 408, 429), retryable otherwise."""
    if 200 <= status < 300:
        return
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS:
        raise PermanentDeliveryError(f"接收方拒绝（HTTP {status}）")
    if 300 <= status < 400:
        raise DeliveryError(f"接收方要求跳转（HTTP {status}），不跟随跳转")
    raise DeliveryError(f"接收方暂时不可用（HTTP {status}）")


class WebhookTransport:
    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        subscription_id = domain.subscription_id_from_key(key)
        subscription = (
            WebhookSubscription.objects.filter(pk=subscription_id, is_active=True).first() if subscription_id else None
        )
        if subscription is None:
            raise PermanentDeliveryError("回调订阅已删除或已停用")
        problem = domain.check_url(destination, debug=settings.DEBUG)
        if problem:
            raise PermanentDeliveryError(problem)
        check_resolved(urlsplit(destination).hostname or "")
        body = text.encode("utf-8")
        timestamp = int(clock.now().timestamp())
        # S310: the scheme is https (or http to loopback), checked by `check_url` above
        request = urllib.request.Request(destination, data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "Yidi-Event-Id": key,
            "Yidi-Timestamp": str(timestamp), "Yidi-Signature": signature_header(subscription.secret, timestamp, body),
        })
        try:
            with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            error.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:  # incl. time-outs
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"无法连接回调地址：{reason}") from None
        classify_status(status)
