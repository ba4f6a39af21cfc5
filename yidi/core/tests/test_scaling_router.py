"""The read-replica router's rules, on any database (the real replica is in test_scaling_replica.py)."""

import logging

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.urls import reverse

from yidi.audit.models import AuditChainHead, AuditEvent
from yidi.cases.models import Case
from yidi.core import db_router
from yidi.core.db_router import REPLICA, ReplicaRouter, reading_from_replica
from yidi.core.models import CodeSequence
from yidi.core.tests.test_scaling_replica import free_port


@pytest.fixture(autouse=True)
def _fresh_replica_state():
    db_router.reset_replica_state()
    yield
    db_router.reset_replica_state()


@pytest.fixture
def replica_up(monkeypatch):
    """As if a reachable replica were configured."""
    monkeypatch.setattr(db_router, "has_replica", lambda: True)
    monkeypatch.setattr(db_router, "is_replica_usable", lambda: True)


def test_without_a_replica_every_read_and_write_uses_the_primary(db):
    assert db_router.has_replica() is False
    with reading_from_replica():
        assert Case.objects.db == DEFAULT_DB_ALIAS
        assert router.db_for_write(Case) == DEFAULT_DB_ALIAS


def test_marked_reads_outside_a_transaction_go_to_the_replica(db, replica_up):
    assert db_router.is_in_write_transaction() is False  # the test case's own transaction does not count
    assert Case.objects.db == DEFAULT_DB_ALIAS  # not marked
    with reading_from_replica():
        assert db_router.is_reading_from_replica() is True
        assert Case.objects.db == REPLICA
        assert router.db_for_write(Case) == DEFAULT_DB_ALIAS
        with transaction.atomic():
            assert db_router.is_in_write_transaction() is True
            assert Case.objects.db == DEFAULT_DB_ALIAS  # inside a write transaction: the primary
        assert Case.objects.db == REPLICA
    assert db_router.is_reading_from_replica() is False
    assert Case.objects.db == DEFAULT_DB_ALIAS


def test_the_audit_log_and_code_sequences_are_always_read_from_the_primary(db, replica_up):
    with reading_from_replica():
        assert [model.objects.db for model in (AuditEvent, AuditChainHead, CodeSequence)] == [DEFAULT_DB_ALIAS] * 3


def test_the_decorator_marks_only_the_call(db, replica_up):
    @reading_from_replica()
    def read():
        return Case.objects.db

    assert read() == REPLICA
    assert read() == REPLICA  # the decorator can be entered again
    assert Case.objects.db == DEFAULT_DB_ALIAS


def test_the_replica_is_never_migrated_and_its_objects_relate_to_the_primarys():
    replica_router = ReplicaRouter()
    assert replica_router.allow_migrate(REPLICA, "cases") is False
    assert replica_router.allow_migrate(DEFAULT_DB_ALIAS, "cases") is None
    on_replica, on_primary = Case(), Case()
    on_replica._state.db, on_primary._state.db = REPLICA, DEFAULT_DB_ALIAS
    assert replica_router.allow_relation(on_replica, on_primary) is True


@pytest.fixture
def unreachable_replica():
    """A `replica` database on a port where nothing listens."""
    config = {"ENGINE": "django.db.backends.postgresql", "NAME": "yidi", "USER": "postgres", "HOST": "127.0.0.1",
              "PORT": str(free_port()), "OPTIONS": {"connect_timeout": 2}, "TEST": {"MIRROR": DEFAULT_DB_ALIAS}}
    connections.settings[REPLICA] = connections.configure_settings(
        {DEFAULT_DB_ALIAS: connections.settings[DEFAULT_DB_ALIAS], REPLICA: config})[REPLICA]
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


def test_an_unreachable_replica_falls_back_to_the_primary_with_one_warning(db, unreachable_replica, caplog,
                                                                          monkeypatch):
    attempts = []
    wrapper_class = type(connections[REPLICA])
    ensure_connection = wrapper_class.ensure_connection

    def counted_ensure_connection(self, *args, **kwargs):
        if self.alias != REPLICA:
            return ensure_connection(self, *args, **kwargs)
        attempts.append(self.alias)  # the test case refuses connections to undeclared aliases: connect directly
        with self.wrap_database_errors:
            self.connect()

    monkeypatch.setattr(wrapper_class, "ensure_connection", counted_ensure_connection)
    with caplog.at_level(logging.WARNING, logger="yidi.core.db_router"), reading_from_replica():
        assert Case.objects.db == DEFAULT_DB_ALIAS
        assert Case.objects.count() == 0
        assert Case.objects.db == DEFAULT_DB_ALIAS  # not tried again within the retry period

    assert attempts == [REPLICA]
    assert [record.getMessage()[:70] for record in caplog.records] == [
        "read replica unreachable, reading from the primary for the next 30 s: "]


MARKED_PAGES = [  # (URL name, its arguments, the model the page is about)
    ("analytics_kpis", {}, "cases.case"), ("analytics_kpis_export", {"table_format": "csv"}, "cases.case"),
    ("analytics_rankings", {}, "cases.case"), ("implementation_report", {}, "regions.region"),
    ("campaign_list", {}, "campaigns.campaign"), ("alert_list", {}, "supervision.alert"),
]


@pytest.fixture
def read_log(monkeypatch):
    """(model label, whether the read was marked) of every routed read."""
    seen = []

    def db_for_read(self, model, **hints):
        seen.append((model._meta.label_lower, db_router.is_reading_from_replica()))
        return DEFAULT_DB_ALIAS

    monkeypatch.setattr(ReplicaRouter, "db_for_read", db_for_read)
    return seen


@pytest.mark.parametrize(("name", "kwargs", "model"), MARKED_PAGES)
def test_dashboards_lists_and_exports_read_as_marked(client, supervisor, read_log, name, kwargs, model):
    client.force_login(supervisor)
    read_log.clear()
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert read_log[0] == ("sessions.session", False)  # the session and its user are read before the view
    assert (model, True) in read_log
    assert (model, False) not in read_log


def test_a_matter_page_is_not_marked(client, handler, registrar, read_log):
    from yidi.cases.builders import make_case

    case = make_case(registrar)
    client.force_login(registrar)
    read_log.clear()
    client.get(reverse("case_detail", kwargs={"code": case.code}))
    assert read_log and not any(is_marked for _label, is_marked in read_log)
