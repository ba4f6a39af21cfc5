"""The JSON form of a rule: every bad key is refused by name, in Chinese; overlap messages (pure, no DB)."""

import pytest

from yidi.routing.domain import (
    HandlingLevel,
    Overlap,
    RuleFormatError,
    UnitRef,
    find_overlaps,
    load_rules,
    overlap_messages,
    rule_from_dict,
)

GOOD = {
    "id": "r1",
    "order": 10,
    "then": {"handling_level": "township", "lead": {"selector": "township_platform_of_region"}},
}
THEN = GOOD["then"]


def test_the_smallest_rule_has_an_id_an_order_and_a_lead():
    rule = rule_from_dict(GOOD)

    assert (rule.id, rule.order, rule.name, rule.active, rule.handling_level, rule.lead) == (
        "r1",
        10,
        "",
        True,
        HandlingLevel.TOWNSHIP,
        UnitRef(selector="township_platform_of_region"),
    )


def test_empty_conditions_and_null_values_mean_no_condition():
    rule = rule_from_dict(GOOD | {"when": {"grades": [], "region_prefix": "", "amount_min": None}})

    assert rule == rule_from_dict(GOOD)


BAD = [
    ([], "", "规则必须是 JSON 对象"),
    (GOOD | {"When": {}}, "When", "规则中有未知的键“When”（可用：id、order、name、active、when、then）"),
    ({"order": 1, "then": THEN}, "id", "“id”（规则代码）必须是非空字符串"),
    (GOOD | {"order": 1.5}, "order", "“order”（顺序）必须是整数"),
    (GOOD | {"order": True}, "order", "“order”（顺序）必须是整数"),
    (GOOD | {"name": 3}, "name", "“name”（名称）必须是字符串"),
    (GOOD | {"active": "yes"}, "active", "“active”（启用）必须是 true 或 false"),
    (GOOD | {"when": ["grades"]}, "when", "“when”（条件）必须是 JSON 对象"),
    (
        GOOD | {"when": {"channels": "window"}},
        "when.channels",
        '“when.channels”必须是由代码组成的列表，如 ["a", "b"]',
    ),
    (
        GOOD | {"when": {"channels": [""]}},
        "when.channels",
        '“when.channels”必须是由代码组成的列表，如 ["a", "b"]',
    ),
    (
        GOOD | {"when": {"complexities": ["hard"]}},
        "when.complexities",
        "“when.complexities”中的“hard”不是有效取值（可用：simple、complex、difficult）",
    ),
    (
        GOOD | {"when": {"region_levels": ["grid"]}},
        "when.region_levels",
        "“when.region_levels”中的“grid”不是有效取值（可用：province、city、county、township、village）",
    ),
    (
        GOOD | {"when": {"region_prefix": 330681}},
        "when.region_prefix",
        '“when.region_prefix”必须是区划代码开头的数字，如 "330681109"',
    ),
    (
        GOOD | {"when": {"amount_min": "十万"}},
        "when.amount_min",
        '“when.amount_min”必须是不小于 0 的金额（元），如 100000 或 "100000.50"',
    ),
    (
        GOOD | {"when": {"amount_max": "NaN"}},
        "when.amount_max",
        '“when.amount_max”必须是不小于 0 的金额（元），如 100000 或 "100000.50"',
    ),
    (
        GOOD | {"when": {"amount_min": -1}},
        "when.amount_min",
        '“when.amount_min”必须是不小于 0 的金额（元），如 100000 或 "100000.50"',
    ),
    (
        GOOD | {"when": {"amount_min": "100", "amount_max": 50}},
        "when.amount_min",
        "“when.amount_min”（100）必须小于“when.amount_max”（50）",
    ),
    (GOOD | {"when": {"people_min": "5"}}, "when.people_min", "“when.people_min”必须是不小于 0 的整数（人）"),
    (GOOD | {"when": {"people_max": 5.5}}, "when.people_max", "“when.people_max”必须是不小于 0 的整数（人）"),
    ({"id": "r1", "order": 10}, "then", "缺少“then”（处理方式）"),
    (
        GOOD | {"then": THEN | {"deadline": 15}},
        "then.deadline",
        "“then”中有未知的键“deadline”（可用：handling_level、lead、co_units、policy_id）",
    ),
    (
        GOOD | {"then": {"lead": {"selector": "centre"}}},
        "then.handling_level",
        "“then.handling_level”（处置层级）必须是 village、township、county 之一",
    ),
    (GOOD | {"then": {"handling_level": "county"}}, "then.lead", "缺少“then.lead”（主办单位）"),
    (
        GOOD | {"then": {"handling_level": "county", "lead": "centre"}},
        "then.lead",
        '“then.lead”必须是 JSON 对象，如 {"selector": "centre"} 或 {"unit": "单位代码"}',
    ),
    (
        GOOD | {"then": {"handling_level": "county", "lead": {"unit": "centre", "selector": "centre"}}},
        "then.lead",
        "“then.lead”必须在 unit（单位代码）和 selector（选择器）中恰好填写一项",
    ),
    (
        GOOD | {"then": {"handling_level": "county", "lead": {"code": "centre"}}},
        "then.lead.code",
        "“then.lead”中有未知的键“code”（可用：unit、selector）",
    ),
    (
        GOOD | {"then": {"handling_level": "county", "lead": {"unit": ""}}},
        "then.lead.unit",
        "“then.lead.unit”必须是非空的单位代码",
    ),
    (
        GOOD | {"then": THEN | {"co_units": [{"selector": "department:"}]}},
        "then.co_units[0].selector",
        "“then.co_units[0].selector”的值“department:”不是可用的选择器（可用：centre、township_platform_of_region、"
        "village_committee_of_region、department:<职能代码>）",
    ),
    (
        GOOD | {"then": THEN | {"co_units": {"selector": "centre"}}},
        "then.co_units",
        "“then.co_units”（协办单位）必须是列表",
    ),
    (
        GOOD | {"then": THEN | {"policy_id": ""}},
        "then.policy_id",
        "“then.policy_id”（时限规则）必须是非空字符串或 null",
    ),
]


