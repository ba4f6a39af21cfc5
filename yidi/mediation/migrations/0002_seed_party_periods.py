"""Databases seeded before the mediation app get its two periods: the other party's answer and the window to apply
for judicial confirmation, as stages of the people's-mediation policy, and the ladder's warnings on them. Stages
and rules an admin already has are left as they are (fresh databases get them from the core seed)."""

from django.db import migrations

STAGES = ("party_response", "judicial_confirmation")
RULES = ("warn_before_judicial_confirmation_window_closes", "warn_when_the_other_party_has_not_answered")


def seed(apps, schema_editor):
    import json

    from yidi.core.deadlines import DEFAULT_ESCALATION_RULES_PATH, DEFAULT_POLICIES_PATH

    DeadlinePolicyRecord = apps.get_model("core", "DeadlinePolicyRecord")
    EscalationRuleRecord = apps.get_model("core", "EscalationRuleRecord")
    shipped = {p["id"]: p for p in json.loads(DEFAULT_POLICIES_PATH.read_text(encoding="utf-8"))["policies"]}
    record = DeadlinePolicyRecord.objects.filter(code="people_mediation").first()
    if record is not None:
        present = {stage["stage"] for stage in record.stages}
        added = [s for s in shipped["people_mediation"]["stages"] if s["stage"] in STAGES and s["stage"] not in present]
        if added:
            record.stages = [*record.stages, *added]
            record.save(update_fields=["stages", "updated_at"])
    rules = json.loads(DEFAULT_ESCALATION_RULES_PATH.read_text(encoding="utf-8"))["escalation_rules"]
    for data in rules:
        if data["id"] in RULES:
            EscalationRuleRecord.objects.get_or_create(code=data["id"], defaults={
                "state": data["state"], "effect": data["effect"], "stage": data.get("stage") or "",
                "min_overdue_days": data.get("min_overdue_days", 0), "policy_codes": data.get("policy_ids", []),
            })


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0001_initial"),
        ("core", "0007_widen_escalation_rule_stage"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
