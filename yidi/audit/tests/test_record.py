"""`record`: every audit row is sealed onto the chain in the caller's transaction."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from yidi.audit.actions import current_key, record, record_many, verify_chain
from yidi.audit.domain import GENESIS_MAC
from yidi.audit.models import AuditChainHead, AuditEvent
from yidi.audit.tests.conftest import add_events, is_postgresql
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent, Person
from yidi.core import request_context

pytestmark = pytest.mark.django_db


def head() -> tuple[int, str]:
    return AuditChainHead.objects.values_list("last_seq", "last_mac").get()


def test_rows_get_the_next_seq_and_chain_onto_the_previous_mac():
    last_seq, last_mac = head()

    events = add_events(3)

    assert [e.seq for e in events] == [last_seq + 1, last_seq + 2, last_seq + 3]
    assert [e.prev_mac for e in events] == [last_mac, events[0].mac, events[1].mac]
    assert head() == (events[-1].seq, events[-1].mac)
    stored = AuditEvent.objects.get(seq=events[-1].seq)
    assert (stored.key_id, stored.prev_mac, stored.mac) == (current_key().key_id, events[1].mac, events[-1].mac)
    assert len({e.mac for e in events}) == 3 and GENESIS_MAC not in {e.mac for e in events}


def test_the_chain_left_by_the_test_database_setup_verifies():
    result = verify_chain()
    assert (result.ok, result.last_seq, result.checked) == (True, head()[0], head()[0])


def test_registering_a_matter_chains_its_audit_row(registrar):
    last_seq, _ = head()

    case = make_case(registrar)

    event = AuditEvent.objects.get(seq=last_seq + 1)
    assert (event.action, event.object_type, event.object_id, event.actor_username, event.actor_unit_code) == (
        "case.register", "case", case.code, "registrar", "centre")
    assert verify_chain().ok


def test_when_the_audit_write_fails_the_matter_is_not_registered(registrar, monkeypatch):
    before = (Case.objects.count(), CaseEvent.objects.count(), Person.objects.count(), AuditEvent.objects.count(), head())

    def failing_insert(self, *args, **kwargs):
        raise DatabaseError("audit insert failed")

    monkeypatch.setattr(AuditEvent, "save", failing_insert)
    with pytest.raises(DatabaseError, match="audit insert failed"):
        make_case(registrar)

    assert (Case.objects.count(), CaseEvent.objects.count(), Person.objects.count(), AuditEvent.objects.count(),
            head()) == before


def test_a_row_that_cannot_be_sealed_is_refused_and_nothing_is_written():
    before = head()
    with pytest.raises(ValueError):
        record(actor=None, action="test.nan", object_type="test", object_id=1, data={"ratio": float("nan")})
    assert head() == before


def test_details_are_stored_as_json_reads_them_back_and_still_verify():
    token = request_context._source_ip.set("2001:DB8:0:0:0:0:0:1")
    try:
        event = record(
            actor=None, action="test.values", object_type="test", object_id=7, fields=("status", "grade"),
            data={"n": 3.0, "zero": -0.0, "big": 1e16, "small": 1e-07, "tenth": 0.1, "pair": (1, 2), 5: "five",
                  "text": "张三 ✓"},
        )
    finally:
        request_context._source_ip.reset(token)

    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.fields == ["status", "grade"]
    assert stored.data["pair"] == [1, 2] and stored.data["5"] == "five" and stored.data["tenth"] == 0.1
    assert stored.source_ip == "2001:db8::1"
    assert verify_chain().ok


def test_a_deleted_head_row_is_rebuilt_from_the_newest_row():
    events = add_events(2)
    AuditChainHead.objects.all().delete()

    event = record(actor=None, action="test.after_head_loss", object_type="test", object_id=1)

    assert (event.seq, event.prev_mac) == (events[-1].seq + 1, events[-1].mac)
    assert verify_chain().ok


def test_an_append_is_three_statements_and_locks_a_free_head_on_postgresql():
    with CaptureQueriesContext(connection) as queries:
        record(actor=None, action="test.queries", object_type="test", object_id=1)

    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 3
    assert statements[0].startswith("SELECT id, last_seq, last_mac FROM")
    assert statements[0].endswith("FOR UPDATE SKIP LOCKED LIMIT 1") == is_postgresql
    assert statements[1].startswith('INSERT INTO "audit_auditevent"')
    assert statements[2].startswith("UPDATE")


def test_record_many_appends_a_batch_under_one_lock_and_it_verifies():
    last_seq, last_mac = head()
    entries = [{"action": "case.urge", "object_type": "case", "object_id": f"330681-2026-{n:06d}", "reason": "超期",
                "data": {"level": "yellow"}} for n in range(3)]

    with CaptureQueriesContext(connection) as queries:
        events = record_many(actor=None, entries=entries)

    assert [e["seq"] for e in events] == [last_seq + 1, last_seq + 2, last_seq + 3]
    assert [e["prev_mac"] for e in events] == [last_mac, events[0]["mac"], events[1]["mac"]]
    assert head() == (events[-1]["seq"], events[-1]["mac"])
    assert len(queries.captured_queries) == 3  # lock the head, one bulk insert, move the head
    assert [e.actor_username for e in AuditEvent.objects.filter(seq__gt=last_seq)] == ["system"] * 3
    assert verify_chain().ok


def test_record_many_with_nothing_to_record_writes_nothing():
    before = head()
    assert record_many(actor=None, entries=[]) == []
    assert head() == before
