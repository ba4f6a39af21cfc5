"""Routing: every condition, order precedence, no match, the default ladder and overlaps (pure, no DB)."""

import itertools
import json
from dataclasses import replace
from decimal import Decimal

import pytest

from yidi.routing.domain import (
    NO_MATCH_REASON,
    Complexity,
    Facts,
    Grade,
    HandlingLevel,
    RegionLevel,
    RoutingRule,
    UnitRef,
    compile_rules,
    find_overlaps,
    load_rules,
    route,
    rule_from_dict,
)

CENTRE = UnitRef(selector="centre")
TOWNSHIP_PLATFORM = UnitRef(selector="township_platform_of_region")
VILLAGE_COMMITTEE = UnitRef(selector="village_committee_of_region")
HRSS = UnitRef(selector="department:human_resources_social_security")


def make_rule(id: str = "r1", **overrides) -> RoutingRule:
    fields = {"order": 10, "handling_level": HandlingLevel.TOWNSHIP, "lead": TOWNSHIP_PLATFORM} | overrides
    return RoutingRule(id=id, **fields)


def make_facts(**overrides) -> Facts:
    fields = {
        "dispute_type": "neighbour",
        "grade": Grade.YELLOW,
        "complexity": Complexity.SIMPLE,
        "region_code": "330681109290",  # 诸暨市 枫桥镇 枫源村
        "region_level": RegionLevel.VILLAGE,
        "channel": "window",
        "request_type": "mediation",
        "amount": Decimal("5000"),
        "people": 2,
    } | overrides
    return Facts(**fields)


# --- every condition -------------------------------------------------------------------------------------

CONDITION_CASES = [
    # (condition, facts that match, facts that do not)
    ({"dispute_types": {"neighbour", "labour"}}, {"dispute_type": "labour"}, {"dispute_type": "contract"}),
    ({"grades": {Grade.RED, Grade.ORANGE}}, {"grade": "orange"}, {"grade": "blue"}),
    ({"complexities": {Complexity.COMPLEX}}, {"complexity": "complex"}, {"complexity": "simple"}),
    ({"region_prefix": "330681109"}, {"region_code": "330681109290"}, {"region_code": "330681110201"}),
    ({"region_levels": {RegionLevel.TOWNSHIP}}, {"region_level": "township"}, {"region_level": "village"}),
    ({"channels": {"hotline_12345"}}, {"channel": "hotline_12345"}, {"channel": "window"}),
    ({"request_types": {"complaint"}}, {"request_type": "complaint"}, {"request_type": "consultation"}),
    ({"amount_min": Decimal("100000")}, {"amount": Decimal("100000")}, {"amount": Decimal("99999.99")}),
    ({"amount_max": Decimal("100000")}, {"amount": Decimal("99999.99")}, {"amount": Decimal("100000")}),
    ({"people_min": 5}, {"people": 5}, {"people": 4}),
    ({"people_max": 5}, {"people": 4}, {"people": 5}),
]
CONDITION_IDS = [
    "dispute_types",
    "grades",
    "complexities",
    "region_prefix",
    "region_levels",
    "channels",
    "request_types",
    "amount_min-inclusive",
    "amount_max-exclusive",
    "people_min-inclusive",
    "people_max-exclusive",
]


@pytest.mark.parametrize(("condition", "matching", "other"), CONDITION_CASES, ids=CONDITION_IDS)
def test_each_condition_routes_a_matching_matter_and_sends_others_to_the_dispatcher(
    condition, matching, other
):
    rules = compile_rules([make_rule(**condition)])

    hit = route(make_facts(**matching), rules)
    miss = route(make_facts(**other), rules)

    assert (hit.matched, hit.rule_id) == (True, "r1")
    assert (miss.matched, miss.rule_id, miss.reasons) == (False, None, (NO_MATCH_REASON,))


