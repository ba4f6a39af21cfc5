"""Human-readable, unique, stable codes (一案一码): `330681-2026-000123`, and other yearly numbers (卷号)."""

import uuid

from django.db import connections, transaction

from yidi.core.models import CodeSequence

PLACEHOLDER_PREFIX = "~"


def format_case_code(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def placeholder_code() -> str:
    """A unique stand-in (24 characters, never a real code) for a row written before its code is taken.

    The code sequence's row stays locked from the moment a number is taken until the transaction ends, so a
    writer inserts its rows under a placeholder, takes the number as late as it can and then writes the real
    code: concurrent writers queue only for that last part of each other's transactions. A placeholder is
    never committed (the same transaction replaces it)."""
    return PLACEHOLDER_PREFIX + uuid.uuid4().hex[:23]


def next_code(prefix: str, year: int) -> str:
    """The next code for `prefix` and `year`; gap-free per committed transaction, safe under concurrency."""
    return format_case_code(prefix, year, next_number(prefix, year))


def next_number(prefix: str, year: int) -> int:
    """The next number of the sequence `prefix` in `year` (1, 2, …).

    The row is created if missing, then incremented under the caller's transaction, so two registrations never
    share a number (the UPDATE takes the row lock on both databases).
    """
    return next_numbers(prefix, year, 1)[0]


def next_numbers(prefix: str, year: int, count: int) -> range:
    """The next `count` numbers of the sequence `prefix` in `year`, handed out with one increment (a batch of
    registrations advances the sequence once). Gap-free per committed transaction, like `next_number`.

    - one `UPDATE … RETURNING` in the common case (the row exists); the row is created on first use;
    - the row stays locked until the caller's transaction ends: take the numbers as late in the transaction as
      possible (see `placeholder_code`), every statement after this one delays the next writer.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    alias = CodeSequence.objects.db
    connection = connections[alias]
    table = connection.ops.quote_name(CodeSequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + %s WHERE prefix = %s AND year = %s RETURNING last_value"  # noqa: S608
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, [count, prefix, year])
        found = cursor.fetchone()
        if found is None:
            CodeSequence.objects.get_or_create(prefix=prefix, year=year)
            cursor.execute(sql, [count, prefix, year])
            found = cursor.fetchone()
    last = found[0]
    return range(last - count + 1, last + 1)
