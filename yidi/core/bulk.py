"""Fast bulk writes for batch jobs.

Django's `bulk_update` builds one CASE expression per field and row, which costs milliseconds per row in
Python; `bulk_create` reads every id back. The deadline sweep writes thousands of rows a minute, so these
two helpers write them with the fewest statements each database allows:

- PostgreSQL: inserts with `COPY … FROM STDIN`; updates with one statement whose values are passed as one
  typed array per column and spread with `UNNEST` — the statement text stays short, so the driver parses it
  once instead of splitting a query of thousands of placeholders.
- SQLite: `executemany` of a one-row statement (updates) and multi-row `VALUES` lists (inserts); both run
  in-process, so there is no round trip to save.

Values go through each field's own `get_db_prep_save`, so dates, JSON and encrypted fields are stored exactly
as the ORM would store them.

`insert_objects` inserts unsaved model instances the same way and, when asked, gives them their new ids: on
PostgreSQL the ids are drawn from the table's sequence first and copied with the rows; on SQLite each
statement returns them (`RETURNING`, in the order of its rows, which Django's own `bulk_create` relies on).
"""

import contextlib
import functools
import time
from collections.abc import Iterator, Sequence

from django.db import connections, models
from django.db.models.base import ModelState


def _is_postgres(connection) -> bool:
    return connection.vendor == "postgresql"


# Fields whose database value is the Python value itself (exact classes: a subclass such as an encrypted
# field must go through its own `get_db_prep_save`). Date-times pass through on PostgreSQL only; SQLite
# stores them as text.
_PLAIN_FIELDS = (
    models.CharField, models.TextField, models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
    models.PositiveIntegerField, models.PositiveBigIntegerField, models.PositiveSmallIntegerField,
    models.BooleanField, models.ForeignKey, models.AutoField, models.BigAutoField,
)


def _preparers(fields: Sequence[models.Field], connection) -> list:
    """Per field, None when values are stored as they are, else the field's `get_db_prep_save`."""
    plain = {*_PLAIN_FIELDS, models.DateTimeField} if _is_postgres(connection) else set(_PLAIN_FIELDS)
    return [
        None if type(field) in plain else functools.partial(field.get_db_prep_save, connection=connection)
        for field in fields
    ]


def _prepare(rows: Sequence[Sequence], fields: Sequence[models.Field], connection) -> list[list]:
    preparers = _preparers(fields, connection)
    if all(preparer is None for preparer in preparers):
        return [list(row) for row in rows]
    return [
        [value if preparer is None else preparer(value) for preparer, value in zip(preparers, row, strict=True)]
        for row in rows
    ]


def _array_type(field: models.Field, connection) -> str:
    return f"{field.cast_db_type(connection)}[]"


def update_rows(objects: Sequence[models.Model], field_names: Sequence[str]) -> int:
    """Write `field_names` of every object (matched by primary key) back to its row; returns the row count."""
    if not objects:
        return 0
    model = type(objects[0])
    connection = connections[model.objects.db]
    fields = [model._meta.get_field(name) for name in field_names]
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), model._meta.pk
    prepared = _prepare([[getattr(obj, field.attname) for field in fields] for obj in objects], fields, connection)
    columns = [list(column) for column in zip(*prepared, strict=True)]
    keys = [obj.pk for obj in objects]
    with connection.cursor() as cursor:
        if _is_postgres(connection):
            names = [f"v{index}" for index in range(len(fields))]
            assignments = ", ".join(f"{quote(field.column)} = u.{name}" for field, name in zip(fields, names, strict=True))
            arrays = ", ".join(f"%s::{_array_type(field, connection)}" for field in [pk, *fields])
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM UNNEST({arrays}) AS u(k, {', '.join(names)}) "  # noqa: S608
                f"WHERE {table}.{quote(pk.column)} = u.k",
                [keys, *columns],
            )
        else:
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s",  # noqa: S608
                [[*row, key] for *row, key in zip(*columns, keys, strict=True)],
            )
    return len(objects)


def insert_values(
    model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence], *, max_params: int = 8000
) -> int:
    """Insert plain rows (values in the order of the field `names`, attnames such as `case_id`) without
    building model instances: for batch jobs writing thousands of rows. Defaults and `auto_now` are not
    applied: every column the table needs must be given."""
    if not rows:
        return 0
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    return _insert(model, [by_attname[name] for name in names], rows, max_params=max_params)


