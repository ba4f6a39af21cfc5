"""The webhook listener's batch form (`enqueue_webhooks.for_batch`, used by the 12345 import) writes exactly the
messages of one call per (matter, event), and the per-event path reads only what it needs."""

import pytest

from yidi.cases.actions import do_accept_case
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent
from yidi.cases.tests import listener_batch
from yidi.cases.tests.listener_batch import listeners_off
from yidi.core import clock
from yidi.integrations.actions import muted
from yidi.integrations.models import OutboxMessage
from yidi.mediation.tests.helpers import at
from yidi.webhooks.actions import enqueue_webhooks
from yidi.webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db
T0 = at(2026, 3, 10, 9, 0)


def both_ways(listener, pairs) -> list[tuple[list, int]]:
    """(the webhook rows, the deliveries queued for after the commit) after one call per pair, then after the
    batch form on all pairs; each run is rolled back."""
    return listener_batch.both_ways(listener, pairs, lambda queued: (list(
        OutboxMessage.objects.filter(kind="webhook").order_by("id").values_list(
            "kind", "destination", "idempotency_key", "payload", "subject_type", "subject_id", "template", "text",
            "status")), queued))


def make_subscription(name: str, **overrides) -> WebhookSubscription:
    values = {"name": name, "url": f"https://{name}.example.gov.cn/hook", "secret": "county-partner-secret-0001",
              "event_types": ["case.registered", "case.accepted"], "region_scope": "330681"}
    subscription = WebhookSubscription(**{**values, **overrides})
    subscription.full_clean()
    subscription.save()
    return subscription


def pairs_of(cases, action: str) -> list[tuple]:
    return [(case, CaseEvent.objects.get(case=case, action=action)) for case in cases]


def test_the_batch_form_writes_the_messages_of_one_call_per_event(registrar, dispatcher):
    make_subscription("city")
    make_subscription("township", region_scope="330681109")
    make_subscription("other-county", region_scope="330682")
    make_subscription("accepted-only", event_types=["case.accepted"])
    make_subscription("stopped", is_active=False)
    with listeners_off(), clock.at(T0):
        cases = [make_case(registrar), make_case(registrar, region_code="330681001"), make_case(registrar)]
        do_accept_case(cases[2].code, actor=dispatcher)
    accepted = Case.objects.get(pk=cases[2].pk)
    pairs = [*pairs_of(cases, "register"), *pairs_of([accepted], "accept")]

    one_by_one, batch = both_ways(enqueue_webhooks, pairs)

    assert batch == one_by_one
    rows, queued = batch
    assert queued == len(rows) == 8  # 3 registrations × city, 2 in 枫桥 × township; the acceptance × 3
    assert [(row[1], row[2].split(":", 2)[2], row[3]["type"]) for row in rows] == [
        ("https://city.example.gov.cn/hook", f"{cases[0].code}:1", "case.registered"),
        ("https://township.example.gov.cn/hook", f"{cases[0].code}:1", "case.registered"),
        ("https://city.example.gov.cn/hook", f"{cases[1].code}:1", "case.registered"),
        ("https://city.example.gov.cn/hook", f"{cases[2].code}:1", "case.registered"),
        ("https://township.example.gov.cn/hook", f"{cases[2].code}:1", "case.registered"),
        ("https://accepted-only.example.gov.cn/hook", f"{cases[2].code}:2", "case.accepted"),
        ("https://city.example.gov.cn/hook", f"{cases[2].code}:2", "case.accepted"),
        ("https://township.example.gov.cn/hook", f"{cases[2].code}:2", "case.accepted"),
    ]


def test_the_batch_form_reads_the_subscriptions_once_and_writes_with_one_insert(
        registrar, django_assert_num_queries):
    make_subscription("city")
    with listeners_off(), clock.at(T0):
        cases = [make_case(registrar) for _ in range(4)]
    pairs = pairs_of(cases, "register")

    with django_assert_num_queries(3):  # subscriptions, keys already there, one insert
        enqueue_webhooks.for_batch(pairs)

    assert OutboxMessage.objects.filter(kind="webhook").count() == 4


def test_an_existing_key_is_kept_and_written_once(registrar):
    make_subscription("city")
    with listeners_off(), clock.at(T0):
        case = make_case(registrar)
    [pair] = pairs_of([case], "register")
    enqueue_webhooks(*pair)
    first = OutboxMessage.objects.get(kind="webhook")

    enqueue_webhooks.for_batch([pair, pair])

    assert list(OutboxMessage.objects.filter(kind="webhook")) == [first]


def test_one_event_reads_the_subscriptions_once_and_nothing_when_it_sends_no_webhook(
        registrar, dispatcher, django_assert_num_queries):
    with listeners_off(), clock.at(T0):
        case = make_case(registrar)
    [register] = pairs_of([case], "register")
    other = CaseEvent(case=case, seq=2, action="update_facts", from_status="registered", to_status="registered",
                      at=T0)

    with django_assert_num_queries(1):  # no subscription: the look-up only
        enqueue_webhooks(*register)
    with django_assert_num_queries(0):
        enqueue_webhooks(case, other)
        enqueue_webhooks.for_batch([(case, other)])
    assert not OutboxMessage.objects.filter(kind="webhook").exists()


def test_nothing_is_read_or_written_while_the_outbox_is_muted(registrar, django_assert_num_queries):
    make_subscription("city")
    with listeners_off(), clock.at(T0):
        case = make_case(registrar)
    pairs = pairs_of([case], "register")

    with muted(), django_assert_num_queries(0):
        enqueue_webhooks(*pairs[0])
        enqueue_webhooks.for_batch(pairs)

    assert not OutboxMessage.objects.filter(kind="webhook").exists()
