"""Saving and deleting routing rules: checked by the pure parser, with a revision and an audit row each."""

from decimal import Decimal

import pytest

from yidi.audit.models import AuditEvent
from yidi.routing.actions import RoutingRuleError, do_delete_rule, do_save_rule
from yidi.routing.models import RoutingRule, RoutingRuleRevision

NEW_RULE = {
    "id": "collective_labour_to_county",
    "order": 45,
    "name": "集体劳动争议县级办理",
    "when": {"dispute_types": ["labour"], "people_min": 10},
    "then": {
        "handling_level": "county",
        "lead": {"selector": "centre"},
        "co_units": [{"unit": "hrss"}],
        "policy_id": "labour_mediation",
    },
}
SNAPSHOT = NEW_RULE | {"active": True}


def rule_audit_rows():
    return list(
        AuditEvent.objects.filter(object_type="routing_rule").values_list(
            "action", "object_id", "actor_username", "fields"
        )
    )


def counts():
    return (
        RoutingRule.objects.count(),
        RoutingRuleRevision.objects.count(),
        AuditEvent.objects.filter(object_type="routing_rule").count(),
    )


def test_creating_a_rule_writes_the_row_one_revision_and_one_audit_row(admin):
    saved = do_save_rule(NEW_RULE, actor=admin)

    assert saved.as_dict() == SNAPSHOT
    assert list(
        RoutingRuleRevision.objects.filter(rule_code="collective_labour_to_county").values_list(
            "operation", "snapshot", "changed_by__username"
        )
    ) == [("create", SNAPSHOT, "sysadmin")]
    assert rule_audit_rows() == [
        (
            "routing_rule.create",
            "collective_labour_to_county",
            "sysadmin",
            ["id", "order", "name", "active", "when", "then"],
        ),
    ]
    assert AuditEvent.objects.get(object_type="routing_rule").data == SNAPSHOT


def test_changing_a_rule_revises_it_and_audits_the_changed_keys(admin):
    do_save_rule(NEW_RULE, actor=admin)

    do_save_rule(
        NEW_RULE | {"order": 46, "when": {"dispute_types": ["labour"], "people_min": 20}}, actor=admin
    )

    assert RoutingRule.objects.get(code="collective_labour_to_county").as_dict() == SNAPSHOT | {
        "order": 46,
        "when": {"dispute_types": ["labour"], "people_min": 20},
    }
    assert list(
        RoutingRuleRevision.objects.filter(rule_code="collective_labour_to_county").values_list(
            "operation", flat=True
        )
    ) == ["update", "create"]
    assert rule_audit_rows()[-1] == (
        "routing_rule.update",
        "collective_labour_to_county",
        "sysadmin",
        ["order", "when"],
    )


def test_saving_a_rule_unchanged_writes_nothing(admin):
    do_save_rule(NEW_RULE, actor=admin)
    before = counts()

    do_save_rule(NEW_RULE, actor=admin)

    assert counts() == before


def test_amounts_given_as_decimals_are_stored_as_exact_strings(admin):
    saved = do_save_rule(NEW_RULE | {"when": {"amount_min": Decimal("100000.50")}}, actor=admin)

    assert saved.when == {"amount_min": "100000.50"}
    assert saved.to_domain().amount_min == Decimal("100000.50")


def test_deleting_a_rule_keeps_its_last_content_in_the_history(admin):
    do_delete_rule("simple_to_village", actor=admin)

    assert not RoutingRule.objects.filter(code="simple_to_village").exists()
    [revision] = RoutingRuleRevision.objects.filter(rule_code="simple_to_village", operation="delete")
    assert (revision.snapshot["id"], revision.snapshot["order"], revision.changed_by) == (
        "simple_to_village",
        90,
        admin,
    )
    assert rule_audit_rows() == [("routing_rule.delete", "simple_to_village", "sysadmin", [])]


