"""Webhooks written inside the step that causes them.

`enqueue_webhooks` (an `EVENT_LISTENERS` entry of `yidi.cases.actions`) runs in the step's transaction: for a
timeline row that is a webhook event, one outbox message (kind `webhook`) per active subscription that lists the
event type and whose region scope covers the matter. The outbox delivers it after the commit, signed by
`transports.WebhookTransport`, retried with back-off, and finally failed for the administrator to send again.

Cost: a step that sends no webhook reads nothing; one that does reads the active subscriptions once (one query,
nothing more when there are none). The batch form (`enqueue_webhooks.for_batch`, used by the 12345 import) reads
them once per batch and writes every message of the batch with one insert.
"""

from datetime import UTC

from yidi.cases.bulk import enqueue_outbox_many
from yidi.cases.models import Case, CaseEvent
from yidi.integrations import actions as outbox
from yidi.webhooks import domain
from yidi.webhooks.models import WebhookSubscription

KIND = "webhook"


def _active_subscriptions() -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(is_active=True).only("id", "url", "event_types", "region_scope"))


def _messages(case: Case, event: CaseEvent, event_type, subscriptions: list[WebhookSubscription]) -> list[dict]:
    """The outbox messages (keyword arguments of `outbox.enqueue`) of one event, one per subscription that takes
    it."""
    chosen = [
        subscription for subscription in subscriptions
        if event_type in subscription.event_types and domain.covers_region(subscription.region_scope, case.region_id)
    ]
    if not chosen:
        return []
    lead_unit = case.lead_unit.code if case.lead_unit_id else ""
    messages = []
    for subscription in chosen:
        key = domain.idempotency_key(subscription.pk, case.code, event.seq)
        messages.append({
            "kind": KIND, "destination": subscription.url, "idempotency_key": key,
            "subject_type": "case", "subject_id": case.code,
            "payload": domain.build_payload(
                key=key, event_type=event_type, occurred_at=event.at.astimezone(UTC).isoformat(), code=case.code,
                status=case.status, lead_unit=lead_unit, region=case.region_id, channel=case.channel.code,
                version=case.version,
            ),
        })
    return messages


def enqueue_webhooks(case: Case, event: CaseEvent) -> None:
    event_type = domain.event_type_for(event.action, event.from_status, event.to_status)
    if event_type is None or outbox.is_muted():  # muted: history being loaded (the demo's seed)
        return
    subscriptions = _active_subscriptions()
    if not subscriptions:
        return
    for message in _messages(case, event, event_type, subscriptions):
        outbox.enqueue(**message)


def _enqueue_batch(pairs) -> None:
    """The batch form: the same messages as `enqueue_webhooks` on each (case, event) in order; the subscriptions
    are read once and the messages written with one insert."""
    if outbox.is_muted():
        return
    typed = [(case, event, event_type) for case, event in pairs
             if (event_type := domain.event_type_for(event.action, event.from_status, event.to_status)) is not None]
    if not typed:
        return
    subscriptions = _active_subscriptions()
    if not subscriptions:
        return
    enqueue_outbox_many([message for case, event, event_type in typed
                         for message in _messages(case, event, event_type, subscriptions)])


enqueue_webhooks.for_batch = _enqueue_batch  # type: ignore[attr-defined]
