"""Who sees which dashboard: a township user sees only their township; regions, units and lists outside the
user's region are "not found"; the unit page and the mediator pool count within the region."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from yidi.accounts.domain import Role, UnitKind
from yidi.accounts.models import Unit
from yidi.cases import actions
from yidi.cases.builders import make_case, make_unit, make_user
from yidi.core import clock

SH = ZoneInfo("Asia/Shanghai")
FENGQIAO, JIYANG = "330681109", "330681001"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def township_leader(db):
    unit = Unit.objects.get(code="fq-centre")
    return make_user("fq-leader", Role.LEADER, unit=unit, name="冯镇长")


@pytest.fixture
def matters(registrar, dispatcher):
    with clock.at(datetime(2026, 3, 2, 9, 0, tzinfo=SH)):
        fengqiao = make_case(registrar)
        actions.do_accept_case(fengqiao.code, actor=dispatcher)
        actions.do_assign_case(fengqiao.code, actor=dispatcher, lead_unit_code="fq-platform",
                               handling_level="township", override_reason="由调度员指定")
        jiyang = make_case(registrar, region_code=JIYANG)
    return fengqiao.code, jiyang.code


def test_a_township_user_sees_only_their_township(client, township_leader, matters):
    client.force_login(township_leader)
    with clock.at(datetime(2026, 6, 1, 10, 0, tzinfo=SH)):
        response = client.get("/analytics/dashboard/?period=2026")
        assert response.status_code == 200
        assert response.context["slice"].region_code == FENGQIAO
        assert {card["code"]: card["value"] for card in response.context["cards"]}["registered"] == 1
        tiles = response.context["map"]["tiles"]
        assert {tile["code"] for tile in tiles if tile["number"]} == {"330681109290"}  # villages of 枫桥镇
        listing = client.get(response.context["cards"][0]["url"])
        assert [case.code for case in listing.context["page_obj"].object_list] == [matters[0]]
        assert client.get("/analytics/dashboard/?period=2026&region=330681").status_code == 404
        assert client.get("/analytics/dashboard/?period=2026&region=330681001").status_code == 404
        assert client.get("/analytics/dashboard/matters/?region=330681&period=2026&measure=registered").status_code \
            == 404
        assert client.get("/analytics/dashboard/export/summary.csv?region=330681&period=2026").status_code == 404


@pytest.mark.parametrize("persona", ["registrar", "handler", "mediator", "labour_handler", "admin", "citizen"])
def test_roles_that_do_not_oversee_a_region_get_not_found(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    for url in ("/analytics/dashboard/", "/analytics/dashboard/mediators/", "/analytics/dashboard/units/centre/",
                "/analytics/dashboard/matters/?measure=registered", "/analytics/dashboard/maps/330681.geojson"):
        assert client.get(url).status_code == 404, url


def test_the_unit_page_counts_the_units_matters_and_links_to_them(client, supervisor, matters):
    client.force_login(supervisor)
    with clock.at(datetime(2026, 6, 1, 10, 0, tzinfo=SH)):
        response = client.get("/analytics/dashboard/units/fq-platform/?period=2026")
        assert response.status_code == 200
        cards = {card["code"]: card for card in response.context["cards"] + response.context["snapshot_cards"]}
        assert (cards["registered"]["value"], cards["open_now"]["value"], cards["closed"]["value"]) == (0, 1, 0)
        listing = client.get(cards["open_now"]["url"])
        assert [case.code for case in listing.context["page_obj"].object_list] == [matters[0]]
        assert "主办单位：枫桥镇综治工作平台" in listing.content.decode()
        registered = client.get("/analytics/dashboard/units/centre/?period=2026").context["cards"][0]
        assert registered["value"] == 2  # the centre's window registered both
        export = client.get("/analytics/dashboard/units/fq-platform/export/summary.csv?period=2026")
        assert export.status_code == 200 and "当前在办,1" in export.content.decode("utf-8-sig")
        assert client.get("/analytics/dashboard/units/nobody/?period=2026").status_code == 404


def test_a_unit_of_another_county_is_not_found(client, supervisor):
    from yidi.regions.loader import load_county

    load_county("110101")
    make_unit("far-away", kind=UnitKind.DEPARTMENT, region_code="110101", name="外县单位")
    client.force_login(supervisor)
    assert client.get("/analytics/dashboard/units/far-away/").status_code == 404


def test_the_mediator_pool_page_lists_the_pool_of_the_region(client, supervisor, mediator):
    from yidi.mediation.models import Mediator

    Mediator.objects.create(user=mediator, organisation_type="people", region_id="330681109290", capacity=4)
    client.force_login(supervisor)
    response = client.get("/analytics/dashboard/mediators/?period=2026")
    assert response.status_code == 200
    rows = response.context["table"].rows
    assert [(row[0].value, row[4].value, row[5].value, row[6].value) for row in rows] == [("吴调解", 0, 4, 0)]
    assert rows[0][8].display == "—（调结不足 3 件）"
    exported = client.get("/analytics/dashboard/mediators/export.csv?period=2026").content.decode("utf-8-sig")
    assert exported.splitlines()[1].startswith("吴调解,枫源村,—,—,0,4,0,0,—")
