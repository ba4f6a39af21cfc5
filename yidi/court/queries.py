"""Reads of the court exchange: a referral by the court's case number, and the exchange log (messages in and
out) of the matters a person may see."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from yidi.accounts import access
from yidi.cases.models import Case
from yidi.court.domain import ANSWER_STATE_LABELS, MESSAGE_TYPE_LABELS, AnswerState, MessageType
from yidi.court.models import Court, CourtMessage
from yidi.integrations.domain import MESSAGE_STATUS_LABELS
from yidi.integrations.models import OutboxMessage

KIND = "court"


def get_referred_case(court: Court, court_case_number: str) -> Case | None:
    message = (
        CourtMessage.objects.filter(court=court, type=MessageType.REFERRAL, court_case_number=court_case_number)
        .select_related("case").first()
    )
    return message.case if message else None


@dataclass(frozen=True)
class LogEntry:
    """One line of a matter's exchange log: a message in (from the court) or out (the outbox)."""

    direction: str  # "in" / "out"
    at: datetime
    case_code: str
    court: str
    type_label: str
    message_id: str
    state: str  # in: applied / awaiting_staff; out: pending / sent / failed
    state_label: str
    attempts: int = 0
    last_error: str = ""
    court_case_number: str = ""
    message_pk: int | None = None  # in: the CourtMessage (to record an answer awaiting staff)
    outbox_pk: int | None = None  # out: the OutboxMessage (its admin page has the attempt log and 重新发送)

    @property
    def is_awaiting_staff(self) -> bool:
        return self.direction == "in" and self.state == AnswerState.AWAITING_STAFF

    @property
    def is_failed(self) -> bool:
        return self.direction == "out" and self.state == "failed"


def _in_entry(message: CourtMessage) -> LogEntry:
    return LogEntry(
        direction="in", at=message.received_at, case_code=message.case.code, court=message.court.name,
        type_label=MESSAGE_TYPE_LABELS.get(message.type, message.type), message_id=message.message_id,
        state=message.state, state_label=ANSWER_STATE_LABELS.get(AnswerState(message.state), message.state),
        court_case_number=message.court_case_number, message_pk=message.pk,
    )


def _out_entry(message: OutboxMessage, courts: dict[str, str]) -> LogEntry:
    payload = message.payload or {}
    court = payload.get("court") or {}
    referral = payload.get("referral") or {}
    label = MESSAGE_TYPE_LABELS.get(payload.get("type", ""), payload.get("type", ""))
    if referral.get("result"):
        label = f"{label}：{referral['result']['result_label']}"
    elif referral.get("state_label"):
        label = f"{label}：{referral['state_label']}"
    return LogEntry(
        direction="out", at=message.created_at, case_code=message.subject_id,
        court=courts.get(court.get("code", ""), court.get("name", "")), type_label=label,
        message_id=message.idempotency_key, state=message.status, state_label=MESSAGE_STATUS_LABELS.get(
            message.status, message.status), attempts=message.attempts, last_error=message.last_error,
        court_case_number=referral.get("court_case_number", ""), outbox_pk=message.pk,
    )


def list_exchange(user, *, case_code: str = "", limit: int = 200) -> list[LogEntry]:
    """The latest exchanges (in and out, newest first) of the matters `user` may see, or of one matter."""
    visible = access.visible_cases(user)
    if case_code:
        visible = visible.filter(code=case_code)
    incoming = (
        CourtMessage.objects.filter(case__in=visible.values("pk")).select_related("case", "court")
        .order_by("-received_at", "-id")[:limit]
    )
    outgoing = OutboxMessage.objects.filter(kind=KIND, subject_type="case").order_by("-created_at", "-id")
    if case_code:
        outgoing = outgoing.filter(subject_id=case_code)
    else:
        outgoing = outgoing.filter(subject_id__in=visible.values("code"))
    courts = dict(Court.objects.values_list("code", "name"))
    entries = [_in_entry(m) for m in incoming] + [_out_entry(m, courts) for m in outgoing[:limit]]
    return sorted(entries, key=lambda e: (e.at, e.direction), reverse=True)[:limit]


def count_attention(user) -> dict[str, int]:
    """How many answers await staff and how many messages to courts finally failed, in `user`'s matters."""
    visible = access.visible_cases(user)
    awaiting = CourtMessage.objects.filter(case__in=visible.values("pk"), state=AnswerState.AWAITING_STAFF).count()
    outbox = OutboxMessage.objects.filter(kind=KIND, subject_type="case", subject_id__in=visible.values("code"))
    counts = outbox.aggregate(failed=Count("pk", filter=Q(status="failed")), pending=Count("pk", filter=Q(
        status="pending")))
    return {"awaiting": awaiting, "failed": counts["failed"], "pending": counts["pending"]}


def get_case(user, code: str) -> Case:
    return access.get_case_for_user(user, code)


def case_page_link(case: Case, user) -> tuple[str, str] | None:
    """The matter page's link to its court exchange: for a matter a court referred, or one with court messages."""
    from django.urls import reverse

    referred = case.channel.code.startswith("court_") if case.channel_id else False
    if referred or CourtMessage.objects.filter(case=case).exists() or OutboxMessage.objects.filter(
            kind="court", subject_type="case", subject_id=case.code).exists():
        return "诉调对接记录", reverse("court_case", args=[case.code])
    return None
