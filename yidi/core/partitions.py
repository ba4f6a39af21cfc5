"""Monthly range partitions of the three tables that only grow — the timeline, the audit log, the contacts — on
PostgreSQL (docs/scaling.md "Partitioning"). `manage.py partition_tables` converts them; the periodic task
`yidi.core.tasks.ensure_partitions_task` keeps the coming months' partitions ready.

Converting one table `T` (partition key `K`, months in the instance's time zone):
1. `T__partitioned` is created like `T` (columns, defaults, NOT NULL and CHECK constraints, identity), partitioned
   by range of `K`, with the primary key `(id, K)`, the foreign keys and the non-unique indexes of `T`, and the
   row triggers (cloned into every partition) and statement triggers (put on every partition too) of `T`.
2. One partition per month from the oldest row's month to `months_ahead` months after this one, and a DEFAULT
   partition for anything outside them (a clock far in the future, a back-dated import).
3. Rows are copied by ranges of `id`, each range its own transaction (a big table never makes one huge
   transaction). Append-only tables (`append_only`) are copied while the application keeps writing; the rows
   written meanwhile are copied under the lock of step 4. A table whose rows may change (contacts move to the
   surviving matter of a merge) is copied entirely under that lock.
4. One transaction: lock `T` against writes (reads go on), copy the tail, check the row counts are equal, move
   the identity past every id, rename `T` → `T__unpartitioned` (its indexes and sequence too) and
   `T__partitioned` → `T` with the names Django knows. `T__unpartitioned` is kept (dropped with `drop_old`).
   A table copied under the lock gets its foreign keys only now (one set-based check per partition instead of a
   deferred check per row at commit).
5. `ANALYZE`: the new partitions have no statistics, and a plan without them reads every partition by bitmap.

Unique constraints: PostgreSQL requires a unique constraint of a partitioned table to contain the partition key,
so `(case, seq)` and `(chain, seq)` cannot stay table-wide. They become a unique index on each partition
(`local_unique`): two rows with the same `(case, seq)` in the same month are still refused. The guarantee in
time comes from the writers, as before: an event takes its `seq` with the matter's row locked, an audit row
takes its `seq` with its chain head locked (`yidi.audit.actions`), and `audit verify` walks every chain and
reports any gap or repeat. The primary key is `(id, K)`: ids stay unique because one identity hands them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from time import monotonic
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

NEW_SUFFIX = "__partitioned"
OLD_SUFFIX = "__unpartitioned"
DEFAULT_MONTHS_AHEAD = 3
DEFAULT_BATCH_SIZE = 50_000
MAX_NAME = 63  # PostgreSQL's identifier length
# Ids handed out this long before the last batch's upper bound may still have been uncommitted when it ran.
CATCH_UP_MARGIN = 10_000


@dataclass(frozen=True)
class PartitionSpec:
    table: str
    key: str
    append_only: bool
    local_unique: tuple[tuple[str, ...], ...] = ()


SPECS = {
    spec.table: spec
    for spec in (
        PartitionSpec("cases_caseevent", "at", append_only=True, local_unique=(("case_id", "seq"),)),
        PartitionSpec("audit_auditevent", "at", append_only=True, local_unique=(("chain", "seq"),)),
        PartitionSpec("cases_contact", "contacted_at", append_only=False),
    )
}


class PartitionError(Exception):
    """The conversion cannot go on; nothing of the table was changed (or the change was rolled back)."""


@dataclass
class Conversion:
    table: str
    months: list[date] = field(default_factory=list)
    rows: int = 0
    steps: list[str] = field(default_factory=list)
    done: bool = False
    seconds: float = 0.0  # the whole conversion
    locked_seconds: float = 0.0  # how long writers to the table waited (step 4)


# --- months and names ---------------------------------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from `first`'s month to `last`'s month, both included."""
    months, month = [], month_of(first)
    while month <= month_of(last):
        months.append(month)
        month = add_months(month, 1)
    return months


def month_bound(month: date) -> str:
    """The instant a month begins in the instance's time zone, as a PostgreSQL literal."""
    return datetime.combine(month, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE)).isoformat()


def partition_name(table: str, month: date | None) -> str:
    return f"{table}_p{month:%Y_%m}" if month else f"{table}_pdefault"


def _short(name: str, suffix: str) -> str:
    return f"{name[:MAX_NAME - len(suffix)]}{suffix}"


def local_index_name(partition: str, columns: tuple[str, ...]) -> str:
    return _short(f"{partition}_{'_'.join(columns)}", "_uniq")


# --- reading the catalogue ----------------------------------------------------------------------------------------


def _one(cursor, sql: str, params=()):
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return row[0] if row else None


