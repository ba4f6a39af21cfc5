"""Resolving a rule's unit reference for one matter: every selector, on the real 诸暨市 units."""

import pytest

from yidi.accounts.domain import UnitKind
from yidi.accounts.models import Unit
from yidi.cases.builders import make_case, make_unit
from yidi.regions.actions import do_add_grid
from yidi.routing.domain import UnitRef
from yidi.routing.queries import resolve_unit

CENTRE = UnitRef(selector="centre")
TOWNSHIP_PLATFORM = UnitRef(selector="township_platform_of_region")
VILLAGE_COMMITTEE = UnitRef(selector="village_committee_of_region")
HRSS = UnitRef(selector="department:human_resources_social_security")
POLICE = UnitRef(selector="department:public_security")

FENGYUAN = "330681109290"  # 枫桥镇 枫源村: has the committee fy-committee
TIANZHU = "330681109002"  # 枫桥镇 天竺社区: no committee
JIANGDONG = "330681001001"  # 暨阳街道 江东社区
DIANKOU_JINHU = "330681104003"  # 店口镇 金湖社区: the township has no unit at all


def code_of(unit):
    return None if unit is None else unit.code


def give_function(unit_code, function):
    Unit.objects.filter(code=unit_code).update(function=function)


def deactivate(unit_code):
    Unit.objects.filter(code=unit_code).update(is_active=False)


def test_a_unit_code_resolves_to_that_unit(registrar):
    case = make_case(registrar)

    assert code_of(resolve_unit(UnitRef(unit_code="hrss"), case)) == "hrss"


def test_an_unknown_or_inactive_unit_code_resolves_to_nothing(registrar):
    case = make_case(registrar)
    deactivate("hrss")

    assert resolve_unit(UnitRef(unit_code="hrss"), case) is None
    assert resolve_unit(UnitRef(unit_code="no-such-unit"), case) is None


@pytest.mark.parametrize("region_code", [FENGYUAN, "330681109", "330681"])
def test_the_centre_is_the_centre_of_the_matters_county_wherever_the_matter_is_located(
    registrar, region_code
):
    case = make_case(registrar, region_code=region_code)

    assert code_of(resolve_unit(CENTRE, case)) == "centre"


def test_an_inactive_centre_is_not_found(registrar):
    case = make_case(registrar)
    deactivate("centre")

    assert resolve_unit(CENTRE, case) is None


@pytest.mark.parametrize(
    ("region_code", "platform"),
    [(FENGYUAN, "fq-platform"), ("330681109", "fq-platform"), (JIANGDONG, "jy-platform")],
)
def test_the_township_platform_is_the_comprehensive_governance_platform_of_the_matters_township(
    registrar, region_code, platform
):
    case = make_case(registrar, region_code=region_code)

    assert code_of(resolve_unit(TOWNSHIP_PLATFORM, case)) == platform


def test_a_platform_of_another_type_in_the_township_is_not_the_township_platform(registrar):
    make_unit(
        "fq-a-market",
        kind=UnitKind.TOWNSHIP_PLATFORM,
        region_code="330681109",
        name="枫桥镇市场监管平台",
        platform_type_code="market_supervision",
    )
    case = make_case(registrar)

    assert code_of(resolve_unit(TOWNSHIP_PLATFORM, case)) == "fq-platform"


def test_without_an_active_platform_the_township_centre_is_the_township_unit(registrar):
    case = make_case(registrar)
    deactivate("fq-platform")

    assert code_of(resolve_unit(TOWNSHIP_PLATFORM, case)) == "fq-centre"


def test_a_township_with_neither_platform_nor_centre_has_no_township_unit(registrar):
    case = make_case(registrar, region_code=DIANKOU_JINHU, address="金湖社区")

    assert resolve_unit(TOWNSHIP_PLATFORM, case) is None


def test_a_matter_located_only_in_the_county_has_no_township_or_village_unit(registrar):
    case = make_case(registrar, region_code="330681")

    assert resolve_unit(TOWNSHIP_PLATFORM, case) is None
    assert resolve_unit(VILLAGE_COMMITTEE, case) is None


def test_the_village_committee_is_the_committee_of_the_matters_village(registrar):
    case = make_case(registrar)

    assert code_of(resolve_unit(VILLAGE_COMMITTEE, case)) == "fy-committee"


def test_a_matter_in_a_grid_finds_the_committee_of_its_village(registrar):
    grid = do_add_grid(FENGYUAN, "枫源村第一网格")
    case = make_case(registrar, region_code=grid.code)

    assert code_of(resolve_unit(VILLAGE_COMMITTEE, case)) == "fy-committee"


def test_a_village_without_a_committee_has_no_village_unit(registrar):
    case = make_case(registrar, region_code=TIANZHU, address="天竺社区")

    assert resolve_unit(VILLAGE_COMMITTEE, case) is None


def test_a_matter_located_only_in_the_township_has_no_village_committee(registrar):
    case = make_case(registrar, region_code="330681109")

    assert resolve_unit(VILLAGE_COMMITTEE, case) is None


def test_a_department_is_found_by_its_function(registrar):
    case = make_case(registrar)
    assert resolve_unit(HRSS, case) is None  # hrss has no function in the fixtures

    give_function("hrss", "human_resources_social_security")

    assert code_of(resolve_unit(HRSS, case)) == "hrss"


def test_an_inactive_department_is_not_found(registrar):
    give_function("hrss", "human_resources_social_security")
    deactivate("hrss")
    case = make_case(registrar)

    assert resolve_unit(HRSS, case) is None


def test_the_nearest_unit_with_the_function_in_the_matters_region_chain_wins(registrar):
    make_unit(
        "police",
        kind=UnitKind.DEPARTMENT,
        region_code="330681",
        name="诸暨市公安局",
        function="public_security",
    )
    make_unit(
        "fq-police",
        kind=UnitKind.POLICE_STATION,
        region_code="330681109",
        name="枫桥派出所",
        function="public_security",
    )
    make_unit(
        "jy-police",
        kind=UnitKind.POLICE_STATION,
        region_code="330681001",
        name="暨阳派出所",
        function="public_security",
    )

    fengqiao = make_case(registrar)
    diankou = make_case(registrar, region_code=DIANKOU_JINHU, address="金湖社区")

    assert code_of(resolve_unit(POLICE, fengqiao)) == "fq-police"
    assert code_of(resolve_unit(POLICE, diankou)) == "police"


def test_a_unit_with_the_function_outside_the_matters_region_chain_is_not_found(registrar):
    make_unit(
        "jy-police",
        kind=UnitKind.POLICE_STATION,
        region_code="330681001",
        name="暨阳派出所",
        function="public_security",
    )
    case = make_case(registrar)

    assert resolve_unit(POLICE, case) is None


def test_a_platform_or_committee_is_never_found_as_a_department(registrar):
    give_function("fq-platform", "public_security")
    give_function("fy-committee", "public_security")
    case = make_case(registrar)

    assert resolve_unit(POLICE, case) is None
