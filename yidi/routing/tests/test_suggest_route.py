"""Suggesting a route for a matter: every path of the default ladder on the real 诸暨市 units."""

from decimal import Decimal

import pytest

from yidi.accounts.domain import UnitKind
from yidi.accounts.models import Unit
from yidi.cases.builders import make_case, make_unit
from yidi.cases.models import Case
from yidi.regions.actions import do_add_grid
from yidi.routing.domain import Facts
from yidi.routing.queries import active_rules, clear_rule_cache, facts_for, suggest_route

COMMITTEE_REASON = "由村（社区）级办理，主办：属地村（社区）调委会"


def give_function(unit_code, function):
    Unit.objects.filter(code=unit_code).update(function=function)


def summary(suggestion):
    return (
        suggestion.matched,
        suggestion.rule_id,
        suggestion.handling_level,
        suggestion.lead_unit.code if suggestion.lead_unit else None,
        [unit.code for unit in suggestion.co_units],
        suggestion.policy_id,
        suggestion.problems,
    )


def test_the_facts_of_a_matter_come_from_its_fields(registrar):
    case = make_case(registrar)

    assert facts_for(case) == Facts(
        dispute_type="neighbour",
        grade="blue",
        complexity="simple",
        region_code="330681109290",
        region_level="village",
        channel="walk_in",
        request_type="mediation",
        amount=Decimal("3000.00"),
        people=2,
    )


def unclassified(case):
    """The matter as if staff had cleared what the triage engine filled in at registration."""
    type(case).objects.filter(pk=case.pk).update(primary_type=None, grade="", complexity="")
    case.refresh_from_db()
    return case


def test_unset_facts_are_unknown_and_the_channel_is_its_group(registrar):
    case = unclassified(make_case(
        registrar,
        primary_type_code="",
        grade="",
        complexity="",
        amount_involved=None,
        people_involved=None,
        channel_code="petition_visit",
    ))

    facts = facts_for(case)

    assert (facts.dispute_type, facts.grade, facts.complexity, facts.amount, facts.people, facts.channel) == (
        None,
        None,
        None,
        None,
        None,
        "petition",
    )


def test_a_matter_in_a_grid_counts_as_located_in_its_village(registrar):
    grid = do_add_grid("330681109290", "枫源村第一网格")
    case = make_case(registrar, region_code=grid.code)

    assert (facts_for(case).region_code, facts_for(case).region_level) == (grid.code, "village")
    assert summary(suggest_route(case))[:4] == (True, "simple_to_village", "village", "fy-committee")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ("simple_to_village", "village", "fy-committee")),
        ({"complexity": "complex"}, ("complex_to_township", "township", "fq-platform")),
        ({"complexity": "difficult"}, ("difficult_to_county", "county", "centre")),
        ({"grade": "red"}, ("red_grade_to_county", "county", "centre")),
        ({"grade": "orange"}, ("orange_grade_to_township", "township", "fq-platform")),
        ({"amount_involved": Decimal("1000000")}, ("large_amount_to_county", "county", "centre")),
        ({"people_involved": 5}, ("collective_to_township", "township", "fq-platform")),
        ({"region_code": "330681109"}, ("simple_without_village_to_township", "township", "fq-platform")),
        ({"region_code": "330681"}, ("county_located_to_centre", "county", "centre")),
        (
            {"region_code": "330681", "complexity": "complex"},
            ("county_located_to_centre", "county", "centre"),
        ),
        (
            {"region_code": "330681001001", "complexity": "complex"},
            ("complex_to_township", "township", "jy-platform"),
        ),
    ],
    ids=[
        "simple-village",
        "complex",
        "difficult",
        "red",
        "orange",
        "large-amount",
        "collective",
        "township-only",
        "county-only",
        "county-only-complex",
        "other-township",
    ],
)
def test_each_rung_of_the_default_ladder_finds_its_unit(registrar, overrides, expected):
    case = make_case(registrar, **overrides)

    suggestion = suggest_route(case)

    assert summary(suggestion) == (True, *expected, [], None, [])
    assert suggestion.needs_dispatcher is False


