"""The working calendar, time-limit policies and 督办 ladder as the database holds them, built into the pure
objects of `yidi.core.calendar` and `yidi.core.deadlines`.

They are read on every deadline computation, so they are cached per process: a lookup asks the database
whether the table changed (row count and latest change) at most every `RECHECK_SECONDS`, and admin saves
clear the cache at once.
"""

import time
from datetime import date
from threading import Lock

from django.db.models import Count, Max

from yidi.core.calendar import WorkingCalendar
from yidi.core.deadlines import DeadlinePolicy, EscalationRule, escalation_rule_from_dict, policy_from_dict
from yidi.core.models import DeadlinePolicyRecord, EscalationRuleRecord, WorkCalendarDay

_lock = Lock()
_cache: dict[str, tuple[object, object, float]] = {}
# How long a process trusts its cached copy before asking the database whether the table changed. Saves in the
# admin clear the cache of their own process at once; other processes see the change within this time.
RECHECK_SECONDS = 5.0


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _cached(key: str, version_of, build):
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[2] < RECHECK_SECONDS:
        return hit[1]
    version = version_of()
    value = hit[1] if hit is not None and hit[0] == version else build()
    with _lock:
        _cache[key] = (version, value, now)
    return value


def _calendar_version():
    return tuple(WorkCalendarDay.objects.aggregate(n=Count("id"), changed=Max("updated_at")).values())


def _build_calendar(unit_code: str) -> WorkingCalendar:
    holidays, workdays, overrides_off, overrides_on = set(), set(), set(), set()
    years = set()
    for day, kind, code in WorkCalendarDay.objects.filter(unit_code__in=["", unit_code]).values_list(
        "day", "kind", "unit_code"
    ):
        if code:
            (overrides_off if kind == WorkCalendarDay.HOLIDAY else overrides_on).add(day)
        else:
            (holidays if kind == WorkCalendarDay.HOLIDAY else workdays).add(day)
            years.add(day.year)
    base = WorkingCalendar(holidays, workdays, covered_years=years)
    if overrides_off or overrides_on:
        return base.with_overrides(extra_holidays=overrides_off, extra_workdays=overrides_on)
    return base


def calendar(unit_code: str = "") -> WorkingCalendar:
    """The national calendar, or a unit's calendar with its own overrides (特色日历)."""
    return _cached(f"calendar:{unit_code}", _calendar_version, lambda: _build_calendar(unit_code))


def coverage_warning(today: date) -> str | None:
    """A warning for admins when this year or next has no calendar data (weekends-only fallback)."""
    return calendar().coverage_warning([today.year, today.year + 1])


def _version(model):
    return tuple(model.objects.aggregate(n=Count("id"), changed=Max("updated_at")).values())


def policies() -> list[DeadlinePolicy]:
    def build():
        result = []
        for record in DeadlinePolicyRecord.objects.filter(is_active=True).order_by("code"):
            result.append(policy_record_to_domain(record))
        return result

    return _cached("policies", lambda: _version(DeadlinePolicyRecord), build)


def policy_record_to_domain(record: DeadlinePolicyRecord) -> DeadlinePolicy:
    match = {
        key: value
        for key, value in (
            ("channel", record.channel_group), ("request_type", record.request_type), ("level", record.level),
            ("dispute_type", record.dispute_type),
        )
        if value
    }
    return policy_from_dict({
        "id": record.code, "name": record.name, "match": match, "stages": record.stages,
        "diversion": record.diversion or None, "basis": record.basis, "active": record.is_active,
    })


def escalation_rules() -> list[EscalationRule]:
    def build():
        return [
            escalation_rule_from_dict({
                "id": r.code, "state": r.state, "effect": r.effect, "stage": r.stage or None,
                "min_overdue_days": r.min_overdue_days, "policy_ids": r.policy_codes,
            })
            for r in EscalationRuleRecord.objects.filter(is_active=True).order_by("code")
        ]

    return _cached("escalation_rules", lambda: _version(EscalationRuleRecord), build)
