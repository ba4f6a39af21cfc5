"""Reading the audit log: the chain in order for verification, and the auditors' search."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from yidi.audit.domain import ROW_FIELDS
from yidi.audit.models import AuditEvent

CHAIN_BATCH_SIZE = 5000
_AT = ROW_FIELDS.index("at")
_FIELDS = ROW_FIELDS.index("fields")
_DATA = ROW_FIELDS.index("data")


def _chain_sql(connection, *, bounded: bool) -> str:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(AuditEvent._meta.get_field(name).column) for name in ROW_FIELDS)
    upper = " AND seq <= %s" if bounded else ""
    return f"SELECT {columns} FROM {table} WHERE chain = %s AND seq > %s{upper} ORDER BY seq LIMIT %s"  # noqa: S608


@lru_cache(maxsize=1024)
def _decoded_fields(text: str) -> Any:
    """`fields` lists repeat (a handful of field-name sets): decode each text once. Read-only results."""
    return json.loads(text)


def _decoded(row: tuple[Any, ...]) -> list[Any]:
    """A raw row with its time made aware (SQLite gives naive UTC) and its JSON columns decoded."""
    values = list(row)
    at = values[_AT]
    if at.tzinfo is None:
        values[_AT] = at.replace(tzinfo=UTC)
    fields, data = values[_FIELDS], values[_DATA]
    if isinstance(fields, str):
        values[_FIELDS] = _decoded_fields(fields)
    if isinstance(data, str):
        values[_DATA] = json.loads(data)
    return values


def chain_numbers() -> list[int]:
    """The chains that have rows or a head, in order.

    The chains with rows are found by stepping through the (`chain`, `seq`) index one chain at a time (a loose
    index scan: a few probes, however long the log), not by a DISTINCT over every row.
    """
    from yidi.audit.models import AuditChainHead

    connection = connections[AuditEvent.objects.db]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE c(chain) AS (SELECT MIN(chain) FROM {table} "  # noqa: S608
            f"UNION ALL SELECT (SELECT MIN(chain) FROM {table} WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL) "
            "SELECT chain FROM c WHERE chain IS NOT NULL"
        )
        used = {row[0] for row in cursor.fetchall()}
    return sorted(used | set(AuditChainHead.objects.values_list("id", flat=True)))


def iter_raw_chain_rows(
    *, chain: int = 1, from_seq: int = 1, to_seq: int | None = None, batch_size: int = CHAIN_BATCH_SIZE
) -> Iterator[tuple[Any, ...]]:
    """Rows of `chain` from `from_seq` in `seq` order, as the database driver returns the `ROW_FIELDS` columns,
    read in keyset batches on the unique (`chain`, `seq`) index: memory stays constant, no cursor stays open
    between batches.

    Plain SQL rather than the ORM: verification reads every row, and the ORM's per-row conversions would
    cost more than checking the MAC.
    """
    connection = connections[AuditEvent.objects.db]
    sql = _chain_sql(connection, bounded=to_seq is not None)
    after = from_seq - 1
    while True:
        params = [chain, after, to_seq, batch_size] if to_seq is not None else [chain, after, batch_size]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            batch = cursor.fetchall()
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1][0]


def iter_chain_rows(
    *, chain: int = 1, from_seq: int = 1, to_seq: int | None = None, batch_size: int = CHAIN_BATCH_SIZE
) -> Iterator[list[Any]]:
    """`iter_raw_chain_rows` with each row's time aware and its JSON decoded, ready for `verify_rows`."""
    return map(_decoded, iter_raw_chain_rows(chain=chain, from_seq=from_seq, to_seq=to_seq, batch_size=batch_size))


@dataclass(frozen=True)
class EventFilters:
    actor: str = ""  # account name, exact
    action: str = ""  # prefix: "case." finds every action on matters
    object_type: str = ""
    object_id: str = ""
    outcome: str = ""
    date_from: date | None = None  # local dates (Asia/Shanghai), both inclusive
    date_to: date | None = None

    def as_dict(self) -> dict[str, str]:
        """The filters that are set, as text (for the audit row that records a search)."""
        return {name: str(value) for name, value in self.__dict__.items() if value not in ("", None)}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def list_events(filters: EventFilters) -> QuerySet[AuditEvent]:
    """Matching rows, newest first. Served by the indexes on `at`, `action` (prefix too), (`object_type`,
    `object_id`) and (`actor_username`, `at`)."""
    query = AuditEvent.objects.all()
    if filters.actor:
        query = query.filter(actor_username=filters.actor)
    if filters.action:
        query = query.filter(action__startswith=filters.action)
    if filters.object_type:
        query = query.filter(object_type=filters.object_type)
    if filters.object_id:
        query = query.filter(object_id=filters.object_id)
    if filters.outcome:
        query = query.filter(outcome=filters.outcome)
    if filters.date_from:
        query = query.filter(at__gte=_start_of(filters.date_from))
    if filters.date_to:
        query = query.filter(at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return query.order_by("-at", "-id")
