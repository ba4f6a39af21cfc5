"""Webhooks end to end: a step writes one outbox message per matching subscription, the outbox POSTs it signed to
a receiver on 127.0.0.1, retries by its schedule, fails finally (retry by the administrator), and keeps the
idempotency key across attempts."""

import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case
from yidi.core import clock
from yidi.integrations import jobs
from yidi.integrations.actions import do_retry_messages
from yidi.integrations.models import OutboxMessage
from yidi.mediation.tests.helpers import at
from yidi.webhooks.models import WebhookSubscription
from yidi.webhooks.signing import verify_signature
from yidi.webhooks.tests.receiver import Receiver

T0 = at(2026, 3, 10, 9, 0)
SECRET = "county-partner-secret-0001"


def make_subscription(url: str, **overrides) -> WebhookSubscription:
    values = {"name": "市12345平台", "url": url, "secret": SECRET, "event_types": ["case.accepted"],
              "region_scope": "330681"}
    subscription = WebhookSubscription(**{**values, **overrides})
    subscription.full_clean()
    subscription.save()
    return subscription


def webhooks(case=None) -> list[OutboxMessage]:
    messages = OutboxMessage.objects.filter(kind="webhook").order_by("id")
    return list(messages.filter(subject_id=case.code) if case else messages)


@pytest.fixture
def receiver():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def registered(registrar):
    with clock.at(T0):
        return make_case(registrar)


def accept(case, dispatcher):
    with clock.at(T0 + timedelta(minutes=1)):
        return case_actions.do_accept_case(case.code, actor=dispatcher)


def test_accepting_a_matter_posts_one_signed_webhook_without_personal_data(receiver, registered, dispatcher):
    subscription = make_subscription(receiver.url)
    case = accept(registered, dispatcher)
    key = f"webhook:{subscription.pk}:{case.code}:2"
    [message] = webhooks()
    assert (message.destination, message.idempotency_key, message.subject_type, message.subject_id, message.status) == (
        receiver.url, key, "case", case.code, "pending")

    result = jobs.deliver_due(now=T0 + timedelta(minutes=2))

    assert result.failed == 0 and len(receiver.received) == 1
    [request] = receiver.received
    assert request.path == "/hooks/yidi"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Yidi-Event-Id"] == key
    timestamp = request.headers["Yidi-Timestamp"]
    assert request.headers["Yidi-Signature"].startswith(f"t={timestamp},v1=")
    assert verify_signature(SECRET, request.headers["Yidi-Signature"], request.body, now=time.time())
    assert not verify_signature("another-secret-0000000", request.headers["Yidi-Signature"], request.body,
                               now=time.time())
    assert json.loads(request.body) == {
        "id": key, "type": "case.accepted", "occurred_at": "2026-03-10T01:01:00+00:00",
        "case": {"code": case.code, "status": "accepted", "lead_unit": "", "region": "330681109290",
                 "channel": "walk_in", "version": 2},
    }
    text = request.body.decode()
    for personal in ("13805751234", "13905759876", "330681198003150017", "陈建国", "王志强", "排水沟", "枫源村3组"):
        assert personal not in text
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_subscriptions_outside_the_region_or_for_other_events_get_nothing(receiver, registered, dispatcher):
    make_subscription(receiver.url, region_scope="330681001")  # 暨阳街道: the matter is in 枫桥镇
    make_subscription(receiver.url, event_types=["case.closed"])
    make_subscription(receiver.url, is_active=False)
    accept(registered, dispatcher)
    jobs.deliver_due(now=T0 + timedelta(minutes=2))
    assert webhooks() == [] and receiver.received == []


def test_the_listener_writes_nothing_when_no_subscription_matches(registered, dispatcher):
    accept(registered, dispatcher)
    assert webhooks() == []
    assert OutboxMessage.objects.filter(subject_id=registered.code).exclude(kind="webhook").exists()  # notify's


def test_registration_and_assignment_are_events_of_their_own(receiver, registrar, dispatcher, fq_platform):
    subscription = make_subscription(receiver.url, event_types=["case.registered", "case.assigned"])
    with clock.at(T0):
        case = make_case(registrar)
        case_actions.do_accept_case(case.code, actor=dispatcher)
        case_actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                                    override_reason="由调度员指定")
    assert [(m.idempotency_key, m.payload["type"], m.payload["case"]["lead_unit"]) for m in webhooks(case)] == [
        (f"webhook:{subscription.pk}:{case.code}:1", "case.registered", ""),
        (f"webhook:{subscription.pk}:{case.code}:3", "case.assigned", "fq-platform"),
    ]


