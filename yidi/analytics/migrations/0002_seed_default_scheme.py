"""The default assessment scheme (考核办法), and the demo townships' populations where the regions exist."""

from django.db import migrations


def forwards(apps, schema_editor):
    from yidi.analytics.seed import seed_default_scheme, seed_demo_population

    seed_default_scheme(apps.get_model("analytics", "AssessmentScheme"), apps.get_model("analytics", "AssessmentWeight"),
                        apps.get_model("analytics", "AssessmentDeduction"))
    seed_demo_population(apps.get_model("regions", "Region"), apps.get_model("analytics", "RegionPopulation"))


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_kpi_tables"), ("regions", "__first__")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
