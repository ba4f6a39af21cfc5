"""The working calendar: which dates are working days, and working-day arithmetic (pure, no Django).

Rules:
- A date is a working day when it is Monday–Friday and not a holiday, or when it is a make-up working
  weekend day (调休上班). Holidays and make-up working days are data (`data/cn_workcalendar.csv`, or the
  admin-edited table), never code.
- A year that has no data ("not covered") falls back to weekends-only. The calendar never hides this:
  `missing_years()` and `coverage_warning()` name the years so that admins see a warning.
- Counting follows the Chinese convention for periods: the start day is not counted; counting starts on
  the next working day ("自次日起 13 个工作日").
- A unit's own calendar (特色日历) is the base calendar with overrides layered on top (`with_overrides`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

DEFAULT_CALENDAR_PATH = Path(__file__).parent / "data" / "cn_workcalendar.csv"
CSV_HEADER = ("date", "kind", "name", "source")
HOLIDAY = "holiday"
WORKDAY = "workday"
_ONE_DAY = timedelta(days=1)
_COVERED_YEARS_RE = re.compile(r"^#\s*covered_years:\s*(\d{4})\s*-\s*(\d{4})\s*$")


class CalendarDataError(ValueError):
    """A calendar data file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class WorkingCalendar:
    """Holidays and make-up working days (调休) as data, with the years the data covers.

    `holidays`: dates off that would otherwise be working days (a holiday on a weekend is allowed and
    changes nothing). `makeup_workdays`: weekend dates that are working days. A date in both sets is a
    working day (an override that says "we work that day" wins).
    """

    holidays: frozenset[date]
    makeup_workdays: frozenset[date]
    covered_years: frozenset[int] = field(kw_only=True)

    def __post_init__(self) -> None:
        # Accept any iterable; store frozensets so the calendar is hashable and cannot change.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "makeup_workdays", frozenset(self.makeup_workdays))
        object.__setattr__(self, "covered_years", frozenset(self.covered_years))

    def is_workday(self, d: date) -> bool:
        if d in self.makeup_workdays:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def is_covered(self, year: int) -> bool:
        return year in self.covered_years

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """The years among `years` that have no holiday data (computed weekends-only), sorted."""
        return sorted({year for year in years if year not in self.covered_years})

    def coverage_warning(self, years: Iterable[int]) -> str | None:
        """A Chinese warning for admins when any of `years` has no data, else None."""
        missing = self.missing_years(years)
        if not missing:
            return None
        names = "、".join(f"{year} 年" for year in missing)
        return f"工作日历缺少 {names}的节假日与调休数据，已按仅周末休息计算，请管理员补录。"

    def add_workdays(self, start: date, n: int) -> date:
        """The date `n` working days after `start`; `start` itself is not counted; n = 0 gives `start`."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = start
        while n:
            d += _ONE_DAY
            if self.is_workday(d):
                n -= 1
        return d

    def subtract_workdays(self, end: date, n: int) -> date:
        """The earliest date `x` with `workdays_between(x, end) <= n`: from that day on, at most `n`
        working days remain until `end` (used for "yellow N working days before the due day").

        For a working day `end`, n = 0 gives `end`; with end a Monday and n = 1 it is the Friday before.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = end
        remaining = 0
        while True:
            if self.is_workday(d):
                remaining += 1
            if remaining > n:
                return d
            d -= _ONE_DAY
        # The loop always ends: the sets are finite, so going back we reach plain weekdays.

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: those elapsed from `a` to `b`, or remaining from `a` until `b`.

        Negative when b < a (working days in (b, a], negated). `workdays_between(a, add_workdays(a, n))
        == n`.
        """
        if b < a:
            return -self.workdays_between(b, a)
        count = 0
        d = a
        while d < b:
            d += _ONE_DAY
            if self.is_workday(d):
                count += 1
        return count

    def with_overrides(
        self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()
    ) -> WorkingCalendar:
        """This calendar with a unit's own days off and working days layered on top (特色日历).

        An extra holiday removes a base make-up working day on that date; an extra working day removes a
        base holiday. Overrides do not make a year covered.
        """
        extra_holidays = frozenset(extra_holidays)
        extra_workdays = frozenset(extra_workdays)
        both = extra_holidays & extra_workdays
        if both:
            raise ValueError(f"dates both off and working in the overrides: {sorted(both)}")
        return WorkingCalendar(
            (self.holidays - extra_workdays) | extra_holidays,
            (self.makeup_workdays - extra_holidays) | extra_workdays,
            covered_years=self.covered_years,
        )


def load_calendar_csv(path: Path | str) -> WorkingCalendar:
    """Read a `date,kind,name,source` CSV (see `data/SOURCE.md`) into a calendar.

    - Lines starting with `#` are comments; `# covered_years: 2020-2026` declares the covered years
      (without it, the years that have rows are covered).
    - `kind` is `holiday` or `workday`; a `workday` row must be a Saturday or Sunday.
    - Any malformed row raises `CalendarDataError` naming the file and line.
    """
    path = Path(path)
    holidays: set[date] = set()
    workdays: set[date] = set()
    declared_years: set[int] | None = None
    header_seen = False
    with path.open(encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            where = f"{path}:{lineno}"
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                match = _COVERED_YEARS_RE.match(stripped)
                if match:
                    first, last = int(match[1]), int(match[2])
                    if last < first:
                        raise CalendarDataError(f"{where}: covered_years {first}-{last} is empty")
                    declared_years = set(range(first, last + 1))
                continue
            row = next(csv.reader([stripped]))
            if not header_seen:
                if tuple(cell.strip() for cell in row) != CSV_HEADER:
                    raise CalendarDataError(
                        f"{where}: expected header {','.join(CSV_HEADER)!r}, got {stripped!r}"
                    )
                header_seen = True
                continue
            if len(row) != len(CSV_HEADER):
                raise CalendarDataError(f"{where}: expected 4 fields (date,kind,name,source), got {len(row)}")
            raw_date, kind, name = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                d = date.fromisoformat(raw_date)
            except ValueError:
                raise CalendarDataError(f"{where}: bad date {raw_date!r} (expected YYYY-MM-DD)") from None
            if d in holidays or d in workdays:
                raise CalendarDataError(f"{where}: date {d} appears twice")
            if not name:
                raise CalendarDataError(f"{where}: empty name for {d}")
            if kind == HOLIDAY:
                holidays.add(d)
            elif kind == WORKDAY:
                if d.weekday() < 5:
                    raise CalendarDataError(
                        f"{where}: workday {d} is a weekday; only weekends can be make-up workdays"
                    )
                workdays.add(d)
            else:
                raise CalendarDataError(f"{where}: bad kind {kind!r} (expected holiday or workday)")
    if not header_seen:
        raise CalendarDataError(f"{path}: no header line {','.join(CSV_HEADER)!r}")
    years = {d.year for d in holidays | workdays}
    if declared_years is not None:
        outside = sorted(years - declared_years)
        if outside:
            raise CalendarDataError(f"{path}: rows for years {outside} outside covered_years")
        years = declared_years
    return WorkingCalendar(frozenset(holidays), frozenset(workdays), covered_years=frozenset(years))


@cache
def default_calendar() -> WorkingCalendar:
    """The shipped mainland China calendar (2020–2026), read once."""
    return load_calendar_csv(DEFAULT_CALENDAR_PATH)