@pytest.mark.parametrize(
    ("condition", "fact"),
    [
        ({"dispute_types": {"neighbour"}}, "dispute_type"),
        ({"grades": {Grade.YELLOW}}, "grade"),
        ({"complexities": {Complexity.SIMPLE}}, "complexity"),
        ({"region_prefix": "3306"}, "region_code"),
        ({"region_levels": {RegionLevel.VILLAGE}}, "region_level"),
        ({"channels": {"window"}}, "channel"),
        ({"request_types": {"mediation"}}, "request_type"),
        ({"amount_min": Decimal("0")}, "amount"),
        ({"people_max": 100}, "people"),
    ],
)
def test_an_unknown_fact_fails_a_condition_on_it_but_not_a_rule_without_one(condition, fact):
    facts = make_facts(**{fact: None})

    assert route(facts, [make_rule(**condition)]).matched is False
    assert route(facts, [make_rule()]).matched is True


def test_a_rule_with_several_conditions_needs_all_of_them():
    rule = make_rule(dispute_types={"labour"}, complexities={Complexity.COMPLEX}, people_min=5)

    assert route(make_facts(dispute_type="labour", complexity="complex", people=5), [rule]).matched is True
    assert route(make_facts(dispute_type="labour", complexity="complex", people=4), [rule]).matched is False
    assert route(make_facts(dispute_type="labour", complexity="simple", people=5), [rule]).matched is False


def test_a_decision_carries_the_outcome_and_the_reasons_in_chinese():
    rule = make_rule(
        "labour_rule",
        order=50,
        name="劳动争议乡镇首调",
        dispute_types={"labour"},
        amount_min=Decimal("1000"),
        amount_max=Decimal("100000"),
        co_units=(HRSS,),
        policy_id="labour_mediation",
    )

    decision = route(make_facts(dispute_type="labour"), [rule])

    assert decision.handling_level == HandlingLevel.TOWNSHIP
    assert decision.lead == TOWNSHIP_PLATFORM
    assert decision.co_units == (HRSS,)
    assert decision.policy_id == "labour_mediation"
    assert decision.reasons == (
        "命中规则 labour_rule「劳动争议乡镇首调」（顺序 50）",
        "纠纷类型属于：劳动争议纠纷",
        "涉及金额不少于 1000 元且少于 100000 元",
        "由乡镇（街道）级办理，主办：属地乡镇（街道）综治工作平台，协办：职能部门（human_resources_social_security）",
    )


def test_a_rule_without_conditions_says_so():
    decision = route(make_facts(), [make_rule("catch_all", lead=UnitRef(unit_code="330681-centre"))])

    assert decision.reasons[1:] == ("无条件（兜底规则）", "由乡镇（街道）级办理，主办：单位 330681-centre")


# --- order --------------------------------------------------------------------------------------------------


def test_the_first_matching_rule_by_order_wins_whatever_the_list_order():
    later = make_rule("later", order=20, handling_level=HandlingLevel.COUNTY, lead=CENTRE)
    earlier = make_rule("earlier", order=10, complexities={Complexity.SIMPLE})

    decision = route(make_facts(), [later, earlier])

    assert decision.rule_id == "earlier"
    assert route(make_facts(complexity="complex"), [later, earlier]).rule_id == "later"


def test_rules_with_the_same_order_are_tried_by_id_and_inactive_rules_are_skipped():
    rules = [make_rule("b"), make_rule("a", active=False), make_rule("c")]

    assert route(make_facts(), rules).rule_id == "b"


def test_an_empty_table_matches_nothing():
    decision = route(make_facts(), [])

    assert (decision.matched, decision.reasons) == (False, ("无匹配规则",))


def test_region_prefixes_of_different_lengths_are_all_tried():
    rules = compile_rules(
        [
            make_rule("village", order=1, region_prefix="330681109290"),
            make_rule("township", order=2, region_prefix="330681109"),
            make_rule("county", order=3, region_prefix="330681"),
        ]
    )

    assert route(make_facts(region_code="330681109290"), rules).rule_id == "village"
    assert route(make_facts(region_code="330681109201"), rules).rule_id == "township"
    assert route(make_facts(region_code="330681110"), rules).rule_id == "county"
    assert route(make_facts(region_code="3306"), rules).matched is False


