"""Two writers on PostgreSQL, each in its own thread and connection, committing for real: they spread over the
parallel chains, each chain stays gap-free and unbroken, and one writer never waits for the other's commit.

Not a `transaction=True` test: its teardown flushes every table, which the TRUNCATE trigger refuses and
would wipe the county loaded once per test database (the flush command of `yidi.audit` can lift the trigger,
but the world would still be gone). The test commits through `django_db_blocker` instead and removes its own
rows at the end, in one transaction with the triggers off.
"""

import threading

import pytest
from django.db import connection, transaction

from yidi.audit.actions import record, verify_chain
from yidi.audit.models import AuditEvent
from yidi.audit.testing import restore_heads, snapshot_heads
from yidi.audit.tests.conftest import postgresql_only

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


def _restore(heads: dict[int, tuple[int, str]]) -> None:
    restore_heads(heads)
    connection.close()


@postgresql_only
@pytest.mark.postgres
def test_two_concurrent_writers_keep_every_chain_gap_free(django_db_setup, django_db_blocker):
    # `django_db_setup` first: without it the connection would still point at the real database
    with django_db_blocker.unblock():
        # pytest-django runs this after the committing tests, whose flush may have emptied the log and its heads
        heads = snapshot_heads()
        barrier, errors = threading.Barrier(2), []
        threads = [threading.Thread(target=write, args=(name, barrier, errors)) for name in ("a", "b")]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

            assert errors == []
            kept = PER_WRITER - PER_WRITER // 5
            new = [row for row in AuditEvent.objects.filter(action="test.concurrent").values_list(
                "chain", "seq", "object_id").order_by("chain", "seq")]
            assert len(new) == 2 * kept and sum(object_id.startswith("a-") for _, _, object_id in new) == kept
            for chain in {chain for chain, _, _ in new}:
                seqs = list(AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
                assert seqs == list(range(1, len(seqs) + 1))  # no gap, rolled-back appends included
            result = verify_chain()
            assert (result.ok, result.checked) == (True, AuditEvent.objects.count())
        finally:
            _restore(heads)


@postgresql_only
@pytest.mark.postgres
def test_a_writer_does_not_wait_for_another_open_transaction(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        heads = snapshot_heads()
        holding, release = threading.Event(), threading.Event()
        chains, errors = {}, []

        def slow() -> None:
            try:
                with transaction.atomic():
                    chains["slow"] = record(actor=None, action="test.slow", object_type="writer", object_id="slow").chain
                    holding.set()
                    release.wait(timeout=10)
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        thread = threading.Thread(target=slow)
        try:
            thread.start()
            assert holding.wait(timeout=10)
            with transaction.atomic():  # would block until `slow` commits if there were one chain
                chains["fast"] = record(actor=None, action="test.fast", object_type="writer", object_id="fast").chain
            finished_while_held = not release.is_set()
            release.set()
            thread.join()

            assert errors == [] and finished_while_held
            assert chains["fast"] != chains["slow"]
            assert verify_chain().ok
        finally:
            release.set()
            thread.join()
            _restore(heads)
