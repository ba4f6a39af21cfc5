"""The campaign part of the native API: exact JSON on hand-built matters, scope, another county's client (404 like a
campaign that does not exist, nothing written), the status filter and pagination."""

import pytest
import time_machine

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.domain import UnitKind
from yidi.audit.models import AuditEvent
from yidi.campaigns import actions
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.campaigns.tests.support import FENGQIAO, FENGYUAN, JIYANG, make_campaign
from yidi.cases.builders import advance_case, make_case, make_unit
from yidi.cases.domain import CaseStatus, Outcome
from yidi.regions.models import Region

pytestmark = pytest.mark.django_db
IN_PERIOD = "2026-01-10 09:00:00+08:00"
LATER = "2026-01-20 09:00:00+08:00"
PHONE = "13805751234"


def _bearer(name: str, unit_code: str, scopes=("campaigns:read",)) -> dict:
    _, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _other_county_unit() -> str:
    """A centre of 嵊州市: a county whose regions the test world does not load."""
    Region.objects.create(code="330683", name="嵊州市", short_name="嵊州", level="county", parent_id="3306")
    make_unit("sz-centre", kind=UnitKind.CENTRE, region_code="330683", name="嵊州市社会矛盾纠纷调处化解中心")
    return "sz-centre"


@pytest.fixture
def world(supervisor, registrar, dispatcher, handler, fq_platform):
    """The wage-arrears campaign (lead 人社局, member 枫桥镇平台) with four labour matters: three of 枫桥镇 linked by
    rule (two concluded by 枫桥镇平台: one agreement, one failed mediation; one waiting to be accepted) and one of
    暨阳街道 linked by hand (outside the 枫桥镇 platform's view)."""
    with time_machine.travel(IN_PERIOD, tick=False):
        campaign = make_campaign(supervisor, description=f"春节前集中化解欠薪纠纷，联系人 {PHONE}")
        campaign, _ = actions.do_activate_campaign(campaign.pk, actor=supervisor)
        resolved = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
        failed = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
        waiting = make_case(registrar, primary_type_code="labour", region_code=FENGQIAO)
        make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)  # not in the campaign
        elsewhere = make_case(registrar, primary_type_code="labour", region_code=JIYANG)
        actions.do_link_matter(campaign.pk, elsewhere.code, actor=supervisor, reason="同一欠薪企业")
        advance_case(resolved, CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)
        advance_case(failed, CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform,
                     outcome=Outcome.MEDIATION_FAILED)
    return campaign, resolved, failed, waiting, elsewhere


def _state():
    return (list(Campaign.objects.values_list("pk", "status", "name")),
            list(CampaignMatter.objects.values_list("case_id", "source", "removed_at")), AuditEvent.objects.count())


def _kpi(code, label, numerator, denominator, value, reason=""):
    return {"code": code, "label": label, "numerator": numerator, "denominator": denominator, "value": value,
            "unit": "%", "reason": reason}


def test_a_member_units_client_reads_the_campaign_with_its_figures_and_the_matters_it_may_see(client, world):
    campaign, resolved, failed, waiting, _ = world
    auth = _bearer("fq-system", "fq-platform")

    with time_machine.travel(LATER, tick=False):
        response = client.get(f"/api/v1/campaigns/{campaign.pk}", **auth)

    assert response.status_code == 200
    no_result = "本期无出结果的事项"
    assert response.json() == {
        "id": campaign.pk, "name": "欠薪专项治理", "status": "active", "status_label": "进行中",
        "starts_on": "2026-01-01", "ends_on": "2026-02-28",
        "scope_region": {"code": "330681", "name": "诸暨市"},
        "lead_unit": {"code": "hrss", "name": "市人力资源和社会保障局"},
        "matter_count": 4, "created_at": "2026-01-10T01:00:00Z", "activated_at": "2026-01-10T01:00:00Z",
        "ended_at": None,
        "description": "春节前集中化解欠薪纠纷，联系人 138****1234",
        "dispute_types": [{"code": "labour", "name": "劳动争议纠纷"}],
        "regions": [{"code": FENGQIAO, "name": "枫桥镇"}],
        "member_units": [{"code": "fq-platform", "name": "枫桥镇综治工作平台"}],
        "figures": {
            "period_start_on": "2026-01-01", "period_end_on": "2026-02-28", "period_label": "2026-01-01至2026-02-28",
            "counts": [
                {"code": "volume", "label": "纳入事项", "value": 4, "unit": "件"},
                {"code": "in_progress", "label": "在办", "value": 2, "unit": "件"},
                {"code": "concluded", "label": "已出结果", "value": 2, "unit": "件"},
                {"code": "overdue", "label": "已超期", "value": 0, "unit": "件"},
            ],
            "kpis": [
                _kpi("resolution", "化解率", "1", "2", "50.00"),
                _kpi("handle_on_time", "按期办结率", "2", "2", "100.00"),
                _kpi("satisfaction", "满意率", "0", "0", None, "本期无参评事项"),
            ],
        },
        # most matters first, then by key: the unassigned row's key is empty
        "per_unit": [
            {"code": None, "name": "尚未交办", "volume": 2, "in_progress": 2, "concluded": 0, "overdue": 0,
             "resolution": _kpi("resolution", "化解率", "0", "0", None, no_result)},
            {"code": "fq-platform", "name": "枫桥镇综治工作平台", "volume": 2, "in_progress": 0, "concluded": 2,
             "overdue": 0, "resolution": _kpi("resolution", "化解率", "1", "2", "50.00")},
        ],
        "per_township": [
            {"code": FENGQIAO, "name": "枫桥镇", "volume": 3, "in_progress": 1, "concluded": 2, "overdue": 0,
             "resolution": _kpi("resolution", "化解率", "1", "2", "50.00")},
            {"code": JIYANG, "name": "暨阳街道", "volume": 1, "in_progress": 1, "concluded": 0, "overdue": 0,
             "resolution": _kpi("resolution", "化解率", "0", "0", None, no_result)},
        ],
        "weeks": [{"week_on": "2026-01-05", "registered": 4, "concluded": 2}],
        # 枫桥镇平台 sees the matters of 枫桥镇 (newest first), not the one of 暨阳街道 linked by hand
        "case_codes": [waiting.code, failed.code, resolved.code],
        "hidden_case_count": 1,
    }
    assert PHONE not in response.content.decode()


