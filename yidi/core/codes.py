"""Human-readable, unique, stable codes (一案一码): `330681-2026-000123`, and other yearly numbers (卷号)."""

from django.db import transaction
from django.db.models import F

from yidi.core.models import CodeSequence


def format_case_code(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:06d}"


def next_code(prefix: str, year: int) -> str:
    """The next code for `prefix` and `year`; gap-free per committed transaction, safe under concurrency."""
    return format_case_code(prefix, year, next_number(prefix, year))


def next_number(prefix: str, year: int) -> int:
    """The next number of the sequence `prefix` in `year` (1, 2, …).

    The row is created if missing, then incremented with `F()` under the caller's transaction, so two
    registrations never share a number (the UPDATE takes the row lock on both databases).
    """
    with transaction.atomic():
        CodeSequence.objects.get_or_create(prefix=prefix, year=year)
        CodeSequence.objects.filter(prefix=prefix, year=year).update(last_value=F("last_value") + 1)
        return CodeSequence.objects.values_list("last_value", flat=True).get(prefix=prefix, year=year)
