"""Two writers on PostgreSQL, each in its own thread and connection, committing for real: one unbroken chain.

Not a `transaction=True` test: its teardown flushes every table, which the TRUNCATE trigger refuses and
would wipe the county loaded once per test database (the flush command of `yidi.audit` can lift the trigger,
but the world would still be gone). The test commits through `django_db_blocker` instead and removes its own
rows at the end, in one transaction with the triggers off.
"""

import threading

import pytest
from django.db import connection, transaction

from yidi.audit.actions import record, verify_chain
from yidi.audit.models import AuditChainHead, AuditEvent
from yidi.audit.tests.conftest import HEAD_TABLE, TABLE, postgresql_only

PER_WRITER = 60


class Abandoned(Exception):
    pass


def write(name: str, barrier: threading.Barrier, errors: list) -> None:
    """Each transaction appends one row; every fifth one then fails and rolls back (its seq must not leak)."""
    try:
        barrier.wait()
        for index in range(PER_WRITER):
            try:
                with transaction.atomic():
                    record(actor=None, action="test.concurrent", object_type="writer", object_id=f"{name}-{index}")
                    if index % 5 == 4:
                        raise Abandoned
            except Abandoned:
                pass
    except BaseException as error:
        errors.append(error)
    finally:
        connection.close()


@postgresql_only
@pytest.mark.postgres
def test_two_concurrent_writers_produce_one_gap_free_chain(django_db_setup, django_db_blocker):
    # `django_db_setup` first: without it the connection would still point at the real database
    with django_db_blocker.unblock():
        # pytest-django runs this after the committing tests, whose flush may have emptied the log and its head
        head = AuditChainHead.objects.values_list("last_seq", "last_mac").first()
        start_seq = head[0] if head else 0
        barrier, errors = threading.Barrier(2), []
        threads = [threading.Thread(target=write, args=(name, barrier, errors)) for name in ("a", "b")]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

            assert errors == []
            kept = PER_WRITER - PER_WRITER // 5
            rows = list(AuditEvent.objects.filter(seq__gt=start_seq).order_by("seq").values_list("seq", "object_id"))
            assert [seq for seq, _ in rows] == list(range(start_seq + 1, start_seq + 2 * kept + 1))
            assert sum(object_id.startswith("a-") for _, object_id in rows) == kept
            result = verify_chain()
            assert (result.ok, result.last_seq) == (True, start_seq + 2 * kept)
        finally:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
                cursor.execute(f"DELETE FROM {TABLE} WHERE seq > %s", [start_seq])
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
                if head:
                    cursor.execute(f"UPDATE {HEAD_TABLE} SET last_seq = %s, last_mac = %s", list(head))
                else:
                    cursor.execute(f"DELETE FROM {HEAD_TABLE}")
            connection.close()
