"""Fixtures for the audit tests: checkpoints in a temporary folder, the auditor persona, and a way to
tamper with the log the way a database administrator could (triggers off, raw SQL)."""

import importlib
from contextlib import contextmanager

import pytest
from django.db import connection

from yidi.accounts.domain import Role
from yidi.audit.actions import record
from yidi.audit.models import AuditChainHead, AuditEvent
from yidi.cases.builders import make_user

TABLE = AuditEvent._meta.db_table
HEAD_TABLE = AuditChainHead._meta.db_table
triggers = importlib.import_module("yidi.audit.migrations.0005_append_only_triggers")

is_postgresql = connection.vendor == "postgresql"
is_sqlite = connection.vendor == "sqlite"
postgresql_only = pytest.mark.skipif(not is_postgresql, reason="PostgreSQL only")
sqlite_only = pytest.mark.skipif(not is_sqlite, reason="SQLite only")


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    """Never the real checkpoint folder: a test database's chain is not the dev database's."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


@pytest.fixture
def auditor(db):
    return make_user("auditor", Role.AUDITOR, name="冯审计")


def add_events(count: int, *, action: str = "test.event", **overrides) -> list[AuditEvent]:
    """`count` audit rows through the real `record`, numbered in `object_id` (deterministic)."""
    values = {"actor": None, "object_type": "test", "fields": ["status"], "data": {"step": 0}}
    values.update(overrides)
    events = []
    for index in range(count):
        values["data"] = {**values["data"], "step": index}
        events.append(record(action=action, object_id=f"obj-{index:04d}", **values))
    return events


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@contextmanager
def tampering():
    """A cursor with the append-only triggers switched off, as the table owner could do.

    PostgreSQL: `ALTER TABLE … DISABLE TRIGGER USER` (after running the deferred foreign-key checks of
    rows inserted in this transaction: ALTER TABLE refuses to run with trigger events pending); SQLite: the
    triggers are dropped. Both are undone at the end (and the test's transaction is rolled back anyway).
    """
    with connection.cursor() as cursor:
        if is_postgresql:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        else:
            for statement in triggers.SQLITE_REMOVE:
                cursor.execute(statement)
        yield cursor
        if is_postgresql:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            for statement in triggers.SQLITE_INSTALL:
                cursor.execute(statement)


def set_head(seq: int, mac: str) -> None:
    AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_mac=mac)
