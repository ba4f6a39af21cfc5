"""Databases seeded before the hand-offs get the 信访 procedure's four periods (请求复查, 复查答复, 请求复核,
复核答复) as stages of the 信访 policy. Stages an admin already has are left as they are (fresh databases get them
from the core seed)."""

from django.db import migrations

STAGES = ("review_request", "review", "recheck_request", "recheck")


def seed(apps, schema_editor):
    import json

    from yidi.core.deadlines import DEFAULT_POLICIES_PATH

    DeadlinePolicyRecord = apps.get_model("core", "DeadlinePolicyRecord")
    shipped = {p["id"]: p for p in json.loads(DEFAULT_POLICIES_PATH.read_text(encoding="utf-8"))["policies"]}
    record = DeadlinePolicyRecord.objects.filter(code="petition").first()
    if record is not None:
        present = {stage["stage"] for stage in record.stages}
        added = [s for s in shipped["petition"]["stages"] if s["stage"] in STAGES and s["stage"] not in present]
        if added:
            record.stages = [*record.stages, *added]
            record.save(update_fields=["stages", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0003_add_handoff"),
        ("cases", "0011_add_petition_route_and_clocks"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
