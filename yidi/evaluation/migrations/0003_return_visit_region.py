"""Each return visit keeps its matter's region, with an index for a region's worklist (issue #10: the return-visit
worklist read every matter of the region to find its visits, a second at a million matters)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_regions(apps, schema_editor):
    """Every existing visit gets its matter's region (one UPDATE)."""
    ReturnVisit = apps.get_model("evaluation", "ReturnVisit")
    Case = apps.get_model("cases", "Case")
    ReturnVisit.objects.using(schema_editor.connection.alias).update(
        region_id=Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("region_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
        ("evaluation", "0002_seed_return_visit_rules"),
        ("regions", "0002_region_map"),
    ]

    operations = [
        migrations.AddField(
            model_name="returnvisit",
            name="region",
            field=models.ForeignKey(
                db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="+", to="regions.region", verbose_name="发生地",
            ),
        ),
        migrations.RunPython(copy_regions, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="returnvisit",
            name="region",
            field=models.ForeignKey(
                db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT,
                related_name="+", to="regions.region", verbose_name="发生地",
            ),
        ),
        migrations.AddIndex(
            model_name="returnvisit",
            index=models.Index(fields=["region", "status", "due_on"], name="return_visit_region_worklist"),
        ),
        migrations.AddIndex(
            model_name="returnvisit",
            index=models.Index(fields=["unit", "region"], name="return_visit_unit_region"),
        ),
    ]
