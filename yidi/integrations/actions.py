"""Writes of the outbox: `enqueue` (inside the caller's transaction) and the administrator's re-send.

A message is a row written with the step that caused it; it leaves only after that transaction commits: an
immediate delivery task is queued on commit (`tasks.deliver_message_task`), and the periodic drain
(`jobs.deliver_due`) is the safety net for anything the task missed.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.db import connection, transaction

from yidi.audit.actions import record_many
from yidi.core import clock
from yidi.integrations.domain import MessageStatus
from yidi.integrations.models import OutboxMessage

logger = logging.getLogger(__name__)


_SENDING = ContextVar("outbound_sending", default=True)


@contextmanager
def muted():
    """Send nothing outbound while loading history (the demo's seed, a migration of old records): the people and
    systems concerned must not hear about steps taken long ago. `enqueue` returns None inside this block."""
    token = _SENDING.set(False)
    try:
        yield
    finally:
        _SENDING.reset(token)


def is_muted() -> bool:
    return not _SENDING.get()


class OutsideTransaction(RuntimeError):
    """`enqueue` was called outside a transaction: the message would not be tied to the step that caused it."""


def _deliver_soon(message_id: int) -> None:
    from yidi.integrations.tasks import deliver_message_task

    try:
        deliver_message_task.enqueue(message_id)
    except Exception:  # the periodic drain delivers it
        logger.exception("could not queue the delivery of outbox message %s", message_id)


def enqueue(
    *, kind: str, destination: str, idempotency_key: str, text: str = "", payload: dict | None = None,
    subject: str = "", subject_type: str = "", subject_id: str = "", template: str = "",
) -> OutboxMessage | None:
    """Write one outbound message in the caller's transaction; it is delivered after the commit (nothing while
    `muted()`).

    - must run inside `transaction.atomic` (raises `OutsideTransaction` otherwise);
    - idempotent: a second call with the same `idempotency_key` returns the existing message and adds nothing;
    - `destination` (a phone, an e-mail address …) is stored encrypted.
    """
    if not _SENDING.get():
        return None
    if not connection.in_atomic_block:
        raise OutsideTransaction("enqueue must be called inside the transaction of the step that sends the message")
    if not idempotency_key:
        raise ValueError("an outbox message needs an idempotency key")
    now = clock.now()
    message, created = OutboxMessage.objects.get_or_create(idempotency_key=idempotency_key, defaults={
        "kind": kind, "destination": destination, "text": text, "payload": payload or {}, "subject": subject,
        "subject_type": subject_type, "subject_id": subject_id, "template": template,
        "status": MessageStatus.PENDING, "next_attempt_at": now, "created_at": now,
    })
    if created:
        transaction.on_commit(partial(_deliver_soon, message.pk), robust=True)
    return message


@transaction.atomic
def do_retry_messages(message_ids: list[int], *, actor) -> int:
    """重新发送: put finally failed messages back to pending with a fresh retry schedule (the attempt log stays).

    Messages that are not failed are left alone. One audit row per message. Returns how many were put back.
    """
    messages = list(
        OutboxMessage.objects.select_for_update().filter(pk__in=message_ids, status=MessageStatus.FAILED).order_by("id")
    )
    if not messages:
        return 0
    now = clock.now()
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=MessageStatus.PENDING, attempts=0, next_attempt_at=now
    )
    record_many(actor=actor, entries=[{
        "action": "integrations.retry_message", "object_type": "outbox_message", "object_id": message.pk,
        "fields": ["status", "attempts", "next_attempt_at"],
        "data": {"kind": message.kind, "attempts": message.attempts, "subject": f"{message.subject_type}:{message.subject_id}"},
    } for message in messages])
    for message in messages:
        transaction.on_commit(partial(_deliver_soon, message.pk), robust=True)
    return len(messages)
