"""The outbox's rules, without a database: message statuses, the retry schedule, and how a destination is shown.

Rules:
- A message is `pending` until it is delivered (`sent`) or its last attempt failed (`failed`); both are final,
  except that the system administrator may put a failed message back to pending (重新发送).
- After a failed attempt the next one waits 1 min, 5 min, 30 min, 2 h, then 6 h; after `max_attempts`
  attempts (setting `YIDI_OUTBOX_MAX_ATTEMPTS`, default 6) the message is finally failed.
- A claimed message is leased (`YIDI_OUTBOX_LEASE_SECONDS`, default `DEFAULT_CLAIM_LEASE`): a worker that dies
  while sending leaves it to be sent again
  after the lease (at-least-once; the idempotency key lets the gateway drop the duplicate).
"""

import re
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from yidi.core.masking import PersonalKind, mask, mask_in_text


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return MESSAGE_STATUS_LABELS[self]


MESSAGE_STATUS_LABELS = {
    MessageStatus.PENDING: "待发送",
    MessageStatus.SENT: "已发送",
    MessageStatus.FAILED: "发送失败",
}
# Known kinds (a deployment may add more with its own transport).
KIND_LABELS = {"sms": "短信", "email": "电子邮件", "site": "站内消息", "webhook": "回调", "hotline": "12345回传",
               "court": "法院对接", "linkage": "三级联动"}

RETRY_DELAYS = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6),
)
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_CLAIM_LEASE = timedelta(minutes=10)  # longer than any transport's time-out (`YIDI_OUTBOX_LEASE_SECONDS`)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt (1-based)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def is_final_failure(attempts: int, max_attempts: int) -> bool:
    return attempts >= max(max_attempts, 1)


def mask_destination(kind: str, destination: str) -> str:
    """A destination as shown to staff and in logs: phones masked, e-mail local parts cut, URLs to their host."""
    if not destination:
        return ""
    if kind == "sms":
        return mask(destination, PersonalKind.PHONE)
    if kind == "email" and "@" in destination:
        local, _, domain = destination.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "webhook":
        parts = urlsplit(destination)
        return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "***"
    return mask_in_text(destination)


_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def error_text(error: BaseException) -> str:
    """The attempt log's error: the exception's class and message, personal data masked, at most 500 characters."""
    message = _EMAIL_IN_TEXT.sub(lambda m: mask_destination("email", m.group(0)), mask_in_text(str(error)))
    message = message or error.__class__.__name__
    return f"{error.__class__.__name__}: {message}"[:500]
