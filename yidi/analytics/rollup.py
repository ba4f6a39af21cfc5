"""The daily rollup (日汇总) behind the county overview: per Shanghai day × township × dispute type × channel, how
many matters were registered, concluded with a result, concluded as resolved and closed (`DailyCount`).

Rules:
- `day_counts(...)` computes those counts from the matters (one GROUP BY per count); the rollup stores exactly
  what it returns, and readers compute the days the rollup does not hold yet (today, at least) with it too, so a
  figure is the same whether it came from the rollup or from the matters;
- `refresh(now=...)` is incremental and idempotent: it adds every complete day after `RollupState.through_on` up
  to yesterday, and recomputes whole every past day a matter changed since the last refresh (`Case.updated_at`,
  with a margin for transactions that committed late) counted on, now (its registered, concluded and closed days)
  or before (the days of its timeline events: a reopening takes a matter off the day it was closed on). The first
  refresh, or one after more than `YIDI_ANALYTICS_ROLLUP_REBUILD_OVER` changed matters, rebuilds every day, a
  month at a time. Run by `refresh_rollup_task` (periodic) and on demand by the overview when the rollup is older
  than `YIDI_ANALYTICS_ROLLUP_MAX_AGE_SECONDS` (never a first build: that is the task's);
- the snapshot figures (open, overdue, red, yellow now; registered in the period and still open) change every
  minute and are not in the rollup: the overview counts them live from the open matters.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import Substr, TruncDate, TruncMonth
from django.utils import timezone

from yidi.analytics.models import DailyCount, RollupState
from yidi.cases.domain import RESOLVED_OUTCOMES
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.regions.domain import code_range

AREA_LENGTH = 9  # the township part of a region code: the rollup serves slices of a county (areas = townships)
COUNTS = {
    "registered": ("registered_at", Q()),
    "concluded": ("concluded_at", ~Q(outcome="")),
    "resolved": ("concluded_at", Q(outcome__in=sorted(o.value for o in RESOLVED_OUTCOMES))),
    "closed": ("closed_at", Q()),
}
CHANGE_MARGIN = timedelta(minutes=10)
Key = tuple[date, str, int | None, int]  # day, area, type id, channel id


def max_age() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "YIDI_ANALYTICS_ROLLUP_MAX_AGE_SECONDS", 600)))


def rebuild_over() -> int:
    return int(getattr(settings, "YIDI_ANALYTICS_ROLLUP_REBUILD_OVER", 20000))


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def day_counts(first_on: date, last_on: date, *, region_code: str = "") -> dict[Key, dict[str, int]]:
    """The counts of the days `first_on`..`last_on` (inclusive), from the matters (of `region_code` if given)."""
    rows: dict[Key, dict[str, int]] = {}
    start_at, end_at = _start(first_on), _start(last_on + timedelta(days=1))
    for name, (field, condition) in COUNTS.items():
        matters = Case.objects.filter(condition, **{f"{field}__gte": start_at, f"{field}__lt": end_at})
        if region_code:
            low, high = code_range(region_code)
            matters = matters.filter(region_id__gte=low, region_id__lt=high)
        grouped = matters.annotate(day=TruncDate(field), area=Substr("region_id", 1, AREA_LENGTH)).values(
            "day", "area", "primary_type_id", "channel_id").annotate(n=Count("pk")).order_by()
        for row in grouped:
            key = (row["day"], row["area"], row["primary_type_id"], row["channel_id"])
            rows.setdefault(key, dict.fromkeys(COUNTS, 0))[name] = row["n"]
    return rows


def _store(first_on: date, last_on: date) -> int:
    """Replace the rollup's rows of `first_on`..`last_on` with freshly computed ones; returns the rows written."""
    DailyCount.objects.filter(day__gte=first_on, day__lte=last_on).delete()
    rows = [DailyCount(day=day, area=area, type_id=type_id, channel_id=channel_id, **counts)
            for (day, area, type_id, channel_id), counts in day_counts(first_on, last_on).items()]
    DailyCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _runs(days: set[date]) -> list[tuple[date, date]]:
    """Sorted days as contiguous runs (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _months(first_on: date, last_on: date) -> list[tuple[date, date]]:
    runs, day = [], first_on
    while day <= last_on:
        month_end = (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        runs.append((day, min(month_end, last_on)))
        day = month_end + timedelta(days=1)
    return runs


@dataclass(frozen=True)
class RefreshResult:
    through_on: date | None
    days: int  # days recomputed
    rows: int  # rows written
    rebuilt: bool

    def __str__(self) -> str:
        kind = "全部重建" if self.rebuilt else "增量更新"
        return f"日汇总{kind}：{self.days} 天，{self.rows} 行，已汇总至 {self.through_on or '—'}"


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


@transaction.atomic
def refresh(*, now: datetime | None = None, full: bool = False) -> RefreshResult:
    """Bring the rollup up to yesterday (see the module docstring); `full` rebuilds every day."""
    now = now or clock.now()
    yesterday = timezone.localdate(now) - timedelta(days=1)
    state = RollupState.objects.select_for_update().order_by("pk").first() or RollupState.objects.create()
    seen_at = Case.objects.aggregate(last=Max("updated_at"))["last"]  # read first: later changes are next time's
    changed = Case.objects.all()
    if state.changes_seen_at is not None:
        changed = changed.filter(updated_at__gte=state.changes_seen_at - CHANGE_MARGIN)
    rebuild = full or state.through_on is None or changed.count() > rebuild_over()
    days: set[date] = set()
    if rebuild:
        first = Case.objects.aggregate(first=Min("registered_at"))["first"]
        DailyCount.objects.all().delete()
        runs = _months(timezone.localdate(first), yesterday) if first is not None else []
    else:
        stamps = changed.values_list("registered_at", "concluded_at", "closed_at")
        days = {day for row in stamps for day in map(_local_day, row) if day is not None}
        days |= {_local_day(at) for at in CaseEvent.objects.filter(case__in=changed.values("pk")).values_list(
            "at", flat=True).distinct()}
        days = {day for day in days if day <= state.through_on}
        day = state.through_on + timedelta(days=1)
        while day <= yesterday:
            days.add(day)
            day += timedelta(days=1)
        runs = _runs(days)
    written = sum(_store(first_on, last_on) for first_on, last_on in runs)
    counted_days = sum((last_on - first_on).days + 1 for first_on, last_on in runs)
    state.through_on = max(yesterday, state.through_on) if state.through_on and not rebuild else yesterday
    state.changes_seen_at = seen_at or state.changes_seen_at
    state.refreshed_at = now
    state.save()
    return RefreshResult(state.through_on, counted_days, written, rebuild)


def state() -> RollupState | None:
    return RollupState.objects.order_by("pk").first()


def serves(region_code: str) -> bool:
    """Whether the rollup can give this region's period figures: a county (its areas are townships)."""
    return len(region_code) == 6