def test_the_lead_units_client_sees_every_labour_matter_of_the_county(client, world):
    campaign, resolved, failed, waiting, elsewhere = world

    body = client.get(f"/api/v1/campaigns/{campaign.pk}", **_bearer("hrss-system", "hrss")).json()

    assert body["case_codes"] == [elsewhere.code, waiting.code, failed.code, resolved.code]
    assert body["hidden_case_count"] == 0


def test_a_client_without_the_scope_is_refused_403_and_nothing_is_written(client, world):
    campaign = world[0]
    auth = _bearer("fq-cases", "fq-platform", scopes=["cases:read", "alerts:read"])
    before = _state()

    listing = client.get("/api/v1/campaigns", **auth)
    detail = client.get(f"/api/v1/campaigns/{campaign.pk}", **auth)

    for response in (listing, detail):
        assert response.status_code == 403
        assert response.json() == {"code": "forbidden_scope", "message": "此客户端没有“读取专项治理”（campaigns:read）权限"}
    assert _state() == before


def test_without_a_token_the_answer_is_401(client, world):
    response = client.get(f"/api/v1/campaigns/{world[0].pk}")

    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_another_countys_client_gets_the_same_404_as_for_a_campaign_that_does_not_exist(client, world):
    campaign = world[0]
    auth = _bearer("sz-system", _other_county_unit())
    before = _state()

    listing = client.get("/api/v1/campaigns", **auth)
    hidden = client.get(f"/api/v1/campaigns/{campaign.pk}", **auth)
    missing = client.get("/api/v1/campaigns/999999", **auth)
    huge = client.get(f"/api/v1/campaigns/{2 ** 70}", **auth)

    assert listing.json() == {"count": 0, "page": 1, "page_size": 20, "results": []}
    assert (hidden.status_code, missing.status_code, huge.status_code) == (404, 404, 404)
    assert hidden.json() == {"code": "not_found", "message": "专项不存在或无权查看"}
    assert hidden.content == missing.content == huge.content
    assert _state() == before


def test_another_townships_client_gets_404_too(client, world):
    response = client.get(f"/api/v1/campaigns/{world[0].pk}", **_bearer("jy-system", "jy-platform"))

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_list_is_paginated_newest_first_and_filters_by_status(client, supervisor, world):
    active = world[0]
    with time_machine.travel(IN_PERIOD, tick=False):
        draft = make_campaign(supervisor, name="征地拆迁专项", type_codes=["land_expropriation"],
                              lead_unit_code="fq-platform", member_unit_codes=[])
        spring = make_campaign(supervisor, name="春耕用水专项", starts_on=active.starts_on.replace(month=3),
                               ends_on=active.ends_on.replace(month=4, day=30), member_unit_codes=["fq-platform"])
        make_campaign(supervisor, name="暨阳街道专项", region_codes=[JIYANG], lead_unit_code="jy-platform",
                      member_unit_codes=[])  # no unit of the client's
    auth = _bearer("fq-system", "fq-platform")

    first = client.get("/api/v1/campaigns?page_size=2", **auth).json()
    second = client.get("/api/v1/campaigns?page_size=2&page=2", **auth).json()
    beyond = client.get("/api/v1/campaigns?page_size=2&page=3", **auth).json()
    drafts = client.get("/api/v1/campaigns?status=draft", **auth).json()

    assert (first["count"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [c["id"] for c in first["results"]] == [spring.pk, draft.pk]  # newest start first, then newest created
    assert [c["id"] for c in second["results"]] == [active.pk]
    assert (beyond["count"], beyond["results"]) == (3, [])
    assert [(c["name"], c["status"]) for c in drafts["results"]] == [("春耕用水专项", "draft"), ("征地拆迁专项", "draft")]
    assert second["results"][0] == {
        "id": active.pk, "name": "欠薪专项治理", "status": "active", "status_label": "进行中",
        "starts_on": "2026-01-01", "ends_on": "2026-02-28", "scope_region": {"code": "330681", "name": "诸暨市"},
        "lead_unit": {"code": "hrss", "name": "市人力资源和社会保障局"}, "matter_count": 4,
        "created_at": "2026-01-10T01:00:00Z", "activated_at": "2026-01-10T01:00:00Z", "ended_at": None,
    }


@pytest.mark.parametrize("query", ["page_size=101", "page_size=0", "page=0", "status=closed", "page=x"])
def test_bad_list_parameters_are_a_400_with_details(client, world, query):
    response = client.get(f"/api/v1/campaigns?{query}", **_bearer("fq-system", "fq-platform"))

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")

