"""Pure rules: the Poisson test, severity, windows and seasons, the lifecycle table, who may act (no database)."""

from datetime import date

import pytest

from yidi.accounts.domain import Role
from yidi.supervision.domain import (
    Actor,
    AlertAction,
    AlertFacts,
    AlertStatus,
    IllegalTransition,
    Severity,
    common_region,
    denial_reason,
    next_status,
    poisson_sf,
    season_containing,
    severity_for,
    test_count,
    window_ends,
)


def test_poisson_tail_matches_known_values():
    assert poisson_sf(0, 2.0) == 1.0
    assert poisson_sf(1, 2.0) == pytest.approx(1 - 0.1353352832, abs=1e-9)
    assert poisson_sf(4, 2.0) == pytest.approx(0.1428765395, abs=1e-9)
    assert poisson_sf(12, 2.0) == pytest.approx(1.3646e-6, rel=1e-4)
    assert 0 < poisson_sf(60, 2.0) < 1e-40  # the far tail keeps its precision


def test_a_spike_is_a_signal_and_a_small_bump_or_a_tiny_count_is_not():
    assert test_count(12, [2, 1, 2, 3, 2, 1, 2, 3], p_threshold=0.001, min_count=5).is_signal
    assert not test_count(4, [2, 2, 2, 2, 2, 2, 2, 2], p_threshold=0.001, min_count=5).is_signal
    assert not test_count(3, [0] * 8, p_threshold=0.001, min_count=5).is_signal  # under the minimum count
    empty = test_count(6, [0] * 8, p_threshold=0.001, min_count=5)
    assert empty.expected == 0.5 and empty.is_signal


def test_severity_follows_the_thresholds():
    assert [severity_for(m, orange_at=3, red_at=5) for m in (1, 3, 4.9, 5)] == [
        Severity.YELLOW, Severity.ORANGE, Severity.ORANGE, Severity.RED]


def test_windows_cover_the_period_by_half_window_steps():
    assert window_ends(date(2026, 1, 1), date(2026, 1, 1), window_days=14) == [date(2026, 1, 1)]
    assert window_ends(date(2026, 1, 1), date(2026, 1, 22), window_days=14) == [
        date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 15), date(2026, 1, 22)]


def test_the_season_is_the_days_before_the_festival():
    festivals = [date(2026, 2, 17), date(2027, 2, 6)]
    season = season_containing(date(2027, 1, 10), festivals, season_days=42)
    assert (season.starts_on, season.ends_on) == (date(2026, 12, 26), date(2027, 2, 5))
    assert season_containing(date(2026, 9, 30), festivals, season_days=42) is None
    assert season_containing(date(2027, 2, 6), festivals, season_days=42) is None  # the festival itself


def test_common_region_is_the_smallest_containing_region():
    assert common_region(["330681109290", "330681109290"]) == "330681109290"
    assert common_region(["330681109290", "330681109201"]) == "330681109"
    assert common_region(["330681109290", "330681001001"]) == "330681"


def test_the_lifecycle_table():
    assert next_status(AlertStatus.NEW, AlertAction.ASSESS) == AlertStatus.ASSESSED
    assert next_status(AlertStatus.ASSESSED, AlertAction.CLOSE) == AlertStatus.CLOSED
    for status, action in [(AlertStatus.NEW, AlertAction.HANDLE), (AlertStatus.NEW, AlertAction.CLOSE),
                           (AlertStatus.CLOSED, AlertAction.ASSESS), (AlertStatus.HANDLED, AlertAction.HANDLE)]:
        with pytest.raises(IllegalTransition):
            next_status(status, action)


FENGQIAO_ALERT = AlertFacts(region="330681109290", owner_unit_id=7, owner_user_id=None)


@pytest.mark.parametrize(("roles", "unit_id", "unit_region", "action", "allowed"), [
    ({Role.DISPATCHER}, 1, "330681", AlertAction.CLOSE, True),
    ({Role.SUPERVISOR}, 1, "330681109", AlertAction.ASSESS, True),
    ({Role.LEADER}, 1, "330681001", AlertAction.ASSESS, False),  # another township's leader
    ({Role.HANDLER}, 7, "330681109", AlertAction.HANDLE, True),  # the owner unit
    ({Role.HANDLER}, 7, "330681109", AlertAction.CLOSE, False),  # the owner does not close its own alert
    ({Role.HANDLER}, 8, "330681109", AlertAction.ASSESS, False),
    ({Role.REGISTRAR}, 1, "330681", AlertAction.ASSESS, False),
])
def test_who_may_take_each_step(roles, unit_id, unit_region, action, allowed):
    actor = Actor(roles=frozenset(roles), unit_id=unit_id, unit_region=unit_region, user_id=99)
    assert (denial_reason(actor, FENGQIAO_ALERT, action) is None) == allowed
