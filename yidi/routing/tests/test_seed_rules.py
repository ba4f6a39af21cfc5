"""The data migration seeds the shipped default ladder, each rule with its first revision."""

from yidi.routing.domain import load_rules
from yidi.routing.models import RoutingRule, RoutingRuleRevision


def test_the_seeded_table_is_the_shipped_default_ladder(db):
    seeded = [row.to_domain() for row in RoutingRule.objects.all()]

    assert seeded == sorted(load_rules(), key=lambda rule: (rule.order, rule.id))


def test_each_seeded_rule_has_a_first_revision_by_the_system(db):
    revisions = RoutingRuleRevision.objects.order_by("id")

    assert [(r.rule_code, r.operation, r.changed_by_id) for r in revisions] == [
        (rule.id, "create", None) for rule in load_rules()
    ]
    assert [r.snapshot for r in revisions] == [row.as_dict() for row in RoutingRule.objects.order_by("id")]
