"""Registration (one matter, or a batch) takes the code sequence's lock as late as it can: every row is written
under a placeholder code first, so only the code, the listeners and the audit row run while the lock is held.
Codes stay gap-free per committed transaction. Also the outbox helper of the listeners' batch forms."""

import re
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yidi.cases.actions import EVENT_LISTENERS, do_register_case
from yidi.cases.builders import make_draft
from yidi.cases.bulk import do_register_cases, enqueue_outbox_many
from yidi.cases.models import Case
from yidi.core.codes import PLACEHOLDER_PREFIX, placeholder_code
from yidi.core.models import CodeSequence
from yidi.integrations.actions import enqueue, muted
from yidi.integrations.models import OutboxMessage

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
STATEMENT = re.compile(r'^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b.*?(?:FROM\s+)?"(\w+)"', re.S)


def statements(captured) -> list[str]:
    """Each data statement as "VERB table" (savepoints and transaction control left out)."""
    found = []
    for query in captured:
        sql = re.sub(r"^\d+ times: ", "", query["sql"])  # an `executemany`
        match = STATEMENT.match(sql)
        if match:
            verb = match.group(1).split()[0]
            table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql).group(1)
            found.append(f"{verb} {table}")
    return found


def after_code(captured) -> list[str]:
    done = statements(captured)
    return done[done.index("UPDATE core_codesequence"):]


LOCKED_PART = [  # the code, the listeners' reads (none of them finds anything to send), the audit row
    "UPDATE core_codesequence", "UPDATE cases_case",
    "SELECT linkage_peer", "SELECT webhooks_webhooksubscription", "SELECT campaigns_campaign",
    "SELECT audit_auditchainhead", "INSERT audit_auditevent", "UPDATE audit_auditchainhead",
]


@contextmanager
def listener(extra):
    EVENT_LISTENERS.append(extra)
    try:
        yield
    finally:
        EVENT_LISTENERS.remove(extra)


@time_machine.travel(NOW, tick=False)
def test_one_registration_writes_every_row_before_it_takes_its_code(registrar):
    do_register_case(make_draft(), actor=registrar)  # the year's sequence row exists from now on

    with CaptureQueriesContext(connection) as captured:
        case = do_register_case(make_draft(), actor=registrar)

    assert sorted(after_code(captured)) == sorted(LOCKED_PART)
    assert after_code(captured)[:2] == ["UPDATE core_codesequence", "UPDATE cases_case"]
    assert "INSERT cases_caseevent" in statements(captured)
    assert case.code == "330681-2026-000002"
    assert sorted(Case.objects.values_list("code", flat=True)) == ["330681-2026-000001", "330681-2026-000002"]


@time_machine.travel(NOW, tick=False)
def test_a_batch_writes_every_row_before_it_takes_its_codes(registrar):
    CodeSequence.objects.create(prefix="330681", year=2026)
    with CaptureQueriesContext(connection) as captured:
        cases = do_register_cases([make_draft(), make_draft(region_code="330681001"), make_draft()], actor=registrar)

    locked = after_code(captured)
    assert locked[:2] == ["UPDATE core_codesequence", "UPDATE cases_case"]  # one prefix: one advance, one update
    assert not any(step.startswith(("INSERT cases_", "UPDATE cases_")) for step in locked[2:])
    assert [case.code for case in cases] == ["330681-2026-000001", "330681-2026-000002", "330681-2026-000003"]
    assert sorted(Case.objects.values_list("code", flat=True)) == [case.code for case in cases]
    assert CodeSequence.objects.get(prefix="330681", year=2026).last_value == 3


@time_machine.travel(NOW, tick=False)
def test_a_registration_undone_after_taking_its_code_leaves_no_gap(registrar):
    def refuse(case, event):
        raise RuntimeError("listener failed")

    do_register_case(make_draft(), actor=registrar)
    with listener(refuse), pytest.raises(RuntimeError):
        do_register_case(make_draft(), actor=registrar)
    with listener(refuse), pytest.raises(RuntimeError):
        do_register_cases([make_draft(), make_draft()], actor=registrar)

    assert do_register_case(make_draft(), actor=registrar).code == "330681-2026-000002"
    assert do_register_cases([make_draft()], actor=registrar)[0].code == "330681-2026-000003"
    assert list(Case.objects.order_by("code").values_list("code", flat=True)) == [
        "330681-2026-000001", "330681-2026-000002", "330681-2026-000003"]


@time_machine.travel(NOW, tick=False)
def test_listeners_see_the_real_code_and_no_placeholder_is_ever_kept(registrar):
    seen = []
    with listener(lambda case, event: seen.append(Case.objects.get(pk=case.pk).code == case.code)):
        do_register_case(make_draft(), actor=registrar)
        do_register_cases([make_draft(), make_draft()], actor=registrar)

    assert seen == [True, True, True]
    assert not Case.objects.filter(code__startswith=PLACEHOLDER_PREFIX).exists()
    assert len(placeholder_code()) == Case._meta.get_field("code").max_length


class _Undo(Exception):
    pass


def _message(key: str, **overrides) -> dict:
    return {"kind": "webhook", "destination": "https://city.example.gov.cn/hook", "idempotency_key": key,
            "payload": {"n": key}, "subject_type": "case", "subject_id": "330681-2026-000001", **overrides}


@time_machine.travel(NOW, tick=False)
def test_the_outbox_batch_writes_what_enqueue_writes_one_by_one(django_assert_num_queries):
    messages = [_message("k:1"), _message("k:2", text="第二条", template="t"), _message("k:1", payload={"n": 9})]
    columns = ("kind", "destination", "idempotency_key", "payload", "subject_type", "subject_id", "template",
               "text", "status", "next_attempt_at", "created_at")

    ways = []
    for write in (lambda: [enqueue(**message) for message in messages], lambda: enqueue_outbox_many(messages)):
        try:
            with transaction.atomic():
                queued = len(connection.run_on_commit)
                write()
                ways.append((list(OutboxMessage.objects.order_by("id").values_list(*columns)),
                             len(connection.run_on_commit) - queued))
                raise _Undo
        except _Undo:
            pass

    assert ways[0] == ways[1]
    assert [row[2:4] for row in ways[1][0]] == [("k:1", {"n": "k:1"}), ("k:2", {"n": "k:2"})]
    assert ways[1][1] == 2
    enqueue(**messages[0])
    with django_assert_num_queries(2):  # the keys there already, one insert
        written = enqueue_outbox_many(messages)
    assert [message.idempotency_key for message in written] == ["k:2"]
    assert all(message.pk for message in written)


def test_the_outbox_batch_writes_nothing_while_muted_or_empty(django_assert_num_queries):
    with muted(), django_assert_num_queries(0):
        assert enqueue_outbox_many([_message("k:1")]) == []
    with django_assert_num_queries(0):
        assert enqueue_outbox_many([]) == []
    with pytest.raises(ValueError):
        enqueue_outbox_many([_message("")])
    assert not OutboxMessage.objects.exists()
