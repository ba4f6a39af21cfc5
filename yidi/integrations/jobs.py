"""Delivery of the outbox: claim due messages, send each through its transport, record the attempt.

- Claiming: due pending rows are selected with `FOR UPDATE SKIP LOCKED` on PostgreSQL (two workers never take the
  same row; on SQLite the write transaction serialises workers) and leased (`claim_lease()`) by moving their
  `next_attempt_at`, in one short transaction. A second claim finds nothing, so a message claimed twice in a row
  is sent once.
- Sending happens outside any transaction (a slow gateway holds no lock); the result is then recorded in its own
  transaction: one `OutboxAttempt`, the message `sent`, retried later (1 min, 5 min, 30 min, 2 h, 6 h) or finally
  `failed` after `YIDI_OUTBOX_MAX_ATTEMPTS` attempts (or at once on a `PermanentDeliveryError`).
- At least once: a worker that dies between sending and recording leaves the row leased; it is sent again when
  the lease ends, with the same idempotency key.
- `DELIVERY_LISTENERS` are called with (message, ok) after a success or a final failure, in the recording
  transaction, each in a savepoint: a failing listener is logged and does not undo the delivery.
"""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from yidi.core import clock
from yidi.integrations.domain import (
    DEFAULT_CLAIM_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    MessageStatus,
    error_text,
    is_final_failure,
    retry_delay,
)
from yidi.integrations.models import OutboxAttempt, OutboxMessage
from yidi.integrations.transports import PermanentDeliveryError, get_transport

logger = logging.getLogger(__name__)
BATCH_SIZE = 100
# Called with (message, ok) once a message is sent or has finally failed (apps register in `ready()`).
DELIVERY_LISTENERS: list[Callable[[OutboxMessage, bool], None]] = []


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"发送成功 {self.sent} 条，待重试 {self.retried} 条，最终失败 {self.failed} 条"


def max_attempts() -> int:
    return getattr(settings, "YIDI_OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)


def claim_lease() -> timedelta:
    seconds = getattr(settings, "YIDI_OUTBOX_LEASE_SECONDS", None)
    return DEFAULT_CLAIM_LEASE if seconds is None else timedelta(seconds=seconds)


def _claim(now: datetime, size: int, ids: list[int] | None) -> list[OutboxMessage]:
    with transaction.atomic():
        queryset = OutboxMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
        if ids is not None:
            queryset = queryset.filter(pk__in=ids)
        queryset = queryset.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            queryset = queryset.select_for_update(skip_locked=True)
        claimed = list(queryset[:size])
        if claimed:
            OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(next_attempt_at=now + claim_lease())
        return claimed


def _send(message: OutboxMessage) -> tuple[bool, str, bool]:
    """Send one message; returns (ok, error for the log, whether the failure is permanent)."""
    body = message.text or (json.dumps(message.payload, ensure_ascii=False) if message.payload else "")
    extra = {"subject": message.subject} if message.subject else {}
    try:
        get_transport(message.kind).send(message.destination, body, key=message.idempotency_key, **extra)
    except Exception as error:
        return False, error_text(error), isinstance(error, PermanentDeliveryError)
    return True, "", False


def _notify_listeners(message: OutboxMessage, ok: bool) -> None:
    for listener in DELIVERY_LISTENERS:
        try:
            with transaction.atomic():
                listener(message, ok)
        except Exception:
            logger.exception("delivery listener %r failed on outbox message %s", listener, message.pk)


@transaction.atomic
def _record(message_id: int, *, ok: bool, error: str, permanent: bool, now: datetime, duration_ms: int) -> str:
    """Record one attempt; returns the message's outcome ("sent", "retry", "failed", or "" if already final)."""
    message = OutboxMessage.objects.select_for_update().get(pk=message_id)
    OutboxAttempt.objects.create(message=message, at=now, ok=ok, error=error, duration_ms=duration_ms)
    if message.status != MessageStatus.PENDING:  # finished meanwhile by another worker (after a lease ran out)
        return ""
    message.attempts += 1
    fields = ["attempts", "status", "next_attempt_at", "last_error", "sent_at"]
    if ok:
        message.status, message.sent_at, message.last_error = MessageStatus.SENT, now, ""
        outcome = "sent"
    elif permanent or is_final_failure(message.attempts, max_attempts()):
        message.status, message.last_error = MessageStatus.FAILED, error
        outcome = "failed"
    else:
        message.next_attempt_at, message.last_error = now + retry_delay(message.attempts), error
        outcome = "retry"
    message.save(update_fields=fields)
    if outcome != "retry":
        _notify_listeners(message, ok)
    return outcome


def deliver_due(now: datetime | None = None, batch: int = BATCH_SIZE, *, ids: list[int] | None = None) -> DeliveryResult:
    """Deliver every message due at `now` (default: the current time), batch by batch; `ids` limits the run to
    those messages (the immediate task after a commit)."""
    now = now or clock.now()
    result = DeliveryResult()
    seen: set[int] = set()
    while True:
        claimed = [message for message in _claim(now, batch, ids) if message.pk not in seen]
        if not claimed:
            return result
        for message in claimed:
            seen.add(message.pk)
            started = time.monotonic()
            ok, error, permanent = _send(message)
            duration_ms = int((time.monotonic() - started) * 1000)
            if not ok:
                logger.warning("outbox message %s (%s → %s) not delivered: %s", message.pk, message.kind,
                               message.masked_destination, error)
            outcome = _record(message.pk, ok=ok, error=error, permanent=permanent, now=now, duration_ms=duration_ms)
            if outcome == "sent":
                result.sent += 1
            elif outcome == "retry":
                result.retried += 1
            elif outcome == "failed":
                result.failed += 1