def relation_kind(cursor, table: str) -> str | None:
    """'r' a plain table, 'p' a partitioned one, None missing."""
    return _one(cursor, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass(%s)", [table])


def existing_partitions(cursor, table: str) -> list[str]:
    cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                   "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname", [table])
    return [row[0] for row in cursor.fetchall()]


def _unique_constraints(cursor, table: str) -> list[tuple[str, tuple[str, ...]]]:
    cursor.execute(
        "SELECT con.conname, array_agg(a.attname ORDER BY k.ord) FROM pg_constraint con "
        "CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
        "WHERE con.conrelid = to_regclass(%s) AND con.contype = 'u' GROUP BY con.conname ORDER BY con.conname",
        [table])
    return [(name, tuple(columns)) for name, columns in cursor.fetchall()]


def _plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes that back no constraint."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid) ORDER BY c.relname", [table])
    return cursor.fetchall()


def _all_indexes(cursor, table: str) -> list[str]:
    cursor.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                   "WHERE i.indrelid = to_regclass(%s) ORDER BY c.relname", [table])
    return [row[0] for row in cursor.fetchall()]


def _foreign_keys(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = to_regclass(%s) AND contype = 'f' ORDER BY conname", [table])
    return cursor.fetchall()


def _triggers(cursor, table: str) -> list[tuple[str, str, bool]]:
    """(name, definition, is row-level) of the table's own triggers."""
    cursor.execute("SELECT tgname, pg_get_triggerdef(oid), (tgtype & 1) = 1 FROM pg_trigger "
                   "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname",
                   [table])
    return cursor.fetchall()


def _columns(cursor, table: str) -> list[str]:
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                   "AND NOT attisdropped ORDER BY attnum", [table])
    return [row[0] for row in cursor.fetchall()]


def _on_table(definition: str, table: str, new_table: str) -> str:
    """A trigger or index definition of `table` rewritten for `new_table` (pg_get_*def qualify the name)."""
    for qualified in (f" ON public.{table} ", f" ON {table} "):
        if qualified in definition:
            return definition.replace(qualified, f" ON {new_table} ", 1)
    raise PartitionError(f"无法改写定义：{definition}")


# --- creating partitions ------------------------------------------------------------------------------------------


def partition_statements(cursor, spec: PartitionSpec, parent: str, month: date | None,
                         *, statement_triggers: list[str]) -> list[str]:
    """Create one month's partition (or the DEFAULT one) of `parent`, with its per-partition unique indexes and
    the parent's statement triggers (row triggers and plain indexes come from the parent by themselves)."""
    name = partition_name(spec.table, month)
    bounds = (f"FOR VALUES FROM ('{month_bound(month)}') TO ('{month_bound(add_months(month, 1))}')"
              if month else "DEFAULT")
    statements = [f"CREATE TABLE {name} PARTITION OF {parent} {bounds}"]
    statements += [f"CREATE UNIQUE INDEX {local_index_name(name, columns)} ON {name} ({', '.join(columns)})"
                   for columns in spec.local_unique]
    statements += [_on_table(definition, parent, name) for definition in statement_triggers]
    return statements


def _statement_trigger_definitions(cursor, table: str) -> list[str]:
    return [definition for _name, definition, is_row in _triggers(cursor, table) if not is_row]


