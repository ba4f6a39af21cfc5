"""The centre's overview on hand-built matters: exact figures, every link lands on exactly the matters counted,
exports, the empty period, caching and a query count that does not grow with the data."""

import csv
import html
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from yidi.analytics import dashboards
from yidi.analytics.domain import year_period
from yidi.analytics.engine import Slice
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.core import clock
from yidi.workflow.jobs import sweep_deadlines

SH = ZoneInfo("Asia/Shanghai")
COUNTY, FENGQIAO, JIYANG = "330681", "330681109", "330681001"
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SH)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def assigned(registrar, dispatcher, when, **overrides):
    with clock.at(when):
        case = make_case(registrar, **overrides)
        actions.do_accept_case(case.code, actor=dispatcher)
        return actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                                      handling_level="township", override_reason="由调度员指定")


@pytest.fixture
def world(registrar, dispatcher, handler):
    """a: 枫源村, concluded and closed in March; b: 枫桥镇, assigned and never signed (overdue since 4 March);
    c: 暨阳街道, a labour dispute by the 12345 hotline, registered in April; d: registered in 2025, still open."""
    old = make_case_at(registrar, at(2025, 12, 20, 10, 0), region_code=FENGQIAO)
    a = assigned(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    b = assigned(registrar, dispatcher, at(2026, 3, 2, 9, 30), region_code=FENGQIAO)
    with clock.at(at(2026, 3, 2, 15, 0)):
        actions.do_sign_case(a.code, actor=handler)
        actions.do_start_handling(a.code, actor=handler, mode="mediation")
    with clock.at(at(2026, 3, 10, 10, 0)):
        actions.do_conclude_case(a.code, actor=handler, outcome="written_agreement")
    with clock.at(at(2026, 3, 12, 10, 0)):
        actions.do_close_case(a.code, actor=dispatcher)
    sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    c = make_case_at(registrar, at(2026, 4, 1, 10, 0), region_code=JIYANG, primary_type_code="labour",
                     channel_code="hotline_12345", request_type="complaint", in_person=False)
    return {"a": a.code, "b": b.code, "c": c.code, "d": old.code}


def make_case_at(registrar, when, **overrides):
    with clock.at(when):
        return make_case(registrar, **overrides)


def year_2026(region=COUNTY) -> Slice:
    return Slice(region, year_period(2026))


def codes_at(client, url) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.context["page_obj"]
    assert page.paginator.num_pages == 1
    return {case.code for case in page.object_list}


@pytest.fixture
def now():
    with clock.at(NOW):
        yield NOW


def test_the_overview_counts_exactly_the_hand_built_matters(world, now):
    data = dashboards.overview(year_2026())
    figures = {card["code"]: card["value"] for card in data["cards"] + data["snapshot_cards"]}
    assert figures == {"registered": 3, "registered_open": 2, "concluded": 1, "closed": 1,
                       "open_now": 3, "overdue_now": 1, "red_now": 0, "yellow_now": 0}
    rates = {value.code: (value.numerator, value.denominator, value.display)
             for value in dashboards.rates(year_2026())["rates"]}
    assert rates["resolution"] == (1, 1, "100.00%")
    assert rates["satisfaction"][1] == 0 and rates["satisfaction"][2] == "—"
    monthly = {row[0].value: (row[1].value, row[2].value) for row in data["tables"]["monthly"].rows}
    assert len(monthly) == 6  # January to June: the months still to come are not listed
    assert (monthly["2026-03"], monthly["2026-04"], monthly["2026-05"]) == ((2, 1), (1, 0), (0, 0))
    assert [(row[0].value, row[1].value) for row in data["tables"]["by_type"].rows] == [("邻里纠纷", 2), ("劳动争议纠纷", 1)]
    channels = {row[0].value: row[1].value for row in data["tables"]["by_channel"].rows}
    assert channels == {"窗口来访": 2, "12345热线": 1}
    assert [(row[0].value, row[1].value) for row in data["tables"]["overdue_by_unit"].rows] == [("枫桥镇综治工作平台", 1)]
    areas = {row[0].value: [cell.value for cell in row[2:6]] for row in data["tables"]["areas"].rows}
    assert len(areas) == 23
    assert areas[FENGQIAO] == [2, 2, 1, 1]  # registered, open now (b and d), overdue now, closed
    assert areas[JIYANG] == [1, 1, 0, 0]
    tiles = {tile["code"]: tile for tile in data["map"]["tiles"]}
    assert (tiles[FENGQIAO]["value"], tiles[FENGQIAO]["bucket"], tiles["330681002"]["bucket"]) == ("2", 5, 0)


def test_every_figure_of_the_overview_links_to_exactly_its_matters(client, supervisor, world, now):
    client.force_login(supervisor)
    data = dashboards.overview(year_2026())
    expected = {"registered": {"a", "b", "c"}, "registered_open": {"b", "c"}, "concluded": {"a"}, "closed": {"a"},
                "open_now": {"b", "c", "d"}, "overdue_now": {"b"}, "red_now": set(), "yellow_now": set()}
    for card in data["cards"] + data["snapshot_cards"]:
        assert codes_at(client, card["url"]) == {world[key] for key in expected[card["code"]]}, card["code"]
    for table in ("monthly", "by_type", "by_channel", "overdue_by_unit", "areas"):
        for row in data["tables"][table].rows:
            for cell in row:
                if cell.url and "/analytics/dashboard/matters/" in cell.url:
                    assert len(codes_at(client, cell.url)) == cell.value, (table, cell.url)
    resolution = next(cells for value, cells in dashboards.rates(year_2026())["rate_cells"]
                      if value.code == "resolution")
    assert codes_at(client, resolution[1].url) == {world["a"]}  # the engine's drill-down, numerator


def test_a_supervisor_clicks_the_overdue_figure_and_exports_exactly_those_matters(client, supervisor, world, now):
    client.force_login(supervisor)
    page = client.get("/analytics/dashboard/?period=2026")
    assert page.status_code == 200
    overdue = next(card for card in page.context["snapshot_cards"] if card["code"] == "overdue_now")
    assert overdue["value"] == 1 and html.escape(overdue["url"]) in page.content.decode()
    listing = client.get(overdue["url"])
    assert [case.code for case in listing.context["page_obj"].object_list] == [world["b"]]
    query = overdue["url"].split("?", 1)[1]
    before = AuditEvent.objects.count()
    exported = client.get(f"/analytics/dashboard/matters/export.csv?{query}")
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["事项编码", "标题", "发生地", "纠纷类型", "来源渠道", "状态", "主办单位", "登记时间"]
    assert [row[0] for row in rows[1:]] == [world["b"]]
    assert rows[1][6] == "枫桥镇综治工作平台" and rows[1][7] == "2026-03-02 09:30"
    workbook = load_workbook(io.BytesIO(client.get(f"/analytics/dashboard/matters/export.xlsx?{query}").content))
    assert [row[0] for row in workbook.active.iter_rows(values_only=True)] == ["事项编码", world["b"]]
    audit = AuditEvent.objects.order_by("-id")[:2]
    assert AuditEvent.objects.count() == before + 2
    assert {event.action for event in audit} == {"analytics.export_dashboard_matters"}


def test_the_rates_panel_loads_apart_and_links_to_the_engines_drill_down(client, supervisor, world, now):
    client.force_login(supervisor)
    page = client.get("/analytics/dashboard/?period=2026")
    assert 'hx-get="/analytics/dashboard/rates/?region=330681&amp;period=2026"' in page.content.decode()
    panel = client.get("/analytics/dashboard/rates/?region=330681&period=2026")
    resolution = next(cells for value, cells in panel.context["rate_cells"] if value.code == "resolution")
    assert resolution[2].url == "/analytics/matters/?region=330681&period=2026&kpi=resolution&part=denominator"
    assert codes_at(client, resolution[2].url) == {world["a"]}
    unit_panel = client.get("/analytics/dashboard/rates/?region=330681&period=2026&unit=fq-platform")
    assert [value.code for value in unit_panel.context["rates"]] == list(dashboards.UNIT_KPIS)


def test_every_overview_table_exports_to_csv_and_excel_with_the_page_figures(client, supervisor, world, now):
    client.force_login(supervisor)
    by_type = client.get("/analytics/dashboard/export/by_type.csv?period=2026")
    assert list(csv.reader(io.StringIO(by_type.content.decode("utf-8-sig")))) == [
        ["纠纷类型", "本期登记（件）"], ["邻里纠纷", "2"], ["劳动争议纠纷", "1"]]
    summary = load_workbook(io.BytesIO(client.get("/analytics/dashboard/export/summary.xlsx?period=2026").content))
    rows = list(summary.active.iter_rows(values_only=True))
    assert rows[0] == ("统计项", "数量（件）", "说明")
    assert [(row[0], row[1]) for row in rows[1:]] == [
        ("本期登记", 3), ("其中在办", 2), ("本期出结果", 1), ("本期办结", 1), ("当前在办", 3), ("当前超期", 1),
        ("红色预警", 0), ("黄色预警", 0)]
    for table in ("rates", "monthly", "by_channel", "overdue_by_unit", "areas"):
        assert client.get(f"/analytics/dashboard/export/{table}.csv?period=2026").status_code == 200
    assert client.get("/analytics/dashboard/export/nothing.csv?period=2026").status_code == 404
    assert client.get("/analytics/dashboard/export/by_type.pdf?period=2026").status_code == 404


def test_a_period_without_matters_shows_zeros_and_no_data(client, supervisor, world, now):
    client.force_login(supervisor)
    response = client.get("/analytics/dashboard/?period=2024")
    assert response.status_code == 200
    html = response.content.decode()
    assert "无数据" in html
    assert {card["code"]: card["value"] for card in response.context["cards"]} == {
        "registered": 0, "registered_open": 0, "concluded": 0, "closed": 0}
    panel = client.get(response.context["rates_url"], headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.content.decode()
    assert all(value.value is None and value.reason for value in panel.context["rates"])
    assert "本期无出结果的事项" in panel.content.decode()
    assert response.context["tables"]["by_type"].rows == []
    assert not response.context["has_data"]


def test_bad_input_is_refused_with_a_chinese_message(client, supervisor, now):
    client.force_login(supervisor)
    response = client.get("/analytics/dashboard/?period=2026-13")
    assert response.status_code == 400
    assert "统计期间“2026-13”格式不对" in response.content.decode()
    listing = client.get("/analytics/dashboard/matters/?period=2026&measure=nothing")
    assert listing.status_code == 400 and "没有统计项“nothing”" in listing.content.decode()
    month = client.get("/analytics/dashboard/matters/?period=2026&measure=overdue_now&month=2026-03")
    assert month.status_code == 400 and "当前数不按月份分组" in month.content.decode()


def test_warm_figures_come_from_the_cache_after_one_map_lookup_and_the_query_count_does_not_grow(registrar, dispatcher, world, now):
    s = year_2026()
    with CaptureQueriesContext(connection) as cold:
        dashboards.overview(s)
    with CaptureQueriesContext(connection) as warm:
        dashboards.overview(s)
    assert [query["sql"] for query in warm] == [next(query["sql"] for query in cold if "regions_regionmap" in query["sql"])]
    for day in range(3, 13):
        assigned(registrar, dispatcher, at(2026, 5, day, 9, 0), primary_type_code="labour")
    cache.clear()
    with CaptureQueriesContext(connection) as more:
        data = dashboards.overview(s)
    assert len(more) == len(cold) <= 10
    assert data["cards"][0]["value"] == 13
