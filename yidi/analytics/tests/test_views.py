"""The KPI pages: region scoping, drill-down to exactly the matters counted, CSV/Excel exports, rankings."""

import csv
import io

import pytest
from openpyxl import load_workbook

from yidi.accounts.domain import Role, UnitKind
from yidi.accounts.models import Unit
from yidi.analytics import queries
from yidi.analytics.domain import INSUFFICIENT_SAMPLE, KPIS, month_period
from yidi.analytics.engine import Slice, compute
from yidi.analytics.tables import kpi_rows
from yidi.analytics.tests.builders import at, handled
from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_unit, make_user

pytestmark = pytest.mark.django_db
MARCH = "period=2026-03"


@pytest.fixture
def fq_leader(db):
    unit = Unit.objects.filter(code="fq-centre").first() or make_unit(
        "fq-centre", kind=UnitKind.TOWNSHIP_CENTRE, region_code="330681109", name="枫桥镇矛调中心")
    return make_user("fq-leader", Role.LEADER, unit=unit, name="枫桥镇领导")


@pytest.fixture
def matters_in_two_townships(registrar, dispatcher, handler, outsider, fq_platform, jy_platform):
    fengqiao = handled(registrar, dispatcher, handler, fq_platform, registered=at(3, 2), accepted=at(3, 3),
                       signed=at(3, 3, 11), concluded=at(3, 6), closed=at(3, 9))
    jiyang = handled(registrar, dispatcher, outsider, jy_platform, registered=at(3, 2), accepted=at(3, 3),
                     signed=at(3, 3, 11), concluded=at(3, 6), closed=at(3, 9), region_code="330681001001",
                     outcome="mediation_failed")
    return fengqiao, jiyang


def test_the_supervisor_sees_the_county_table_with_every_number_linked_to_its_matters(client, supervisor,
                                                                                       matters_in_two_townships):
    client.force_login(supervisor)

    response = client.get(f"/analytics/?{MARCH}")

    assert response.status_code == 200
    html = response.content.decode()
    assert "化解率" in html and "50.00" in html
    assert "/analytics/matters/?region=330681&amp;period=2026-03&amp;kpi=resolution&amp;part=denominator" in html
    assert "本期无参评事项" in html and "无数据" not in html


def test_a_township_leader_sees_only_their_township_and_cannot_drill_into_another(client, fq_leader,
                                                                                   matters_in_two_townships):
    fengqiao, jiyang = matters_in_two_townships
    client.force_login(fq_leader)

    own = client.get(f"/analytics/?{MARCH}")
    other = client.get(f"/analytics/?region=330681001&{MARCH}")
    county = client.get(f"/analytics/?region=330681&{MARCH}")
    drill_other = client.get(f"/analytics/matters/?region=330681001&{MARCH}&kpi=resolution&part=denominator")
    export_other = client.get(f"/analytics/export.csv?region=330681001&{MARCH}")
    drill_own = client.get(f"/analytics/matters/?{MARCH}&kpi=resolution&part=denominator")

    assert own.status_code == 200 and "100.00" in own.content.decode()  # only 枫桥镇's matter, resolved
    assert (other.status_code, county.status_code, drill_other.status_code, export_other.status_code) == (
        404, 404, 404, 404)
    assert fengqiao.code in drill_own.content.decode() and jiyang.code not in drill_own.content.decode()


def test_people_without_an_oversight_role_get_not_found(client, handler):
    client.force_login(handler)

    assert client.get("/analytics/").status_code == 404
    assert client.get("/analytics/rankings/").status_code == 404


def test_the_drill_down_lists_exactly_the_matters_counted(client, supervisor, matters_in_two_townships):
    fengqiao, jiyang = matters_in_two_townships
    client.force_login(supervisor)

    numerator = client.get(f"/analytics/matters/?region=330681&{MARCH}&kpi=mediation_success&part=numerator")
    denominator = client.get(f"/analytics/matters/?region=330681&{MARCH}&kpi=mediation_success&part=denominator")

    assert fengqiao.code in numerator.content.decode() and jiyang.code not in numerator.content.decode()
    assert fengqiao.code in denominator.content.decode() and jiyang.code in denominator.content.decode()
    assert "共 1 件" in numerator.content.decode() and "共 2 件" in denominator.content.decode()