def test_a_simple_village_matter_stays_with_the_village_committee_and_says_why(registrar):
    case = make_case(registrar)

    suggestion = suggest_route(case)

    assert suggestion.reasons == (
        "命中规则 simple_to_village「简易矛盾村社化解」（顺序 90）",
        "复杂程度属于：简单",
        "属地层级属于：村（社区）级",
        COMMITTEE_REASON,
    )


def test_a_labour_dispute_goes_to_the_township_platform_with_the_labour_bureau_as_co_unit(registrar):
    give_function("hrss", "human_resources_social_security")
    case = make_case(registrar, primary_type_code="labour")

    suggestion = suggest_route(case)

    assert summary(suggestion) == (
        True,
        "labour_to_township_with_hrss",
        "township",
        "fq-platform",
        ["hrss"],
        "labour_mediation",
        [],
    )


def test_a_labour_dispute_without_a_labour_bureau_names_the_missing_co_unit(registrar):
    case = make_case(registrar, primary_type_code="labour")

    suggestion = suggest_route(case)

    assert summary(suggestion) == (
        True,
        "labour_to_township_with_hrss",
        "township",
        "fq-platform",
        [],
        "labour_mediation",
        [
            "规则 labour_to_township_with_hrss 指定的协办单位“职能部门（human_resources_social_security）”在本地没有对应单位"
        ],
    )
    assert suggestion.needs_dispatcher is False


def test_a_land_expropriation_dispute_goes_to_the_centre_with_natural_resources_as_co_unit(registrar):
    make_unit(
        "natural-resources",
        kind=UnitKind.DEPARTMENT,
        region_code="330681",
        name="诸暨市自然资源和规划局",
        function="natural_resources",
    )
    case = make_case(registrar, primary_type_code="land_expropriation")

    suggestion = suggest_route(case)

    assert summary(suggestion) == (
        True,
        "land_expropriation_to_county",
        "county",
        "centre",
        ["natural-resources"],
        None,
        [],
    )


def test_a_simple_matter_in_a_village_without_a_committee_waits_for_the_dispatcher_with_the_problem(
    registrar,
):
    case = make_case(registrar, region_code="330681109002", address="天竺社区")

    suggestion = suggest_route(case)

    assert summary(suggestion) == (
        True,
        "simple_to_village",
        "village",
        None,
        [],
        None,
        ["规则 simple_to_village 指定的主办单位“属地村（社区）调委会”在本地没有对应单位"],
    )
    assert suggestion.needs_dispatcher is True


def test_a_matter_without_a_complexity_matches_no_rule_and_goes_to_the_dispatcher(registrar):
    case = unclassified(make_case(registrar, complexity=""))

    suggestion = suggest_route(case)

    assert summary(suggestion) == (False, None, None, None, [], None, [])
    assert suggestion.reasons == ("无匹配规则",)
    assert suggestion.needs_dispatcher is True


def test_with_a_warm_cache_a_suggestion_costs_one_query_plus_one_per_unit(
    registrar, django_assert_num_queries
):
    give_function("hrss", "human_resources_social_security")
    created = make_case(registrar, primary_type_code="labour")
    case = Case.objects.select_related("region", "channel", "primary_type").get(pk=created.pk)
    active_rules()

    with django_assert_num_queries(3):  # version check, lead unit, co-unit
        suggestion = suggest_route(case)

    assert summary(suggestion)[3:5] == ("fq-platform", ["hrss"])


def test_a_suggestion_from_a_cold_cache_and_a_bare_matter_stays_bounded(
    registrar, django_assert_max_num_queries
):
    give_function("hrss", "human_resources_social_security")
    case = Case.objects.get(pk=make_case(registrar, primary_type_code="labour").pk)
    clear_rule_cache()

    with django_assert_max_num_queries(7):  # version, rules, region, channel, type, lead, co-unit
        suggest_route(case)