def test_the_compiled_table_agrees_with_the_plain_reading_of_every_rule_on_a_grid_of_matters():
    rules = [
        *load_rules(),
        make_rule("prefix", order=5, region_prefix="330681109", request_types={"complaint"}),
        make_rule("tier_low", order=6, amount_max=Decimal("50000"), channels={"hotline_12345"}),
        make_rule("tier_high", order=7, amount_min=Decimal("50000"), amount_max=Decimal("2000000")),
        make_rule("crowd", order=8, people_min=10, people_max=30, grades={Grade.BLUE}),
    ]
    compiled = compile_rules(rules)
    ordered = sorted(rules, key=lambda rule: (rule.order, rule.id))
    grid = itertools.product(
        ["labour", "neighbour", "land_expropriation", None],
        [*Grade, None],
        [*Complexity, None],
        [("330681109290", "village"), ("330681109", "township"), ("330681", "county"), (None, None)],
        ["window", "hotline_12345"],
        ["complaint", "mediation"],
        [None, Decimal("0"), Decimal("50000"), Decimal("1000000"), Decimal("3000000")],
        [None, 1, 5, 10, 30],
    )

    disagreements = []
    for dispute, grade, complexity, (code, level), channel, request, amount, people in grid:
        facts = Facts(dispute, grade, complexity, code, level, channel, request, amount, people)
        expected = next((rule.id for rule in ordered if rule.matches(facts)), None)
        if compiled.route(facts).rule_id != expected:
            disagreements.append(facts)

    assert disagreements == []


# --- the default ladder -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "rule_id", "level", "lead"),
    [
        ({}, "simple_to_village", HandlingLevel.VILLAGE, VILLAGE_COMMITTEE),
        ({"complexity": "complex"}, "complex_to_township", HandlingLevel.TOWNSHIP, TOWNSHIP_PLATFORM),
        ({"complexity": "difficult"}, "difficult_to_county", HandlingLevel.COUNTY, CENTRE),
        ({"grade": "red"}, "red_grade_to_county", HandlingLevel.COUNTY, CENTRE),
        ({"grade": "orange"}, "orange_grade_to_township", HandlingLevel.TOWNSHIP, TOWNSHIP_PLATFORM),
        ({"amount": Decimal("1000000")}, "large_amount_to_county", HandlingLevel.COUNTY, CENTRE),
        ({"people": 5}, "collective_to_township", HandlingLevel.TOWNSHIP, TOWNSHIP_PLATFORM),
        (
            {"region_code": "330681109", "region_level": "township"},
            "simple_without_village_to_township",
            HandlingLevel.TOWNSHIP,
            TOWNSHIP_PLATFORM,
        ),
        (
            {"region_code": "330681", "region_level": "county", "complexity": "complex"},
            "county_located_to_centre",
            HandlingLevel.COUNTY,
            CENTRE,
        ),
    ],
)
def test_the_default_ladder_keeps_small_matters_in_the_village_and_lifts_big_ones(
    facts, rule_id, level, lead
):
    decision = route(make_facts(**facts), compile_rules(load_rules()))

    assert (decision.rule_id, decision.handling_level, decision.lead) == (rule_id, level, lead)


def test_the_default_ladder_gives_labour_disputes_to_the_township_with_the_labour_bureau_as_co_unit():
    decision = route(make_facts(dispute_type="labour"), compile_rules(load_rules()))

    assert decision.rule_id == "labour_to_township_with_hrss"
    assert decision.co_units == (HRSS,)
    assert decision.policy_id == "labour_mediation"


def test_the_default_ladder_sends_a_matter_without_a_complexity_to_the_dispatcher():
    decision = route(make_facts(complexity=None), compile_rules(load_rules()))

    assert (decision.matched, decision.reasons) == (False, ("无匹配规则",))


def test_the_default_ladder_has_no_rule_that_can_never_fire():
    assert [overlap for overlap in find_overlaps(load_rules()) if overlap.full] == []


# --- overlaps -----------------------------------------------------------------------------------------------


def test_rules_on_disjoint_values_do_not_overlap():
    rules = [
        make_rule("simple", complexities={Complexity.SIMPLE}),
        make_rule("complex", order=20, complexities={Complexity.COMPLEX}),
        make_rule("low", order=30, amount_max=Decimal("100000")),
        make_rule("high", order=40, amount_min=Decimal("100000")),
        make_rule("zhuji", order=50, region_prefix="330681", people_min=5),
        make_rule("pujiang", order=60, region_prefix="330726", people_max=5),
    ]

    pairs = {(o.earlier_id, o.later_id) for o in find_overlaps(rules)}

    assert ("simple", "complex") not in pairs
    assert ("low", "high") not in pairs
    assert ("zhuji", "pujiang") not in pairs


