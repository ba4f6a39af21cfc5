"""Placeholder 以案定补 amounts (yuan per case by difficulty). They are a local decision: the admin sets the
county's own (雅安 pays 10–3000 yuan by difficulty, china-rules §7.5)."""

from decimal import Decimal

from django.db import migrations

RATES = (("simple", Decimal("100.00")), ("complex", Decimal("300.00")), ("difficult", Decimal("800.00")))
NOTE = "示例标准，须按本地以案定补办法修改"


def seed(apps, schema_editor):
    SubsidyRate = apps.get_model("mediation", "SubsidyRate")
    for complexity, amount in RATES:
        SubsidyRate.objects.get_or_create(complexity=complexity, defaults={"amount": amount, "note": NOTE})


class Migration(migrations.Migration):
    dependencies = [("mediation", "0005_add_subsidy_ledger")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