def test_a_failing_receiver_is_retried_by_the_outbox_schedule_then_finally_fails(
    receiver, registered, dispatcher, admin
):
    receiver.statuses = [500] * 6
    make_subscription(receiver.url)
    accept(registered, dispatcher)
    [message] = webhooks()
    now, waits = T0 + timedelta(minutes=2), []
    for _ in range(5):
        assert jobs.deliver_due(now=now).retried == 1
        message.refresh_from_db()
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                     timedelta(hours=6)]
    assert jobs.deliver_due(now=now).failed == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        "failed", 6, "DeliveryError: 接收方暂时不可用（HTTP 500）")
    assert message.attempt_log.filter(ok=False).count() == 6

    with clock.at(now):
        assert do_retry_messages([message.pk], actor=admin) == 1  # 重新发送 by the administrator
    assert jobs.deliver_due(now=now + timedelta(minutes=1)).sent == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert {r.headers["Yidi-Event-Id"] for r in receiver.received} == {message.idempotency_key}
    assert {json.loads(r.body)["id"] for r in receiver.received} == {message.idempotency_key}
    assert len(receiver.received) == 7


def test_a_gone_receiver_fails_finally_at_once(receiver, registered, dispatcher):
    receiver.statuses = [410]
    make_subscription(receiver.url)
    accept(registered, dispatcher)
    assert jobs.deliver_due(now=T0 + timedelta(minutes=2)).failed == 1
    [message] = webhooks()
    assert (message.status, message.attempts, message.last_error) == (
        "failed", 1, "PermanentDeliveryError: 接收方拒绝（HTTP 410）")


@pytest.mark.parametrize("status", [408, 429, 503])
def test_time_outs_rate_limits_and_server_errors_are_retried(receiver, registered, dispatcher, status):
    receiver.statuses = [status]
    make_subscription(receiver.url)
    accept(registered, dispatcher)
    assert jobs.deliver_due(now=T0 + timedelta(minutes=2)).retried == 1


def test_an_unreachable_receiver_is_retried(registered, dispatcher):
    with Receiver() as gone:
        url = gone.url
    make_subscription(url)  # the port is closed now
    accept(registered, dispatcher)
    assert jobs.deliver_due(now=T0 + timedelta(minutes=2)).retried == 1
    [message] = webhooks()
    assert message.last_error.startswith("DeliveryError: 无法连接回调地址")


def test_a_switched_off_subscription_fails_its_pending_messages(receiver, registered, dispatcher):
    subscription = make_subscription(receiver.url)
    accept(registered, dispatcher)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    assert jobs.deliver_due(now=T0 + timedelta(minutes=2)).failed == 1
    assert receiver.received == []


@pytest.mark.parametrize(("url", "message"), [
    ("http://partner.example.cn/hooks", "回调地址须使用 https（仅本机地址或开发环境可用 http）"),
    ("https://169.254.169.254/latest/meta-data/", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://192.168.1.10/hooks", "回调地址不能指向内网、链路本地或云服务元数据地址"),
])
def test_a_subscription_to_a_refused_url_cannot_be_saved(db, url, message):
    with pytest.raises(ValidationError) as error:
        make_subscription(url)
    assert error.value.message_dict == {"url": [message]}


def test_a_subscription_needs_known_event_types(db):
    with pytest.raises(ValidationError) as error:
        make_subscription("https://partner.example.cn/hooks", event_types=["case.deleted"])
    assert error.value.message_dict == {"event_types": ["请从列出的事件类型中选择至少一项"]}


def test_a_refused_url_stored_anyway_is_not_called(registered, dispatcher):
    subscription = make_subscription("https://partner.example.cn/hooks")
    WebhookSubscription.objects.filter(pk=subscription.pk).update(url="https://169.254.169.254/latest/")
    accept(registered, dispatcher)
    assert jobs.deliver_due(now=T0 + timedelta(minutes=2)).failed == 1
    [message] = webhooks()
    assert message.last_error == "PermanentDeliveryError: 回调地址不能指向内网、链路本地或云服务元数据地址"


def test_the_secret_is_encrypted_at_rest(db):
    from django.db import connection

    subscription = make_subscription("https://partner.example.cn/hooks")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhooksubscription WHERE id = %s", [subscription.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc:") and SECRET not in stored
    assert WebhookSubscription.objects.get(pk=subscription.pk).secret == SECRET
