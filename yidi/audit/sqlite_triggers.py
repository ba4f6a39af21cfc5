"""The append-only triggers of the audit table on SQLite, for migrations that alter the table.

SQLite alters a table by rebuilding it, which drops its triggers: every migration that alters `AuditEvent` ends
with `reinstall_sqlite_triggers` (IF NOT EXISTS; a no-op on PostgreSQL, where the table is altered in place and
its triggers stay).
"""

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


def reinstall_sqlite_triggers(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement, params=None)
