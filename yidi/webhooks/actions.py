"""Webhooks written inside the step that causes them.

`enqueue_webhooks` (an `EVENT_LISTENERS` entry of `yidi.cases.actions`) runs in the step's transaction: for a
timeline row that is a webhook event, one outbox message (kind `webhook`) per active subscription that lists the
event type and whose region scope covers the matter. The outbox delivers it after the commit, signed by
`transports.WebhookTransport`, retried with back-off, and finally failed for the administrator to send again.
"""

from datetime import UTC

from yidi.cases.models import Case, CaseEvent
from yidi.integrations import actions as outbox
from yidi.webhooks import domain
from yidi.webhooks.models import WebhookSubscription

KIND = "webhook"


def enqueue_webhooks(case: Case, event: CaseEvent) -> None:
    event_type = domain.event_type_for(event.action, event.from_status, event.to_status)
    if event_type is None or outbox.is_muted():  # muted: history being loaded (the demo's seed)
        return
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(is_active=True).only("id", "url", "event_types",
                                                                                   "region_scope")
        if event_type in subscription.event_types and domain.covers_region(subscription.region_scope, case.region_id)
    ]
    if not subscriptions:
        return
    lead_unit = case.lead_unit.code if case.lead_unit_id else ""
    for subscription in subscriptions:
        key = domain.idempotency_key(subscription.pk, case.code, event.seq)
        outbox.enqueue(
            kind=KIND, destination=subscription.url, idempotency_key=key,
            subject_type="case", subject_id=case.code,
            payload=domain.build_payload(
                key=key, event_type=event_type, occurred_at=event.at.astimezone(UTC).isoformat(), code=case.code,
                status=case.status, lead_unit=lead_unit, region=case.region_id, channel=case.channel.code,
                version=case.version,
            ),
        )
