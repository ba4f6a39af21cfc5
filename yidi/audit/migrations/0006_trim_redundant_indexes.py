from django.conf import settings
from django.db import migrations, models

from yidi.audit.sqlite_triggers import reinstall_sqlite_triggers  # the table rebuild drops the triggers


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_append_only_triggers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # An exact-match index on the action (the column's own LIKE index was never used).
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(max_length=60, verbose_name="操作"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action"], name="audit_action"),
        ),
        migrations.RunPython(reinstall_sqlite_triggers, migrations.RunPython.noop),
    ]
