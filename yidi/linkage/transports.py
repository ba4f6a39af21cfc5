"""`LinkageTransport`: the outbox transport of kind `linkage` (registered in `yidi.integrations.transports`).

One delivery is one POST of the message's JSON to the peer's API (`domain.PATHS`, below its current base URL):
- headers `Authorization: Bearer <the peer's token>`, `Content-Type: application/json`, `Yidi-Event-Id` (the
  idempotency key, the same on every retry);
- the peer is found by the id in the key (`linkage:<peer id>:…`); a deleted or switched-off peer fails at once;
- an assignment or a transfer request gets its content (title, description, parties) added here, from its
  encrypted row, so that personal data never sits in the outbox;
- the URL is checked like a webhook's (`yidi.webhooks.domain.check_url`, `transports.check_resolved`: no private,
  link-local or metadata address; http only to the loopback host or in development); no redirect, no proxy;
- 2xx is delivered; 4xx except 408 and 429 is permanent; anything else is retried by the outbox's schedule.
"""

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings

from yidi.integrations.transports import DeliveryError, PermanentDeliveryError
from yidi.linkage.domain import PATHS, MessageType, parse_key
from yidi.linkage.models import DownwardAssignment, Peer, TransferRequest
from yidi.webhooks import domain as url_rules
from yidi.webhooks.transports import (
    _opener as no_redirect_opener,  # the webhook's opener: no redirect, no proxy
)
from yidi.webhooks.transports import check_resolved, classify_status

TIMEOUT_SECONDS = 15
USER_AGENT = "yidi-linkage/1"


def _content(message_type: MessageType, parts: tuple[str, ...]) -> dict:
    """The personal part of a message, read now from its encrypted row."""
    from yidi.linkage.actions import matter_content

    if message_type == MessageType.ASSIGNMENT:
        assignment = DownwardAssignment.objects.filter(pk=int(parts[0])).first() if parts[0].isdigit() else None
        if assignment is None:
            raise PermanentDeliveryError("下派事项已不存在")
        return {"matter": json.loads(assignment.content or "{}")}
    if message_type == MessageType.TRANSFER_REQUEST:
        transfer = TransferRequest.objects.select_related("case__primary_type").filter(case__code=parts[0]).first()
        if transfer is None:
            raise PermanentDeliveryError("跨区域移交申请已不存在")
        return {"matter": matter_content(transfer.case)}
    return {}


class LinkageTransport:
    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        parsed = parse_key(key)
        peer = Peer.objects.filter(pk=parsed.peer_id, is_active=True).first() if parsed else None
        if peer is None:
            raise PermanentDeliveryError("联动平台已删除或已停用")
        url = peer.base_url.rstrip("/") + PATHS[parsed.message_type]
        problem = url_rules.check_url(url, debug=settings.DEBUG)
        if problem:
            raise PermanentDeliveryError(problem.replace("回调地址", "平台地址"))
        check_resolved(urlsplit(url).hostname or "")
        body = {**json.loads(text or "{}"), **_content(parsed.message_type, parsed.parts)}
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        # S310: the scheme is https (or http to loopback), checked by `check_url` above
        request = urllib.request.Request(url, data=data, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "Yidi-Event-Id": key,
            "Authorization": f"Bearer {peer.token}",
        })
        try:
            with no_redirect_opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            detail = error.read(2000).decode("utf-8", "replace")
            error.close()
            if 400 <= status < 500:
                raise_for_client_error(status, detail)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:  # incl. time-outs
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"无法连接联动平台：{reason}") from None
        classify_status(status)


def raise_for_client_error(status: int, detail: str) -> None:
    """A 4xx answer with the peer's error code and message in the attempt log (classified like a webhook's)."""
    try:
        answer = json.loads(detail)
        reason = f"{answer.get('code', '')}：{answer.get('message', '')}"
    except (ValueError, AttributeError):
        reason = ""
    try:
        classify_status(status)
    except DeliveryError as error:
        raise type(error)(f"{error}{'，' + reason if reason else ''}") from None