def _insert(model: type[models.Model], fields: list[models.Field], rows: Sequence[Sequence], *, max_params: int) -> int:
    """On PostgreSQL one `COPY … FROM STDIN` (the driver's fastest path; triggers and constraints apply as for
    INSERT); on SQLite multi-row `VALUES` lists, each as
    long as fits in `max_params` parameters."""
    connection = connections[model.objects.db]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    prepared = _prepare(rows, fields, connection)
    with connection.cursor() as cursor:
        if _is_postgres(connection):
            sql = f"COPY {table} ({columns}) FROM STDIN"
            started = time.monotonic()
            with cursor.cursor.copy(sql) as copy:  # the driver's own cursor: Django's wrapper has no COPY
                for row in prepared:
                    copy.write_row(row)
            if connection.queries_logged:  # as Django's debug cursor would, so query counts stay honest
                connection.queries_log.append({"sql": f"{sql} -- {len(prepared)} rows",
                                               "time": f"{time.monotonic() - started:.3f}"})
            return len(prepared)
        for values, params in _values_lists(prepared, len(fields), max_params):
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)  # noqa: S608
    return len(prepared)


def _values_lists(prepared: list[list], width: int, max_params: int) -> Iterator[tuple[str, list]]:
    """The rows as multi-row `VALUES` lists of at most `max_params` parameters: (placeholders, parameters)."""
    row_placeholder = "(" + ", ".join(["%s"] * width) + ")"
    per_statement = max(1, max_params // width)
    for start in range(0, len(prepared), per_statement):
        chunk = prepared[start:start + per_statement]
        yield ", ".join([row_placeholder] * len(chunk)), [value for row in chunk for value in row]


@functools.cache
def _unsaved_spec(model: type[models.Model]) -> tuple[dict, list, frozenset]:
    """(defaults that are plain values, (attname, factory) of callable defaults, every attname) of a model."""
    static, factories = {}, []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            factories.append((field.attname, field.default))
        else:
            static[field.attname] = field.get_default()
    return static, factories, frozenset(field.attname for field in model._meta.concrete_fields)


def unsaved(model: type[models.Model], /, **values) -> models.Model:
    """A new unsaved instance, as `model(**values)` makes it but without `Model.__init__`'s work per field
    (several times the cost): for the rows a batch builds by the thousand. Values by attname (`case_id`, not
    `case`); every other field gets its default. Sends no `pre_init`/`post_init` signals (nothing here listens)."""
    static, factories, attnames = _unsaved_spec(model)
    unknown = values.keys() - attnames
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    instance = model.__new__(model)
    instance._state = ModelState()
    fields = instance.__dict__
    fields.update(static)
    for attname, factory in factories:
        fields[attname] = factory()
    fields.update(values)
    return instance


def insert_objects(objects: Sequence[models.Model], *, with_ids: bool = False) -> int:
    """Insert unsaved instances of one model (every concrete field but the primary key, `auto_now` stamps set
    as `save` sets them; a foreign key set as a related instance saved meanwhile is taken from it). With `with_ids` each instance gets its new primary key
    and counts as saved; without, ids are not read (nothing written after the rows refers to them). Django's
    `bulk_create` builds its statement field by field in Python, several times the cost per row of this."""
    if not objects:
        return 0
    model = type(objects[0])
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    stamped = {field.attname for field in fields if getattr(field, "auto_now", False)
               or getattr(field, "auto_now_add", False)}
    rows = []
    for obj in objects:
        row = []
        for field in fields:
            value = field.pre_save(obj, True) if field.attname in stamped else getattr(obj, field.attname)
            if value is None and field.is_relation and field.is_cached(obj):
                related = getattr(obj, field.name)
                value = related.pk if related is not None else None
            row.append(value)
        rows.append(row)
    if not with_ids:
        return _insert(model, fields, rows, max_params=8000)
    alias = model.objects.db
    connection = connections[alias]
    pk = model._meta.pk
    if _is_postgres(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [model._meta.db_table, pk.column, len(rows)])
            ids = [row[0] for row in cursor.fetchall()]
        _insert(model, [pk, *fields], [[key, *row] for key, row in zip(ids, rows, strict=True)], max_params=8000)
    else:
        ids = _insert_returning(model, fields, rows, connection)
    for obj, key in zip(objects, ids, strict=True):
        obj.pk = key
        obj._state.adding, obj._state.db = False, alias
    return len(rows)


def _insert_returning(model: type[models.Model], fields: list[models.Field], rows: list[list], connection,
                      max_params: int = 8000) -> list:
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(field.column) for field in fields)
    prepared = _prepare(rows, fields, connection)
    ids = []
    with connection.cursor() as cursor:
        for values, params in _values_lists(prepared, len(fields), max_params):
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {pk}", params)  # noqa: S608
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


@contextlib.contextmanager
def large_page_cache(using: str = "default", *, kib: int = 65_536) -> Iterator[None]:
    """While a batch job writes a lot on SQLite, give its connection a page cache of `kib` KiB, so the index
    pages of large tables stay in memory (the default 2 MiB made a 100,000-row import 9 % slower); the
    connection's own size comes back after. Nothing on PostgreSQL, whose cache is the server's."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")
