"""Seed the classification code lists and their mapping table from `yidi.core.taxonomies`."""

from django.db import migrations


def seed(apps, schema_editor):
    from yidi.core.taxonomies import MAPPINGS, TAXONOMIES

    Taxonomy = apps.get_model("core", "Taxonomy")
    TaxonomyLabel = apps.get_model("core", "TaxonomyLabel")
    LabelMapping = apps.get_model("core", "LabelMapping")
    for spec in TAXONOMIES:
        taxonomy, _ = Taxonomy.objects.update_or_create(
            code=spec.code, defaults={"name": spec.name, "version": spec.version}
        )
        for position, (code, name) in enumerate(spec.labels):
            TaxonomyLabel.objects.update_or_create(
                taxonomy=taxonomy, code=code, defaults={"name": name, "position": position}
            )
    for (source_tax, target_tax), table in MAPPINGS.items():
        for source_code, target_code in table.items():
            if target_code is None:
                continue
            LabelMapping.objects.get_or_create(
                source=TaxonomyLabel.objects.get(taxonomy__code=source_tax, code=source_code),
                target=TaxonomyLabel.objects.get(taxonomy__code=target_tax, code=target_code),
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