def ensure_future_partitions(*, months_ahead: int = DEFAULT_MONTHS_AHEAD, today: date | None = None,
                             alias: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Create the partitions of this month and the next `months_ahead` months that do not exist yet, for every
    table already partitioned; returns the names created per table. A month whose rows already sit in the
    DEFAULT partition is left out and reported as `!name` (moving them is an operator's decision)."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return {}
    today = today or datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    created: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for spec in SPECS.values():
            if relation_kind(cursor, spec.table) != "p":
                continue
            have = set(existing_partitions(cursor, spec.table))
            triggers = _statement_trigger_definitions(cursor, spec.table)
            for month in months_between(today, add_months(today, months_ahead)):
                name = partition_name(spec.table, month)
                if name in have:
                    continue
                if _rows_in_default(cursor, spec, month):
                    created.setdefault(spec.table, []).append(f"!{name}")
                    continue
                with transaction.atomic(using=alias):
                    for statement in partition_statements(cursor, spec, spec.table, month,
                                                          statement_triggers=triggers):
                        cursor.execute(statement)
                created.setdefault(spec.table, []).append(name)
    return created


def _rows_in_default(cursor, spec: PartitionSpec, month: date) -> int:
    default = partition_name(spec.table, None)
    if relation_kind(cursor, default) is None:
        return 0
    return _one(cursor, f"SELECT count(*) FROM {default} WHERE {spec.key} >= %s AND {spec.key} < %s",  # noqa: S608
                [month_bound(month), month_bound(add_months(month, 1))])


# --- converting a table -------------------------------------------------------------------------------------------


def _check_convertible(cursor, spec: PartitionSpec) -> None:
    kind = relation_kind(cursor, spec.table)
    if kind is None:
        raise PartitionError(f"表 {spec.table} 不存在（先运行 migrate）")
    for leftover in (spec.table + NEW_SUFFIX, spec.table + OLD_SUFFIX):
        if relation_kind(cursor, leftover) is not None:
            raise PartitionError(f"表 {leftover} 已存在：上次转换留下的表，请核对后删除（DROP TABLE {leftover}）再运行")
    unique_indexes = [name for name, definition in _plain_indexes(cursor, spec.table)
                      if definition.startswith("CREATE UNIQUE")]
    if unique_indexes:
        raise PartitionError(f"表 {spec.table} 有唯一索引 {', '.join(unique_indexes)}：唯一索引必须包含分区键，无法转换")
    uniques = {columns for _name, columns in _unique_constraints(cursor, spec.table)}
    if uniques != set(spec.local_unique):
        raise PartitionError(
            f"表 {spec.table} 的唯一约束 {sorted(uniques)} 与分区设计 {sorted(spec.local_unique)} 不一致："
            "唯一约束必须包含分区键，请先在 yidi/core/partitions.py 中说明如何保证它")


def plan_structure(cursor, spec: PartitionSpec, months: list[date]) -> list[str]:
    """The statements of steps 1–2 (the empty partitioned copy and its partitions)."""
    table, new = spec.table, spec.table + NEW_SUFFIX
    statements = [
        f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
        f"INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({spec.key})",
        f"ALTER TABLE {new} ADD CONSTRAINT {_short(new, '_pkey')} PRIMARY KEY (id, {spec.key})",
    ]
    if spec.append_only:  # checked row by row as the batches commit, before the lock
        statements += foreign_key_statements(cursor, spec)
    statements += [_on_table(definition.replace(f"INDEX {name} ", f"INDEX {_short(name, '_p')} ", 1), table, new)
                   for name, definition in _plain_indexes(cursor, table)]
    triggers = _triggers(cursor, table)
    statements += [_on_table(definition, table, new) for _name, definition, _is_row in triggers]
    statement_triggers = [definition for _name, definition, is_row in triggers if not is_row]
    for month in [*months, None]:
        statements += partition_statements(cursor, spec, table, month, statement_triggers=statement_triggers)
    # the partitions are created under their final names, on the copy
    return [s.replace(f" PARTITION OF {table} ", f" PARTITION OF {new} ") for s in statements]


def foreign_key_statements(cursor, spec: PartitionSpec) -> list[str]:
    """The table's foreign keys on the copy. A table copied under the lock gets them after the copy, inside the
    lock: one set-based check per partition is far quicker than a deferred check per row at commit (1,000,400
    contacts: see docs/scaling.md), and the lock is held that much less."""
    return [f"ALTER TABLE {spec.table}{NEW_SUFFIX} ADD CONSTRAINT {name} {definition}"
            for name, definition in _foreign_keys(cursor, spec.table)]


def _copy(cursor, spec: PartitionSpec, columns: str, low: int, high: int, batch_size: int,
          progress: Callable[[str], None]) -> int:
    copied = 0
    new = spec.table + NEW_SUFFIX
    start = low
    while start < high:
        end = min(start + batch_size, high)
        cursor.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {spec.table} "  # noqa: S608
                       f"WHERE id > %s AND id <= %s", [start, end])
        copied += cursor.rowcount
        progress(f"{spec.table}：已复制到 id {end}（共 {copied} 行）")
        start = end
    return copied


def _swap_statements(cursor, spec: PartitionSpec) -> list[str]:
    """Step 4's renames: the original's indexes and sequence step aside, the copy takes the original's names
    (renaming an index renames the constraint it backs)."""
    table, new, old = spec.table, spec.table + NEW_SUFFIX, spec.table + OLD_SUFFIX
    statements = [f"ALTER INDEX {name} RENAME TO {_short(name, '_u')}" for name in _all_indexes(cursor, table)]
    old_sequence = _one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])
    new_sequence = _one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [new])
    statements += [
        f"ALTER TABLE {table} RENAME TO {old}",
        f"ALTER SEQUENCE {old_sequence} RENAME TO {_short(old, '_id_seq')}",
        f"ALTER TABLE {new} RENAME TO {table}",
        f"ALTER SEQUENCE {new_sequence} RENAME TO {_short(table, '_id_seq')}",
        f"ALTER INDEX {_short(new, '_pkey')} RENAME TO {_short(table, '_pkey')}",
    ]
    statements += [f"ALTER INDEX {_short(name, '_p')} RENAME TO {name}" for name, _ in _plain_indexes(cursor, table)]
    return statements