def test_deleting_an_unknown_rule_is_refused(admin):
    before = counts()

    with pytest.raises(RoutingRuleError) as excinfo:
        do_delete_rule("no_such_rule", actor=admin)

    assert str(excinfo.value) == "分派规则 no_such_rule 不存在"
    assert counts() == before


BAD_RULES = [
    (
        {"when": {"grades": ["purple"]}},
        "when.grades",
        "分派规则 collective_labour_to_county 有误：“when.grades”中的“purple”不是有效取值（可用：red、orange、yellow、blue）",
    ),
    (
        {"when": {"grade": ["red"]}},
        "when.grade",
        "分派规则 collective_labour_to_county 有误：“when”中有未知的键“grade”（可用：dispute_types、grades、"
        "complexities、region_levels、channels、request_types、region_prefix、amount_min、amount_max、people_min、"
        "people_max）",
    ),
    (
        {"when": {"dispute_types": "labour"}},
        "when.dispute_types",
        '分派规则 collective_labour_to_county 有误：“when.dispute_types”必须是由代码组成的列表，如 ["a", "b"]',
    ),
    (
        {"when": {"dispute_types": ["labor"]}},
        "when.dispute_types",
        "分派规则 collective_labour_to_county 有误：“when.dispute_types”中的“labor”不是人民调解纠纷类型的代码",
    ),
    (
        {"when": {"people_min": 10, "people_max": 10}},
        "when.people_min",
        "分派规则 collective_labour_to_county 有误：“when.people_min”（10）必须小于“when.people_max”（10）",
    ),
    (
        {"then": {"handling_level": "county", "lead": {"selector": "mayor"}}},
        "then.lead.selector",
        "分派规则 collective_labour_to_county 有误：“then.lead.selector”的值“mayor”不是可用的选择器（可用：centre、"
        "township_platform_of_region、village_committee_of_region、department:<职能代码>）",
    ),
    (
        {"then": {"handling_level": "county", "lead": {"unit": "no-such-unit"}}},
        "then.lead.unit",
        "分派规则 collective_labour_to_county 有误：“then.lead.unit”的单位“no-such-unit”不存在或已停用",
    ),
    (
        {"then": {"handling_level": "county", "lead": {"selector": "centre"}, "co_units": [{"unit": "x"}]}},
        "then.co_units[0].unit",
        "分派规则 collective_labour_to_county 有误：“then.co_units[0].unit”的单位“x”不存在或已停用",
    ),
    (
        {"then": {"handling_level": "province", "lead": {"selector": "centre"}}},
        "then.handling_level",
        "分派规则 collective_labour_to_county 有误：“then.handling_level”（处置层级）必须是 village、township、county 之一",
    ),
    (
        {"id": "集体劳动争议"},
        "id",
        "分派规则 集体劳动争议 有误：“id”（规则代码）只能由字母、数字、下划线和连字符组成",
    ),
    (
        {"order": "45"},
        "order",
        "分派规则 collective_labour_to_county 有误：“order”（顺序）必须是整数",
    ),
]


@pytest.mark.parametrize(("change", "key", "message"), BAD_RULES, ids=[key for _, key, _ in BAD_RULES])
def test_a_bad_rule_is_refused_naming_the_key_and_nothing_is_saved(admin, change, key, message):
    before = counts()

    with pytest.raises(RoutingRuleError) as excinfo:
        do_save_rule(NEW_RULE | change, actor=admin)

    assert (excinfo.value.key, str(excinfo.value)) == (key, message)
    assert counts() == before


def test_a_bad_change_leaves_the_saved_rule_as_it_was(admin):
    saved = do_save_rule(NEW_RULE, actor=admin)
    before = counts()

    with pytest.raises(RoutingRuleError):
        do_save_rule(NEW_RULE | {"when": {"grades": ["purple"]}}, actor=admin)

    assert RoutingRule.objects.get(pk=saved.pk).as_dict() == SNAPSHOT
    assert counts() == before
