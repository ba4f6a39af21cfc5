"""The daily rollup behind the county overview: the overview read from it equals the overview read from the
matters, today's matters count before any refresh, and an incremental refresh follows changes to past days."""

from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache

from yidi.analytics import dashboards, rollup
from yidi.analytics.models import DailyCount, RollupState
from yidi.analytics.tests.test_dashboard import (  # noqa: F401 (fixtures)
    COUNTY,
    FENGQIAO,
    SH,
    assigned,
    make_case_at,
    world,
    year_2026,
)
from yidi.cases import actions
from yidi.core import clock

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def figures(s) -> dict:
    """Every table of the overview, as exported (what a user sees), and its cards."""
    cache.clear()
    data = dashboards.overview(s)
    return {"cards": {card["code"]: card["value"] for card in data["cards"] + data["snapshot_cards"]},
            **{key: table.export_rows() for key, table in data["tables"].items()}}


def source(s) -> str:
    return dashboards.overview_counts(s, dashboards.region_cases(s.region_code)).source


def test_the_overview_from_the_rollup_equals_the_overview_from_the_matters(world):  # noqa: F811
    with clock.at(NOW):
        live = figures(year_2026())
        assert source(year_2026()) == "live"  # never built: the overview reads the matters

        result = rollup.refresh()

        assert (result.rebuilt, result.through_on) == (True, date(2026, 6, 14))
        assert source(year_2026()) == "rollup"
        assert figures(year_2026()) == live
    rows = {(row.day, row.area, row.registered, row.concluded, row.resolved, row.closed)
            for row in DailyCount.objects.filter(area=FENGQIAO)}
    assert rows == {(date(2025, 12, 20), FENGQIAO, 1, 0, 0, 0), (date(2026, 3, 2), FENGQIAO, 2, 0, 0, 0),  # d; a, b
                    (date(2026, 3, 10), FENGQIAO, 0, 1, 1, 0), (date(2026, 3, 12), FENGQIAO, 0, 0, 0, 1)}  # a
    assert live["cards"] == {"registered": 3, "registered_open": 2, "concluded": 1, "closed": 1,
                             "open_now": 3, "overdue_now": 1, "red_now": 0, "yellow_now": 0}


def test_a_month_and_a_township_slice_agree_as_well(world):  # noqa: F811
    from yidi.analytics.domain import month_period
    from yidi.analytics.engine import Slice

    march = Slice(COUNTY, month_period(2026, 3))
    with clock.at(NOW):
        live_march, live_township = figures(march), figures(year_2026(FENGQIAO))
        rollup.refresh()
        assert source(march) == "rollup" and source(year_2026(FENGQIAO)) == "live"  # townships: from the matters
        assert figures(march) == live_march
        assert figures(year_2026(FENGQIAO)) == live_township


def test_todays_matters_count_live_and_a_refresh_follows_changes_to_past_days(
        world, registrar, dispatcher):  # noqa: F811
    with clock.at(NOW):
        rollup.refresh()
    today = NOW + timedelta(hours=2)
    new = make_case_at(registrar, today, region_code=FENGQIAO)
    with clock.at(today):
        after_new = figures(year_2026())
        assert after_new["cards"]["registered"] == 4  # today is not in the rollup: counted from the matters
        assert DailyCount.objects.filter(day=today.date()).count() == 0
    later = NOW + timedelta(days=1, hours=1)  # the next day: the matter closed in March is reopened
    with clock.at(later):
        actions.do_reopen_case(world["a"], actor=dispatcher, reason="当事人不认可办理结果")
        assigned_today = assigned(registrar, dispatcher, later, region_code=FENGQIAO)
        state = RollupState.objects.get()
        state.refreshed_at = later - rollup.max_age() - timedelta(seconds=1)  # stale: the overview refreshes it
        state.save(update_fields=["refreshed_at"])

        rolled = figures(year_2026())

        assert RollupState.objects.get().through_on == date(2026, 6, 15)
        assert rolled["cards"]["closed"] == 0 and rolled["cards"]["registered"] == 5
        assert DailyCount.objects.filter(day=date(2026, 3, 12)).count() == 0  # a's closing day holds nothing now
        state.refresh_from_db()
        state.through_on = None  # what the matters say, read live
        state.save(update_fields=["through_on"])
        assert source(year_2026()) == "live"
        assert figures(year_2026()) == rolled
    assert {new.code, assigned_today.code} <= set(dashboards.region_cases(FENGQIAO).values_list("code", flat=True))


def test_refresh_is_idempotent_and_the_task_reports_it(world):  # noqa: F811
    from yidi.analytics.tasks import refresh_rollup_task

    with clock.at(NOW):
        rollup.refresh()
        before = sorted(DailyCount.objects.values_list("day", "area", "type_id", "channel_id", "registered",
                                                       "concluded", "resolved", "closed"))
        again = rollup.refresh()
        assert not again.rebuilt
        assert sorted(DailyCount.objects.values_list("day", "area", "type_id", "channel_id", "registered",
                                                     "concluded", "resolved", "closed")) == before
        message = refresh_rollup_task.call()
    assert message.startswith("日汇总增量更新")