def ensure_fresh(*, now: datetime | None = None) -> RollupState | None:
    """The rollup's state, refreshed first when it is older than `max_age()`; None when it was never built."""
    now = now or clock.now()
    current = state()
    if current is None or current.through_on is None:
        return None
    if current.refreshed_at is None or now - current.refreshed_at > max_age() \
            or current.through_on < timezone.localdate(now) - timedelta(days=1):
        refresh(now=now)
        current = state()
    return current


@dataclass
class PeriodCounts:
    """A county's counts over whole days: per area (township code, or the county's own code), per type id, per
    channel id and per month ("YYYY-MM") — each a dict of the `COUNTS` names."""

    by_area: dict[str, dict[str, int]]
    by_type: dict[int | None, int]  # registered
    by_channel: dict[int, int]  # registered
    by_month: dict[str, dict[str, int]]


def _add(target: dict, key, counts: dict[str, int]) -> None:
    into = target.setdefault(key, dict.fromkeys(COUNTS, 0))
    for name in COUNTS:
        into[name] += counts.get(name) or 0


def period_counts(region_code: str, first_on: date, last_on: date, *, through_on: date | None) -> PeriodCounts:
    """The counts of `first_on`..`last_on` for a county: the rollup's rows up to `through_on`, the later days
    live from the matters (`day_counts`, the same computation)."""
    result = PeriodCounts({}, {}, {}, {})
    stored_last = min(last_on, through_on) if through_on is not None else first_on - timedelta(days=1)
    if stored_last >= first_on:
        low, high = code_range(region_code)
        rows = DailyCount.objects.filter(day__gte=first_on, day__lte=stored_last, area__gte=low, area__lt=high)
        sums = {name: Sum(name) for name in COUNTS}
        for row in rows.values("area").annotate(**sums).order_by():
            _add(result.by_area, row["area"], row)
        for row in rows.values("type_id").annotate(n=Sum("registered")).order_by():
            result.by_type[row["type_id"]] = result.by_type.get(row["type_id"], 0) + row["n"]
        for row in rows.values("channel_id").annotate(n=Sum("registered")).order_by():
            result.by_channel[row["channel_id"]] = result.by_channel.get(row["channel_id"], 0) + row["n"]
        for row in rows.annotate(month=TruncMonth("day")).values("month").annotate(**sums).order_by():
            _add(result.by_month, f"{row['month']:%Y-%m}", row)
    live_first = max(first_on, stored_last + timedelta(days=1))
    if live_first <= last_on:
        for (day, area, type_id, channel_id), counts in day_counts(live_first, last_on,
                                                                   region_code=region_code).items():
            _add(result.by_area, area, counts)
            result.by_type[type_id] = result.by_type.get(type_id, 0) + counts["registered"]
            result.by_channel[channel_id] = result.by_channel.get(channel_id, 0) + counts["registered"]
            _add(result.by_month, f"{day:%Y-%m}", counts)
    result.by_type = {k: v for k, v in result.by_type.items() if v}
    result.by_channel = {k: v for k, v in result.by_channel.items() if v}
    return result
