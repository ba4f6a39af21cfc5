"""Campaign pages and exports: who sees what, forms, link/unlink by POST, CSV and Excel."""

import csv
import io

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from yidi.audit.models import AuditEvent
from yidi.campaigns import actions
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.campaigns.tests.support import FENGQIAO, FENGYUAN, make_campaign
from yidi.cases.builders import make_case

pytestmark = pytest.mark.django_db
IN_PERIOD = "2026-01-10 09:00:00+08:00"


@pytest.fixture
def active(supervisor, registrar):
    with time_machine.travel(IN_PERIOD, tick=False):
        case = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
        campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    return campaign, case


def test_the_list_shows_the_campaigns_the_user_may_see(client, supervisor, outsider, active):
    campaign, _ = active
    client.force_login(supervisor)
    page = client.get(reverse("campaign_list")).content.decode()
    assert "欠薪专项治理" in page and "设立专项" in page

    client.force_login(outsider)
    page = client.get(reverse("campaign_list")).content.decode()
    assert "欠薪专项治理" not in page and "暂无专项" in page
    assert client.get(reverse("campaign_detail", args=[campaign.pk])).status_code == 404


def test_a_supervisor_creates_a_campaign_through_the_form(client, supervisor):
    client.force_login(supervisor)
    data = {"name": "征地拆迁专项", "starts_on": "2026-03-01", "ends_on": "2026-06-30",
            "dispute_types": ["land_expropriation"], "regions": [FENGQIAO], "lead_unit": "fq-platform"}

    response = client.post(reverse("campaign_new"), data)

    campaign = Campaign.objects.get(name="征地拆迁专项")
    assert response.status_code == 302 and response["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert campaign.status == "draft"


def test_a_form_with_the_end_before_the_start_is_refused_in_chinese(client, supervisor):
    client.force_login(supervisor)
    data = {"name": "征地拆迁专项", "starts_on": "2026-03-01", "ends_on": "2026-02-01",
            "dispute_types": ["land_expropriation"], "regions": [FENGQIAO], "lead_unit": "fq-platform"}

    response = client.post(reverse("campaign_new"), data)

    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert Campaign.objects.count() == 0


def test_the_campaign_page_shows_figures_and_its_matters(client, supervisor, active):
    campaign, case = active
    client.force_login(supervisor)

    page = client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()

    assert "纳入事项" in page and case.code in page and "按规则自动纳入" in page
    assert reverse("case_detail", args=[case.code]) in page
    assert "化解率" in page and "本期无出结果的事项" in page


def test_unlink_by_post_then_a_member_unit_may_not_link(client, supervisor, handler, active):
    campaign, case = active
    client.force_login(supervisor)
    response = client.post(reverse("campaign_unlink", args=[campaign.pk]),
                           {"case_code": case.code, "reason": "非欠薪事项"})
    assert response.status_code == 302
    assert CampaignMatter.objects.get(campaign=campaign, case=case).removal_reason == "非欠薪事项"

    client.force_login(handler)  # 枫桥镇 platform: a member unit, not a manager
    before = list(CampaignMatter.objects.values_list("case_id", "source", "removed_at"))
    response = client.post(reverse("campaign_link", args=[campaign.pk]), {"case_code": case.code})
    assert response.status_code == 403
    assert "只有本辖区的领导、督查员、指挥调度员或牵头单位可以管理该专项" in response.content.decode()
    assert list(CampaignMatter.objects.values_list("case_id", "source", "removed_at")) == before


def test_the_exports_list_the_matters_and_are_audited(client, supervisor, active):
    campaign, case = active
    client.force_login(supervisor)

    response = client.get(reverse("campaign_export_csv", args=[campaign.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["事项编码", "标题", "发生地"]
    assert [row[0] for row in rows[1:]] == [case.code]
    assert rows[1][3:5] == ["劳动争议纠纷", "已登记"] and rows[1][8] == "按规则自动纳入"

    response = client.get(reverse("campaign_export_xlsx", args=[campaign.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert next(cell.value for cell in sheet[2]) == case.code
    assert list(AuditEvent.objects.filter(action="campaign.export_matters").values_list("data", flat=True)) == [
        {"format": "csv", "rows": 1}, {"format": "xlsx", "rows": 1}]
