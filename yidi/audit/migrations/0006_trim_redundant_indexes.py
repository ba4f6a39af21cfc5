from django.conf import settings
from django.db import migrations, models

# SQLite alters a table by rebuilding it, which drops its triggers: the append-only triggers of 0005 are
# installed again right after (IF NOT EXISTS: on PostgreSQL, where the table is altered in place, this is a
# no-op). Any later migration that alters `AuditEvent` must end the same way.
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on audit_auditevent refused'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_auditevent refused'); END
    """,
]


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement, params=None)


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
