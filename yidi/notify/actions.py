"""Notifications to the person, written inside the step that causes them.

- `notify_on_event` (an `EVENT_LISTENERS` entry of `yidi.cases.actions`): for an event that notifies, one text
  message per applicant with a mobile number, through the outbox, and one in-site message on the matter.
- `record_delivery` (a `DELIVERY_LISTENERS` entry of `yidi.integrations.jobs`): once such a message is sent or
  has finally failed, one timeline row (`notify_sent` / `notify_failed`) and one audit row on the matter.
"""

from datetime import datetime

from django.conf import settings

from yidi.cases.actions import add_event, audit_case
from yidi.cases.models import Case, CaseEvent, CaseParty, PartyRole
from yidi.core.deadlines import local_date
from yidi.integrations import actions as outbox
from yidi.integrations.models import OutboxMessage
from yidi.notify import domain
from yidi.notify.domain import Channel, MessageFacts, PartyContact
from yidi.notify.models import NotificationTemplate, SiteMessage

SOURCE = "notify"
SYSTEM_NAME = "系统（通知）"


def portal_url() -> str:
    return getattr(settings, "YIDI_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/") + "/p/"


def _facts(case: Case, event: CaseEvent) -> MessageFacts:
    data = event.data or {}
    unit = case.lead_unit or case.registering_unit
    starts_at = data.get("starts_at")
    when = domain.describe_when(datetime.fromisoformat(starts_at)) if starts_at else ""
    mode = data.get("session_mode", "")
    return MessageFacts(
        code=case.code, title=case.title, unit=unit.name if unit else "", unit_phone=unit.phone if unit else "",
        deadline=domain.describe_day(local_date(case.due_at)) if case.due_at else "",
        reason=event.reason, route=data.get("route_told", ""), when=when,
        place=domain.session_place(data.get("place", ""), mode, data.get("online_room", "")),
        mode=domain.SESSION_MODE_LABELS.get(mode, ""), portal_url=portal_url(),
    )


def texts_muted():
    """Keep the in-site messages but text nobody: for loading historical matters (the demo's seed, an import of
    old records). The outbox itself is muted (`yidi.integrations.actions.muted`), so nothing else goes out either."""
    return outbox.muted()


def notify_on_event(case: Case, event: CaseEvent) -> None:
    """Write the notifications of one timeline event (nothing for events that do not notify)."""
    keys = domain.templates_for_event(event.action)
    if not keys:
        return
    templates = {(t.key, t.channel): t.text for t in NotificationTemplate.objects.filter(key__in=keys, is_active=True)}
    if not templates:
        return
    parties = [
        PartyContact(p.person_id, p.role, p.person.name, p.person.phone)
        for p in CaseParty.objects.filter(case=case, role=PartyRole.APPLICANT).select_related("person")
    ]
    recipients = [] if outbox.is_muted() else domain.sms_recipients(parties)
    facts = _facts(case, event)
    for key in keys:
        sms = templates.get((key, Channel.SMS))
        for recipient in recipients if sms else []:
            outbox.enqueue(
                kind=Channel.SMS, destination=recipient.phone, text=domain.render(sms, facts),
                subject_type="case", subject_id=case.code, template=key,
                idempotency_key=f"notify:{case.code}:{event.seq}:{key}:sms:{recipient.person_id}",
                payload={"source": SOURCE, "event_seq": event.seq, "person": recipient.person_id},
            )
        site = templates.get((key, Channel.SITE)) or sms
        if site:
            SiteMessage.objects.create(case=case, template=key, text=domain.render(site, facts), created_at=event.at)


KIND_NAMES = {"sms": "短信", "site": "站内消息", "email": "电子邮件"}


def record_delivery(message: OutboxMessage, ok: bool) -> None:
    """One timeline row and one audit row on the matter for a delivered or finally failed notification."""
    if message.subject_type != "case" or (message.payload or {}).get("source") != SOURCE:
        return
    case = Case.objects.select_for_update().filter(code=message.subject_id).first()
    if case is None:
        return
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    action = "notify_sent" if ok else "notify_failed"
    data = {"channel": message.kind, "template": message.template, "recipient": message.masked_destination,
            "method": KIND_NAMES.get(message.kind, message.kind)}
    add_event(case, action, actor=None, from_status=case.status, data=data, system_name=SYSTEM_NAME)
    audit_case(case, action, actor=None, fields=["version"], data=data)
