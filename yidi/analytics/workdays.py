"""The working-day index (`WorkdayOrdinal`) built from the national working calendar of `yidi.core.worktime`.

Rules:
- the index covers whole years, from the year of the oldest matter (or of the period asked) to next year;
- it is rebuilt when the calendar changes (holidays and 调休 are admin data) or when a wider range is needed;
- it is a derived index, not business data: rebuilding writes no audit row and no timeline event.
"""

from datetime import date, timedelta
from threading import Lock

from django.db import transaction
from django.db.models import Count, Max, Min

from yidi.analytics.models import WorkdayOrdinal
from yidi.core import clock, worktime

_lock = Lock()
_built_for: dict[str, object] = {}


def _ordinals(first: date, last: date, calendar) -> list[WorkdayOrdinal]:
    rows, ordinal, day = [], 0, first
    while day <= last:
        if calendar.is_workday(day):
            ordinal += 1
        rows.append(WorkdayOrdinal(day=day, ordinal=ordinal))
        day += timedelta(days=1)
    return rows


def ensure_index(first_year: int, last_year: int) -> None:
    """Make sure the index covers `first_year`…`last_year` (and next year) with the current calendar."""
    calendar = worktime.calendar()
    last_year = max(last_year, clock.now().year + 1)
    stats = WorkdayOrdinal.objects.aggregate(first=Min("day"), last=Max("day"), n=Count("day"))
    covered = (
        stats["first"] is not None and stats["first"] <= date(first_year, 1, 1)
        and stats["last"] >= date(last_year, 12, 31)
        and stats["n"] == (stats["last"] - stats["first"]).days + 1
    )
    key = (stats["first"], stats["last"], stats["n"])
    with _lock:
        if covered and _built_for.get("calendar") == calendar and _built_for.get("key") == key:
            return
    if covered:
        # built by another process or before the calendar changed: trust the table only if it matches
        expected = _ordinals(stats["first"], stats["last"], calendar)
        stored = dict(WorkdayOrdinal.objects.values_list("day", "ordinal"))
        if all(stored.get(row.day) == row.ordinal for row in expected):
            with _lock:
                _built_for.update(calendar=calendar, key=key)
            return
    first = min(date(first_year, 1, 1), stats["first"] or date(first_year, 1, 1))
    last = max(date(last_year, 12, 31), stats["last"] or date(last_year, 12, 31))
    rows = _ordinals(first, last, calendar)
    with transaction.atomic():
        WorkdayOrdinal.objects.all().delete()
        WorkdayOrdinal.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    with _lock:
        _built_for.update(calendar=calendar, key=(first, last, len(rows)))
