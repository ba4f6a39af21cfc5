"""Reads of notifications: the in-site messages a person sees on the portal, the outbox of a matter for staff.
The caller has already got the matter through `accounts.access` (staff) or the portal's verification."""

from yidi.cases.models import Case
from yidi.integrations.models import OutboxMessage
from yidi.notify.models import SiteMessage


def messages_for_case(case: Case) -> list[SiteMessage]:
    """The matter's in-site messages, newest first."""
    return list(SiteMessage.objects.filter(case=case).order_by("-created_at", "-id"))


def outbox_for_case(code: str) -> list[OutboxMessage]:
    """Every outbound message about the matter (any status), newest first; show `masked_destination` only."""
    return list(OutboxMessage.objects.filter(subject_type="case", subject_id=code).order_by("-created_at", "-id"))
