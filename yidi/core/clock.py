"""The current time for actions. `at(moment)` lets the demo seeder replay history through the real
actions; everything else sees `timezone.now()`."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_override: ContextVar[datetime | None] = ContextVar("clock_override", default=None)


def now() -> datetime:
    return _override.get() or timezone.now()


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    if timezone.is_naive(moment):
        raise ValueError("clock.at needs an aware datetime")
    token = _override.set(moment)
    try:
        yield
    finally:
        _override.reset(token)