def test_a_later_rule_that_can_match_the_same_matter_is_reported_as_partly_shadowed():
    rules = [
        make_rule("labour", dispute_types={"labour"}),
        make_rule("complex", order=20, complexities={Complexity.COMPLEX}, lead=CENTRE),
    ]

    [overlap] = find_overlaps(rules)

    assert (overlap.earlier_id, overlap.later_id, overlap.full, overlap.same_outcome) == (
        "labour",
        "complex",
        False,
        False,
    )
    assert (
        overlap.message
        == "规则 complex 与排在前面的规则 labour 部分重叠：两者都满足的事项按顺序由 labour 处理。"
    )


def test_a_later_rule_inside_an_earlier_one_is_reported_as_never_firing():
    rules = [
        make_rule(
            "zhuji_labour",
            dispute_types={"labour", "contract"},
            region_prefix="330681",
            amount_min=Decimal(0),
        ),
        make_rule(
            "fengqiao_labour",
            order=20,
            dispute_types={"labour"},
            region_prefix="330681109",
            amount_min=Decimal(100),
            amount_max=Decimal(1000),
            people_min=3,
        ),
    ]

    [overlap] = find_overlaps(rules)

    assert (overlap.earlier_id, overlap.later_id, overlap.full, overlap.same_outcome) == (
        "zhuji_labour",
        "fengqiao_labour",
        True,
        True,
    )
    assert overlap.message == "规则 fengqiao_labour 被排在前面的规则 zhuji_labour 完全覆盖，永远不会生效。"


def test_an_earlier_rule_with_a_narrower_condition_does_not_fully_shadow_a_later_one():
    rules = [
        make_rule("narrow", region_prefix="330681109"),
        make_rule("wide", order=20, region_prefix="330681"),
        make_rule("tier", order=30, amount_min=Decimal(0), amount_max=Decimal(100)),
        make_rule("open_tier", order=40, amount_min=Decimal(50)),
    ]

    overlaps = {(o.earlier_id, o.later_id): o.full for o in find_overlaps(rules)}

    assert overlaps[("narrow", "wide")] is False
    assert overlaps[("tier", "open_tier")] is False
    assert overlaps[("narrow", "tier")] is False


def test_inactive_rules_are_left_out_of_the_overlap_check():
    rules = [make_rule("a", active=False), make_rule("b", order=20)]

    assert find_overlaps(rules) == []


# --- data ---------------------------------------------------------------------------------------------------


def test_a_rule_reads_from_its_json_form():
    rule = rule_from_dict(
        {
            "id": "x",
            "order": 5,
            "when": {"grades": ["red"], "amount_min": "1000000", "people_max": 10, "region_prefix": "3306"},
            "then": {
                "handling_level": "county",
                "lead": {"unit": "330681-centre"},
                "co_units": [{"selector": "centre"}],
            },
        }
    )

    assert rule == make_rule(
        "x",
        order=5,
        grades={Grade.RED},
        amount_min=Decimal("1000000"),
        people_max=10,
        region_prefix="3306",
        handling_level=HandlingLevel.COUNTY,
        lead=UnitRef(unit_code="330681-centre"),
        co_units=(CENTRE,),
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"when": {"colour": ["red"]}}, "unknown conditions"),
        ({"when": {"grades": ["purple"]}}, "purple"),
        ({"when": {"amount_min": "10", "amount_max": "10"}}, "amount_min (10) must be < amount_max (10)"),
        ({"then": {"handling_level": "county", "lead": {"selector": "mayor"}}}, "unknown selector"),
        ({"then": {"handling_level": "county", "lead": {}}}, "exactly one"),
    ],
)
def test_a_bad_rule_file_is_refused_naming_the_file_and_the_rule(tmp_path, change, error):
    rule = {
        "id": "bad",
        "order": 1,
        "then": {"handling_level": "county", "lead": {"selector": "centre"}},
    } | change
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [rule]}), encoding="utf-8")

    with pytest.raises(ValueError) as excinfo:
        load_rules(path)

    assert str(excinfo.value).startswith(f"{path}: rules[0] (bad): ")
    assert error in str(excinfo.value)


def test_duplicate_rule_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate rule ids"):
        compile_rules([make_rule("a"), replace(make_rule("a"), order=20)])
