"""How an outbound message leaves the system: one transport per kind (sms, email, site, webhook …), chosen by
the `YIDI_OUTBOX_TRANSPORTS` setting, so a deployment plugs in its SMS gateway without code changes.

A transport's `send(destination, text, *, key)` raises `DeliveryError` when the message did not go out;
`key` is the message's idempotency key, which real gateways accept as the client message id so that a retry
after a lost answer is not sent twice.
"""

import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from yidi.core.masking import mask_in_text

logger = logging.getLogger("yidi.outbound")


class DeliveryError(Exception):
    """The message was not delivered (message for the attempt log)."""


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

    def send(self, destination: str, text: str, *, key: str) -> None:
        with self._lock:
            LogTransport.sent.append(SentMessage(self.kind, destination, text, key))
            del LogTransport.sent[:-1000]
        line = f"[{self.kind}] → {mask_in_text(destination)}：{mask_in_text(text)}"
        logger.info(line)
        print(line, flush=True)


DEFAULT_TRANSPORTS = {"sms": "yidi.integrations.transports.LogTransport"}


def get_transport(kind: str):
    paths = {**DEFAULT_TRANSPORTS, **getattr(settings, "YIDI_OUTBOX_TRANSPORTS", {})}
    if kind not in paths:
        raise DeliveryError(f"no transport configured for {kind!r}")
    return import_string(paths[kind])(kind)


def send_sms_now(phone: str, text: str, *, key: str) -> None:
    """Send a text message at once, outside the outbox: only for verification codes, which are useless late
    and are never part of a business transaction."""
    get_transport("sms").send(phone, text, key=key)
