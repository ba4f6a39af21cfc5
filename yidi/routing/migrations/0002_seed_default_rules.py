"""Seed the default routing ladder from `data/default_rules.json`, each with a first revision.

Only missing rules are created, so running it again never overwrites an admin's edits.
"""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

RULES_PATH = Path(__file__).resolve().parent.parent / "data" / "default_rules.json"


def seed(apps, schema_editor):
    RoutingRule = apps.get_model("routing", "RoutingRule")
    RoutingRuleRevision = apps.get_model("routing", "RoutingRuleRevision")
    now = timezone.now()
    for raw in json.loads(RULES_PATH.read_text(encoding="utf-8"))["rules"]:
        rule, created = RoutingRule.objects.get_or_create(
            code=raw["id"],
            defaults={
                "position": raw["order"],
                "name": raw.get("name", ""),
                "is_active": raw.get("active", True),
                "when": raw.get("when", {}),
                "then": raw["then"],
            },
        )
        if created:
            snapshot = {
                "id": rule.code, "order": rule.position, "name": rule.name, "active": rule.is_active,
                "when": rule.when, "then": rule.then,
            }
            RoutingRuleRevision.objects.create(
                rule_code=rule.code, operation="create", snapshot=snapshot, changed_at=now, changed_by=None
            )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_add_routing_rules")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