@pytest.mark.parametrize(
    ("data", "key", "message"), BAD, ids=[f"{i}-{key}" for i, (_, key, _) in enumerate(BAD)]
)
def test_a_bad_key_is_refused_by_name_with_a_chinese_message(data, key, message):
    with pytest.raises(RuleFormatError) as excinfo:
        rule_from_dict(data)

    assert (excinfo.value.key, str(excinfo.value)) == (key, message)


def test_a_condition_written_as_a_string_is_refused_rather_than_split_into_letters():
    with pytest.raises(RuleFormatError) as excinfo:
        rule_from_dict(GOOD | {"when": {"dispute_types": "labour"}})

    assert excinfo.value.key == "when.dispute_types"


def overlap(earlier, later, *, full=False, same=False):
    return Overlap(earlier, later, full, same, f"{earlier}>{later}")


def test_overlap_messages_are_errors_for_dead_rules_and_one_warning_per_partly_shadowed_rule():
    overlaps = [
        overlap("a", "b", full=True),
        overlap("a", "c"),
        overlap("b", "c"),
        overlap("a", "d"),
        overlap("a", "e", same=True),
    ]

    errors, warnings = overlap_messages(overlaps)

    assert errors == ["a>b"]
    assert warnings == [
        "规则 c 与排在前面的规则 a、b 部分重叠：同时满足的事项按顺序由排在前面的规则处理。",
        "a>d",
    ]


def test_the_default_ladder_has_no_dead_rule_and_eight_partly_shadowed_rules():
    errors, warnings = overlap_messages(find_overlaps(load_rules()))

    assert errors == []
    assert [warning.split(" ", 2)[1] for warning in warnings] == [
        "land_expropriation_to_county",
        "labour_to_township_with_hrss",
        "collective_to_township",
        "orange_grade_to_township",
        "complex_to_township",
        "simple_to_village",
        "simple_without_village_to_township",
        "county_located_to_centre",
    ]
