"""Seed the national working calendar (2020–2026), the default time-limit policies and the 督办 ladder."""

from django.db import migrations


# Stages added to the shipped rules after this migration was written; their names do not fit the column as it
# is at this point of the history (the data file is read as it is today).
LATER_STAGES = frozenset({"party_response", "judicial_confirmation"})


def seed(apps, schema_editor):
    import csv
    import json
    from datetime import date

    from yidi.core.calendar import DEFAULT_CALENDAR_PATH
    from yidi.core.deadlines import DEFAULT_ESCALATION_RULES_PATH, DEFAULT_POLICIES_PATH, load_escalation_rules, \
        load_policies

    WorkCalendarDay = apps.get_model("core", "WorkCalendarDay")
    DeadlinePolicyRecord = apps.get_model("core", "DeadlinePolicyRecord")
    EscalationRuleRecord = apps.get_model("core", "EscalationRuleRecord")
    with DEFAULT_CALENDAR_PATH.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            WorkCalendarDay.objects.update_or_create(
                day=date.fromisoformat(row["date"]), unit_code="",
                defaults={"kind": row["kind"], "name": row["name"], "source": row["source"]},
            )
    load_policies()  # validates the file before anything is copied
    for data in json.loads(DEFAULT_POLICIES_PATH.read_text(encoding="utf-8"))["policies"]:
        match = data.get("match", {})
        DeadlinePolicyRecord.objects.update_or_create(code=data["id"], defaults={
            "name": data["name"], "channel_group": match.get("channel", ""),
            "request_type": match.get("request_type", ""), "level": match.get("level", ""),
            "dispute_type": match.get("dispute_type", ""), "stages": data["stages"],
            "diversion": data.get("diversion") or "", "basis": data.get("basis", ""),
        })
    load_escalation_rules()
    for data in json.loads(DEFAULT_ESCALATION_RULES_PATH.read_text(encoding="utf-8"))["escalation_rules"]:
        if (data.get("stage") or "") in LATER_STAGES:
            continue  # seeded by `mediation` 0002, after `core` 0007 has widened the column for these names
        EscalationRuleRecord.objects.update_or_create(code=data["id"], defaults={
            "state": data["state"], "effect": data["effect"], "stage": data.get("stage") or "",
            "min_overdue_days": data.get("min_overdue_days", 0), "policy_codes": data.get("policy_ids", []),
        })


class Migration(migrations.Migration):
    dependencies = [("core", "0003_add_calendar_and_deadline_rules")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
