"""How an outbound message leaves the system: one transport per kind (sms, email, site, webhook …), chosen by
the `YIDI_OUTBOX_TRANSPORTS` setting, so a deployment plugs in its SMS gateway without code changes.

A transport's `send(destination, text, *, key, subject="")` raises `DeliveryError` when the message did not go
out and may be tried again, `PermanentDeliveryError` when trying again cannot help (a refused address); any other
exception counts as a `DeliveryError`. `key` is the message's idempotency key, which real gateways accept as the
client message id so that a retry after a lost answer is not sent twice. `subject` is passed only when the
message has one (e-mail). Every network call has a time-out.

`YIDI_OUTBOX_TRANSPORTS` maps a kind to a dotted path, e.g. `{"sms": "mycounty.sms.GatewayTransport"}`; kinds
not named there use `DEFAULT_TRANSPORTS`.
"""

import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from yidi.core.masking import mask_in_text
from yidi.integrations.domain import mask_destination

logger = logging.getLogger("yidi.outbound")


class DeliveryError(Exception):
    """The message was not delivered this time (message for the attempt log); it is tried again later."""


class PermanentDeliveryError(DeliveryError):
    """The message cannot be delivered (e.g. the gateway refuses the number): it fails at once, no retry."""


@dataclass(frozen=True)
class SentMessage:
    kind: str
    destination: str
    text: str
    key: str


class LogTransport:
    """Development and demo: writes the message to the log and the console, with the destination masked.

    The last messages are kept in memory (`LogTransport.sent`) so that tests and the demo can read a
    verification code without a gateway.
    """

    sent: list[SentMessage] = []
    _lock = threading.Lock()

    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        with self._lock:
            LogTransport.sent.append(SentMessage(self.kind, destination, text, key))
            del LogTransport.sent[:-1000]
        line = f"[{self.kind}] → {mask_destination(self.kind, destination)}：{mask_in_text(text)}"
        logger.info(line)
        print(line, flush=True)


class EmailTransport:
    """E-mail through Django's mail (the `MAILERS["default"]` SMTP server, with its time-out)."""

    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        from django.core.mail import EmailMessage

        message = EmailMessage(subject=subject or getattr(settings, "CENTRE_NAME", "通知"), body=text,
                               to=[destination], headers={"Message-ID": f"<{key}@yidi>"})
        try:
            message.send(fail_silently=False)
        except (OSError, ValueError) as error:  # smtplib errors are OSErrors
            raise DeliveryError(str(error)) from None


class SiteTransport:
    """In-site messages: the message row itself is what the site shows, so there is nothing to send."""

    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        return None


DEFAULT_TRANSPORTS = {
    "sms": "yidi.integrations.transports.LogTransport",
    "email": "yidi.integrations.transports.EmailTransport",
    "site": "yidi.integrations.transports.SiteTransport",
    "webhook": "yidi.webhooks.transports.WebhookTransport",  # signed HTTPS POST (docs/webhooks.md)
    "hotline": "yidi.integrations.transports.LogTransport",  # 工单回传: a deployment plugs in its 12345 adapter
    "court": "yidi.court.transports.CourtTransport",  # 诉调对接: signed JSON to the court (docs/court-exchange.md)
    "linkage": "yidi.linkage.transports.LinkageTransport",  # 三级联动: to the instance above or below
}


def get_transport(kind: str):
    paths = {**DEFAULT_TRANSPORTS, **getattr(settings, "YIDI_OUTBOX_TRANSPORTS", {})}
    if kind not in paths:
        raise DeliveryError(f"no transport configured for {kind!r}")
    return import_string(paths[kind])(kind)


def send_sms_now(phone: str, text: str, *, key: str) -> None:
    """Send a text message at once, outside the outbox: only for verification codes, which are useless late
    and are never part of a business transaction."""
    get_transport("sms").send(phone, text, key=key)
