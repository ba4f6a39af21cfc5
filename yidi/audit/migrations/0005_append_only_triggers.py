from django.db import migrations

# PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE (row triggers do
# not fire on TRUNCATE). The table owner or a superuser can still disable them (ALTER TABLE … DISABLE
# TRIGGER): the hash chain and the checkpoints outside the database are what detect that.
POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION yidi_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION yidi_audit_refuse_change()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION yidi_audit_refuse_change()
    """,
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS yidi_audit_refuse_change()",
]
# SQLite has no TRUNCATE (a DELETE without WHERE fires the DELETE trigger). Django's SQLite schema editor
# rebuilds a table to alter it, which drops its triggers: a later migration that alters `AuditEvent` must
# install these again (`test_append_only.py` fails if they are missing).
SQLITE_INSTALL = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE on audit_auditevent refused'); END
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE on audit_auditevent refused'); END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement, params=None)  # None: the % in RAISE is not a placeholder


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRESQL_INSTALL)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_INSTALL)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRESQL_REMOVE)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_REMOVE)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_require_seq"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
