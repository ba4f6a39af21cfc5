"""Read replica routing (docs/scaling.md): reads that may be a few seconds stale go to a streaming replica.

Which reads: the code paths marked with `reading_from_replica()` (a context manager and a decorator) — dashboards,
KPI pages and their exports, rankings, campaign figures and exports, the implementation report. Nothing is guessed
from model names: an unmarked path always reads from the primary.

Rules of `ReplicaRouter`:
- a read goes to `replica` only when (1) a `replica` database is configured (`YIDI_REPLICA_DATABASE_URL`), (2) the
  code path is marked, (3) the primary connection is not inside a transaction (an `atomic` block other than a test
  case's own): an action that reads inside its write transaction (the audit row of an export, a lock) reads
  what it will write against, so it stays on `default`;
- every write goes to `default`, whatever is marked; migrations never run on `replica`;
- a replica that cannot be reached is logged (warning) and skipped: reads go to `default`, and the replica is not
  tried again for `YIDI_REPLICA_RETRY_SECONDS` (30 s), so a dead replica costs one connect time-out per period,
  not one per request;
- unmarked reads are sent to `default` explicitly, so an object read from the replica and used later re-reads its
  relations from the primary;
- `PRIMARY_ONLY_MODELS` always read from `default`: write paths find their connection with `Model.objects.db`
  (a *read* routing call) before opening their transaction — the audit append (`yidi.audit.actions._append`)
  and the code sequences (`yidi.core.codes`) — and a marked export writes its audit row.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
DEFAULT_RETRY_SECONDS = 30
PRIMARY_ONLY_MODELS = frozenset({"audit.auditevent", "audit.auditchainhead", "core.codesequence"})

_marked: ContextVar[bool] = ContextVar("yidi_reading_from_replica", default=False)
_down_lock = threading.Lock()
_replica_down_until = 0.0  # time.monotonic() before which the replica is not tried


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Mark the code inside (or the decorated view) as content with slightly stale reads."""
    token = _marked.set(True)
    try:
        yield
    finally:
        _marked.reset(token)


def is_reading_from_replica() -> bool:
    """Whether the current code path is marked (not whether a replica exists or is up)."""
    return _marked.get()


def has_replica() -> bool:
    return REPLICA in connections.settings


def is_in_write_transaction(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether `alias` is inside a transaction opened by the code (not the one a test case wraps each test in)."""
    connection = connections[alias]
    if connection.in_atomic_block:
        return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
    return connection.connection is not None and not connection.autocommit


def mark_replica_down(error: BaseException) -> None:
    """Skip the replica for the retry period (and say so once)."""
    global _replica_down_until
    retry_seconds = getattr(settings, "YIDI_REPLICA_RETRY_SECONDS", DEFAULT_RETRY_SECONDS)
    with _down_lock:
        _replica_down_until = time.monotonic() + retry_seconds
    logger.warning("read replica unreachable, reading from the primary for the next %s s: %s", retry_seconds, error)


def reset_replica_state() -> None:
    """Forget a past failure (tests; an operator's shell after fixing the replica)."""
    global _replica_down_until
    with _down_lock:
        _replica_down_until = 0.0


def is_replica_usable() -> bool:
    """The replica is configured, not marked down, and a connection to it can be opened."""
    if not has_replica() or time.monotonic() < _replica_down_until:
        return False
    try:
        replica = connections[REPLICA]
        replica.close_if_health_check_failed()  # a kept connection the replica's restart broke: reconnect
        replica.ensure_connection()
    except DatabaseError as error:
        mark_replica_down(error)
        return False
    return True


def read_alias(model=None) -> str:
    """The database the current code path reads `model` from (what `ReplicaRouter.db_for_read` answers)."""
    if model is not None and model._meta.label_lower in PRIMARY_ONLY_MODELS:
        return DEFAULT_DB_ALIAS
    if _marked.get() and has_replica() and not is_in_write_transaction() and is_replica_usable():
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """`DATABASE_ROUTERS` entry; see the module docstring for the rules."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias(model)

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica is a copy of the primary: objects from either may be related.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool | None:
        return False if db == REPLICA else None