@pytest.mark.parametrize(("query", "message"), [
    ("period=2026-13", "统计期间“2026-13”格式不对，应为 2026、2026-Q1 或 2026-03"),
    ("region=33068", "区划代码“33068”不正确，应为6、9或12位数字"),
    ("unit=nope", "没有单位“nope”"),
    ("from=2026-03-10&to=2026-03-01", "结束日期不能早于开始日期"),
])
def test_bad_filters_show_a_specific_message_and_export_nothing(client, supervisor, query, message):
    client.force_login(supervisor)
    audit = AuditEvent.objects.count()

    page = client.get(f"/analytics/?{query}")
    export = client.get(f"/analytics/export.csv?{query}")

    assert page.status_code == 400 and message in page.content.decode()
    assert export.status_code == 400 and AuditEvent.objects.count() == audit


def test_a_bad_kpi_or_part_in_the_drill_down_is_refused(client, supervisor):
    client.force_login(supervisor)

    assert "没有指标“nope”" in client.get("/analytics/matters/?kpi=nope&part=numerator").content.decode()
    assert "part 只能是" in client.get("/analytics/matters/?kpi=resolution&part=x").content.decode()


def test_the_csv_and_excel_exports_hold_the_same_figures_as_the_page_and_are_audited(client, supervisor,
                                                                                       matters_in_two_townships):
    client.force_login(supervisor)
    expected = kpi_rows(compute([kpi.code for kpi in KPIS], Slice("330681", month_period(2026, 3))))
    audit = AuditEvent.objects.count()

    as_csv = client.get(f"/analytics/export.csv?{MARCH}")
    as_xlsx = client.get(f"/analytics/export.xlsx?{MARCH}")

    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows == [[str(value) for value in row] for row in expected]
    assert rows[4][:4] == ["化解率", "1", "2", "50.00%"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)] == rows
    assert as_xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert list(AuditEvent.objects.order_by("-id").values_list("action", flat=True)[:2]) == [
        "analytics.export_kpis", "analytics.export_kpis"]
    assert AuditEvent.objects.count() == audit + 2


def test_the_drill_down_exports_its_matters(client, supervisor, matters_in_two_townships):
    fengqiao, _jiyang = matters_in_two_townships
    client.force_login(supervisor)

    response = client.get(f"/analytics/matters/export.csv?region=330681&{MARCH}&kpi=resolution&part=numerator")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["事项编码", "标题", "发生地", "纠纷类型", "来源渠道", "状态", "主办单位", "登记时间"]
    assert [row[0] for row in rows[1:]] == [fengqiao.code]


def test_rankings_list_units_below_the_minimum_volume_as_insufficient(client, supervisor,
                                                                      matters_in_two_townships):
    client.force_login(supervisor)
    s = Slice("330681", month_period(2026, 3))

    ranked = queries.ranking(s, group="township", by="resolution", minimum_volume=1)
    page = client.get(f"/analytics/rankings/?{MARCH}&group=township&by=resolution")
    scored = client.get(f"/analytics/rankings/?{MARCH}&group=township&by=score")

    top = [(row.key, row.rank, row.value) for row in ranked.rows if row.rank is not None]
    assert top[0][0] == "330681109" and top[0][1] == 1 and str(top[0][2]) == "100.00"
    assert top[1][0] == "330681001" and top[1][1] == 2 and str(top[1][2]) == "0.00"
    assert page.status_code == 200 and INSUFFICIENT_SAMPLE in page.content.decode()  # default minimum: 10
    assert scored.status_code == 200 and "得分构成" in scored.content.decode()


def test_the_assessment_score_shows_its_breakdown_and_the_change_against_the_previous_period(
        matters_in_two_townships):
    scheme = queries.active_scheme()
    s = Slice("330681109", month_period(2026, 3))

    score, volume = queries.score(scheme, s)
    ranked = queries.ranking(Slice("330681", month_period(2026, 3)), group="township", by="score", minimum_volume=1)

    assert volume == 1
    assert {line.label for line in score.lines} >= {"按期办结率", "化解率", "满意率"}
    fengqiao = next(row for row in ranked.rows if row.key == "330681109")
    assert fengqiao.value == score.total and fengqiao.previous == 0 and fengqiao.change == score.total
    assert queries.change_text(fengqiao.change) == f"↑{score.total}"


def test_the_drill_down_without_a_kpi_points_back_to_the_table(client, supervisor):
    client.force_login(supervisor)

    response = client.get("/analytics/matters/")

    assert response.status_code == 200 and "请在" in response.content.decode()
