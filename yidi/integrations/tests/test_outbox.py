"""The transactional outbox: written with the step, sent after the commit, retried with back-off, finally failed,
sent again by the administrator; a message claimed twice is sent once."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yidi.audit.models import AuditEvent
from yidi.core import clock
from yidi.integrations import actions, jobs
from yidi.integrations.models import OutboxAttempt, OutboxMessage
from yidi.integrations.transports import LogTransport, PermanentDeliveryError
from yidi.mediation.tests.helpers import at

T0 = at(2026, 3, 10, 9, 0)
PHONE = "13805751234"


class Boom(Exception):
    pass


class FailingTransport:
    def __init__(self, kind):
        self.kind = kind

    def send(self, destination, text, *, key, subject=""):
        raise OSError(f"gateway refused {destination}")


class RefusingTransport(FailingTransport):
    def send(self, destination, text, *, key, subject=""):
        raise PermanentDeliveryError("号码不存在")


@pytest.fixture(autouse=True)
def _clean_log():
    LogTransport.sent.clear()
    yield
    LogTransport.sent.clear()


@pytest.fixture
def failing(settings):
    settings.YIDI_OUTBOX_TRANSPORTS = {"sms": "yidi.integrations.tests.test_outbox.FailingTransport"}


def put(key="test:1", **overrides) -> OutboxMessage:
    values = {"kind": "sms", "destination": PHONE, "text": "您好，测试消息。", "subject_type": "test",
              "subject_id": "1", "idempotency_key": key}
    with clock.at(T0), transaction.atomic():
        return actions.enqueue(**{**values, **overrides})


def sent_keys() -> list[str]:
    return [message.key for message in LogTransport.sent]


def test_a_message_enqueued_in_a_rolled_back_step_leaves_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        put()
        raise Boom
    assert not OutboxMessage.objects.filter(subject_type="test").exists()
    assert callbacks == [] and sent_keys() == []


def test_enqueue_refuses_to_run_outside_a_transaction(db):
    connection.in_atomic_block = False  # as outside the test's transaction
    try:
        with pytest.raises(actions.OutsideTransaction):
            actions.enqueue(kind="sms", destination=PHONE, text="x", idempotency_key="test:outside")
    finally:
        connection.in_atomic_block = True


def test_the_destination_is_encrypted_and_the_same_key_is_written_once(db):
    first = put()
    again = put(text="另一条")
    assert again.pk == first.pk and OutboxMessage.objects.filter(subject_type="test").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT destination FROM integrations_outboxmessage WHERE id = %s", [first.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc:") and PHONE not in stored
    assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 0, T0)


def test_the_commit_sends_the_message_at_once(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = put()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert [(m.destination, m.text, m.key) for m in LogTransport.sent] == [(PHONE, "您好，测试消息。", "test:1")]


def test_a_due_message_is_sent_and_its_attempt_logged(db):
    message = put()
    result = jobs.deliver_due(now=T0 + timedelta(seconds=3))
    message.refresh_from_db()
    assert (result.sent, result.retried, result.failed) == (1, 0, 0)
    assert (message.status, message.attempts, message.sent_at, message.last_error) == (
        "sent", 1, T0 + timedelta(seconds=3), "")
    assert list(message.attempt_log.values_list("ok", "error")) == [(True, "")]
    assert sent_keys() == ["test:1"]


def test_a_message_not_yet_due_waits(db):
    put()
    assert str(jobs.deliver_due(now=T0 - timedelta(seconds=1))) == "发送成功 0 条，待重试 0 条，最终失败 0 条"
    assert sent_keys() == []


def test_failures_back_off_then_the_message_finally_fails(db, failing):
    message = put()
    now, waits = T0, []
    for _ in range(5):
        assert jobs.deliver_due(now=now).retried == 1
        message.refresh_from_db()
        waits.append(message.next_attempt_at - now)
        assert jobs.deliver_due(now=message.next_attempt_at - timedelta(seconds=1)).retried == 0  # not before
        now = message.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                     timedelta(hours=6)]
    assert jobs.deliver_due(now=now).failed == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        "failed", 6, "OSError: gateway refused 138****1234")
    assert OutboxAttempt.objects.filter(message=message, ok=False).count() == 6
    assert jobs.deliver_due(now=now + timedelta(days=1)).failed == 0  # final


def test_the_number_of_attempts_is_a_setting(db, failing, settings):
    settings.YIDI_OUTBOX_MAX_ATTEMPTS = 2
    message = put()
    jobs.deliver_due(now=T0)
    jobs.deliver_due(now=T0 + timedelta(minutes=1))
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 2)


def test_a_permanent_refusal_fails_at_once(db, settings):
    settings.YIDI_OUTBOX_TRANSPORTS = {"sms": "yidi.integrations.tests.test_outbox.RefusingTransport"}
    message = put()
    assert jobs.deliver_due(now=T0).failed == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        "failed", 1, "PermanentDeliveryError: 号码不存在")


def test_a_message_claimed_twice_in_a_row_is_sent_once(db):
    message = put()
    assert [m.pk for m in jobs._claim(T0, 10, None)] == [message.pk]
    assert jobs._claim(T0, 10, None) == []  # leased
    assert jobs.deliver_due(now=T0).sent == 0
    # the worker that claimed it died before recording: sent again after the lease, with the same key
    assert jobs.deliver_due(now=T0 + timedelta(minutes=10)).sent == 1
    assert jobs.deliver_due(now=T0 + timedelta(minutes=20)).sent == 0
    assert sent_keys() == ["test:1"]


def test_delivering_twice_sends_once(db):
    put()
    jobs.deliver_due(now=T0)
    jobs.deliver_due(now=T0)
    assert sent_keys() == ["test:1"]


def test_listeners_hear_of_successes_and_final_failures_only(db, settings, monkeypatch):
    heard = []
    monkeypatch.setattr(jobs, "DELIVERY_LISTENERS", [lambda message, ok: heard.append((message.idempotency_key, ok))])
    put("test:ok")
    jobs.deliver_due(now=T0)
    settings.YIDI_OUTBOX_TRANSPORTS = {"sms": "yidi.integrations.tests.test_outbox.FailingTransport"}
    settings.YIDI_OUTBOX_MAX_ATTEMPTS = 2
    put("test:bad")
    jobs.deliver_due(now=T0)
    assert heard == [("test:ok", True)]
    jobs.deliver_due(now=T0 + timedelta(minutes=1))
    assert heard == [("test:ok", True), ("test:bad", False)]


def test_a_failing_listener_does_not_undo_the_delivery(db, monkeypatch):
    def broken(message, ok):
        raise RuntimeError("listener bug")

    monkeypatch.setattr(jobs, "DELIVERY_LISTENERS", [broken])
    message = put()
    jobs.deliver_due(now=T0)
    message.refresh_from_db()
    assert message.status == "sent" and sent_keys() == ["test:1"]


def test_email_goes_through_django_mail(db, mailoutbox):
    put(kind="email", destination="chen@example.cn", subject="办理进度", text="您的事项已受理。")
    jobs.deliver_due(now=T0)
    assert [(m.to, m.subject, m.body) for m in mailoutbox] == [(["chen@example.cn"], "办理进度", "您的事项已受理。")]


def test_site_messages_need_no_sending(db):
    message = put(kind="site", destination="person:1")
    jobs.deliver_due(now=T0)
    message.refresh_from_db()
    assert message.status == "sent" and sent_keys() == []


def test_an_unknown_kind_is_retried_until_configured(db):
    message = put(kind="fax")
    jobs.deliver_due(now=T0)
    message.refresh_from_db()
    assert (message.status, message.last_error) == ("pending", "DeliveryError: no transport configured for 'fax'")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED claims need PostgreSQL")
def test_the_claim_skips_rows_locked_by_another_worker(db):
    put()
    with CaptureQueriesContext(connection) as queries:
        jobs._claim(T0, 10, None)
    assert any("FOR UPDATE SKIP LOCKED" in q["sql"] for q in queries.captured_queries)


# --- the administrator's view and re-send ------------------------------------------------------------------


def test_the_admin_lists_messages_with_masked_destinations_and_sends_failed_ones_again(
    db, admin, client, failing, settings,
):
    settings.YIDI_OUTBOX_MAX_ATTEMPTS = 1
    message = put()
    jobs.deliver_due(now=T0)
    client.force_login(admin)
    listing = client.get("/admin/integrations/outboxmessage/").content.decode()
    assert "138****1234" in listing and PHONE not in listing and "发送失败" in listing
    assert "您好，测试消息" not in listing  # contents stay out of the admin

    response = client.post("/admin/integrations/outboxmessage/", {
        "action": "retry_failed", "_selected_action": [message.pk]})

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.object_type, audit.object_id, audit.actor_username) == (
        "integrations.retry_message", "outbox_message", str(message.pk), "sysadmin")
    assert list(message.attempt_log.values_list("ok", flat=True)) == [False]  # the log stays


def test_sending_again_leaves_pending_and_sent_messages_alone(db, admin):
    message = put()
    with transaction.atomic():
        assert actions.do_retry_messages([message.pk], actor=admin) == 0
    assert not AuditEvent.objects.filter(action="integrations.retry_message").exists()


def test_only_the_system_admin_sees_the_outbox(db, client, dispatcher):
    client.force_login(dispatcher)
    assert client.get("/admin/integrations/outboxmessage/").status_code in (302, 403, 404)