def _copy_missing(cursor, spec: PartitionSpec, columns: str, since: int) -> int:
    """Copy the rows with an id above `since` that the copy lacks: the tail written during the batches, and a row
    whose id was handed out before a batch ran but whose transaction committed after it."""
    new = spec.table + NEW_SUFFIX
    cursor.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {spec.table} o "  # noqa: S608
                   f"WHERE o.id > %s AND NOT EXISTS (SELECT 1 FROM {new} n WHERE n.id = o.id)", [since])
    return cursor.rowcount


def convert_table(spec: PartitionSpec, *, months_ahead: int = DEFAULT_MONTHS_AHEAD,
                  batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False, drop_old: bool = False,
                  today: date | None = None, alias: str = DEFAULT_DB_ALIAS,
                  progress: Callable[[str], None] = lambda message: None) -> Conversion:
    """Convert `spec.table` into monthly partitions (the module docstring lists the steps)."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise PartitionError(f"按月分区只支持 PostgreSQL，当前数据库是 {connection.vendor}")
    today = today or datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    result = Conversion(spec.table)
    started = monotonic()
    with connection.cursor() as cursor:
        if relation_kind(cursor, spec.table) == "p":
            result.steps.append(f"{spec.table} 已是分区表，只补建未来月份的分区")
            return result
        _check_convertible(cursor, spec)
        cursor.execute(f"SELECT min({spec.key}), max({spec.key}), count(*), coalesce(max(id), 0) "  # noqa: S608
                       f"FROM {spec.table}")
        oldest, newest, result.rows, high = cursor.fetchone()
        zone = ZoneInfo(settings.TIME_ZONE)
        first = oldest.astimezone(zone).date() if oldest else today
        last = max(newest.astimezone(zone).date() if newest else today, add_months(today, months_ahead))
        result.months = months_between(first, last)
        structure = plan_structure(cursor, spec, result.months)
        late_keys = [] if spec.append_only else foreign_key_statements(cursor, spec)
        result.steps = [*structure, f"-- 复制 {result.rows} 行（每批 {batch_size} 行）", *late_keys,
                        f"-- 锁表、补齐、核对行数、换名；旧表保留为 {spec.table}{OLD_SUFFIX}"]
        if dry_run:
            return result
        with transaction.atomic(using=alias):
            for statement in structure:
                cursor.execute(statement)
        progress(f"{spec.table}：已建分区表和 {len(result.months) + 1} 个分区")
        columns = ", ".join(connection.ops.quote_name(name) for name in _columns(cursor, spec.table))
        try:
            if spec.append_only:
                _copy(cursor, spec, columns, 0, high, batch_size, progress)
            locked = monotonic()
            with transaction.atomic(using=alias):
                cursor.execute(f"LOCK TABLE {spec.table} IN EXCLUSIVE MODE")  # writers wait; readers go on
                if spec.append_only:
                    _copy_missing(cursor, spec, columns, max(high - CATCH_UP_MARGIN, 0))
                else:
                    tail = _one(cursor, f"SELECT coalesce(max(id), 0) FROM {spec.table}")  # noqa: S608
                    _copy(cursor, spec, columns, 0, tail, batch_size, progress)
                    for statement in late_keys:
                        cursor.execute(statement)
                counts = (_one(cursor, f"SELECT count(*) FROM {spec.table}"),  # noqa: S608
                          _one(cursor, f"SELECT count(*) FROM {spec.table}{NEW_SUFFIX}"))  # noqa: S608
                if counts[0] != counts[1]:
                    raise PartitionError(f"{spec.table}：行数不一致（原表 {counts[0]}，分区表 {counts[1]}），已回滚")
                result.rows = counts[0]
                sequence = _one(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [spec.table])
                next_id = _one(cursor, f"SELECT greatest(coalesce(max(id), 0), "  # noqa: S608
                               f"(SELECT last_value FROM {sequence})) + 1 FROM {spec.table}")
                cursor.execute(f"ALTER TABLE {spec.table}{NEW_SUFFIX} ALTER COLUMN id RESTART WITH {int(next_id)}")
                for statement in _swap_statements(cursor, spec):
                    cursor.execute(statement)
                if drop_old:
                    cursor.execute(f"DROP TABLE {spec.table}{OLD_SUFFIX}")
            result.locked_seconds = monotonic() - locked
        except Exception:
            cursor.execute(f"DROP TABLE IF EXISTS {spec.table}{NEW_SUFFIX}")  # the original is untouched
            raise
        progress(f"{spec.table}：更新统计信息（ANALYZE）")
        with connection.cursor() as analyze:
            analyze.execute(f"ANALYZE {spec.table}")  # new partitions have none: plans would be blind
    result.done = True
    result.seconds = monotonic() - started
    return result
