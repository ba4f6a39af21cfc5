from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_seal_existing_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(unique=True, verbose_name="序号"),
        ),
    ]
