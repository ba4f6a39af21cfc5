"""Seed the return-visit rules (SPEC §5, §8; china-rules: 12345 回访 the day after closing; 人民调解 回访 on
performance). Admins may change them."""

from django.db import migrations

RULES = [
    {
        "code": "hotline_after_closing", "name": "12345热线事项：办结后1个工作日内回访", "trigger": "closed",
        "channel_group": "hotline_12345", "offset_days": 1, "day_unit": "workdays", "priority": 10,
    },
    {
        "code": "mediation_agreement_after_performance",
        "name": "调解达成协议：履行期限届满次日回访（未登记履行义务的，协议生效后7日）", "trigger": "performance_due",
        "handling_mode": "mediation", "outcome": "agreement", "offset_days": 1, "day_unit": "calendar_days",
        "no_obligation_offset_days": 7, "priority": 20,
    },
    {
        "code": "default_after_closing", "name": "其他事项：办结后3个工作日内回访", "trigger": "closed",
        "offset_days": 3, "day_unit": "workdays", "priority": 100,
    },
]


def seed(apps, schema_editor):
    ReturnVisitRule = apps.get_model("evaluation", "ReturnVisitRule")
    for rule in RULES:
        values = dict(rule)
        ReturnVisitRule.objects.update_or_create(code=values.pop("code"), defaults=values)


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0001_add_evaluations_and_return_visits")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
