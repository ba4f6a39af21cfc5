"""The database itself refuses to change or delete audit rows (triggers), on both vendors."""

import pytest
from django.db import DatabaseError, connection, transaction

from yidi.audit.models import AuditEvent
from yidi.audit.tests.conftest import TABLE, add_events, postgresql_only, sqlite_only

pytestmark = pytest.mark.django_db


def installed_triggers() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE]
            )
        else:
            cursor.execute("SELECT name, 'O' FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        return set(cursor.fetchall())


@postgresql_only
def test_postgresql_has_the_row_and_truncate_triggers_enabled():
    assert installed_triggers() == {("audit_event_append_only", "O"), ("audit_event_no_truncate", "O")}


@sqlite_only
def test_sqlite_has_the_update_and_delete_triggers():
    # Django rebuilds a SQLite table to alter it, dropping its triggers: a new migration on AuditEvent fails this.
    assert installed_triggers() == {("audit_event_no_update", "O"), ("audit_event_no_delete", "O")}


def save_changed(event):
    event.reason = "改过"
    event.save()


def raw(sql):
    def run(event):
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=TABLE), [event.seq])

    return run


@pytest.mark.parametrize(
    "change",
    [
        lambda event: AuditEvent.objects.filter(seq=event.seq).update(reason="改过"),
        lambda event: AuditEvent.objects.filter(seq=event.seq).delete(),
        lambda event: AuditEvent.objects.all().delete(),
        save_changed,
        lambda event: event.delete(),
        raw("UPDATE {table} SET reason = 'x' WHERE seq = %s"),
        raw("DELETE FROM {table} WHERE seq = %s"),
    ],
    ids=["orm-update", "orm-delete", "orm-delete-all", "save", "instance-delete", "sql-update", "sql-delete"],
)
def test_changing_or_deleting_a_row_is_refused_by_the_database(change):
    event = add_events(1)[0]
    before = list(AuditEvent.objects.values_list("seq", "reason", "mac"))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change(AuditEvent.objects.get(seq=event.seq))

    assert list(AuditEvent.objects.values_list("seq", "reason", "mac")) == before


@postgresql_only
def test_postgresql_refuses_truncate():
    add_events(1)
    count = AuditEvent.objects.count()

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run with FK checks pending
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE}")

    assert AuditEvent.objects.count() == count


@sqlite_only
def test_sqlite_refuses_a_delete_of_the_whole_table():
    add_events(1)
    count = AuditEvent.objects.count()

    with pytest.raises(DatabaseError, match="append-only: DELETE"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")

    assert AuditEvent.objects.count() == count


def test_new_rows_are_still_accepted():
    assert add_events(1)[0].pk is not None


def test_flush_empties_the_log_in_one_transaction_and_leaves_the_triggers_on():
    from django.core.management import call_command

    triggers_before = installed_triggers()

    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)

    assert AuditEvent.objects.count() == 0
    assert installed_triggers() == triggers_before
    event = add_events(1)[0]
    assert event.seq == 1  # the head went too: a new chain starts
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(reason="改过")
