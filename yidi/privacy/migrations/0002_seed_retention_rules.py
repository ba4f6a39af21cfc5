"""Seed the proposed retention periods. They are a local decision: edit them (audited) once the county's
司法局 and 档案 authority have fixed the 保管期限 (security-requirements.md §6.4; docs/privacy.md)."""

from django.db import migrations

LOCAL_DECISION = (
    "建议默认值，须由本地按档案管理规定确定（人民调解法未规定保管期限；"
    "参见 security-requirements.md §6.4 及 docs/privacy.md）"
)
RULES = [
    ("archived_case", 10, f"自归档之日起计算。{LOCAL_DECISION}"),
    ("not_accepted_case", 3, f"自不予受理之日起计算。{LOCAL_DECISION}"),
]


def seed(apps, schema_editor):
    """Add the rules that are missing; never overwrite a period someone has already set."""
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for record_type, years, basis in RULES:
        RetentionRule.objects.get_or_create(
            record_type=record_type, defaults={"retention_years": years, "basis": basis, "is_active": True}
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
