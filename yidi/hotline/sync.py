"""Status sync back to the 12345 hotline (工单回传): each step of a matter that came from a 12345 ticket that the
hotline platform must know — accepted or not (with the reason and the route told), assigned, signed for, the
result, closed, reopened — is written to the outbox in the step's own transaction, as one message of kind
`hotline` keyed by ticket and step, so the platform sees each step once even when a delivery is retried.

The transport for `hotline` is the deployment's adapter to its 12345 platform (`YIDI_OUTBOX_TRANSPORTS`,
e.g. `hotline=yidi.webhooks.transports.…` or its own); without one, messages go to the log.
"""

from yidi.cases.domain import ACTION_LABELS, OUTCOME_LABELS, STATUS_LABELS, CaseAction, Outcome
from yidi.cases.models import Case, CaseEvent, Contact
from yidi.integrations import actions as outbox

CHANNEL_CODE = "hotline_12345"
KIND = "hotline"
SYNCED = frozenset({
    CaseAction.ACCEPT, CaseAction.DECLINE, CaseAction.ASSIGN, CaseAction.SIGN, CaseAction.CONCLUDE,
    CaseAction.RESOLVE_ON_SPOT, CaseAction.CLOSE, CaseAction.REOPEN,
})


def ticket_of(case: Case) -> str:
    """The 12345 ticket number the matter was registered from ('' when it did not come from the hotline)."""
    if case.channel.code != CHANNEL_CODE:
        return ""
    contact = (
        Contact.objects.filter(case=case, channel__code=CHANNEL_CODE).exclude(external_ref="")
        .order_by("contacted_at", "id").values_list("external_ref", flat=True).first()
    )
    return contact or ""


def status_message(case: Case, event: CaseEvent, ticket: str) -> tuple[str, dict]:
    """(text, payload) of one step for the hotline platform: no personal data, only the step and the unit."""
    step = ACTION_LABELS[CaseAction(event.action)]
    unit = case.lead_unit.name if case.lead_unit_id else ""
    payload = {
        "ticket": ticket, "case_code": case.code, "step": event.action, "step_name": step,
        "status": case.status, "status_name": STATUS_LABELS[case.status_enum], "unit": unit,
        "at": event.at.isoformat(), "seq": event.seq,
    }
    if event.action == CaseAction.DECLINE:
        payload["reason"], payload["route_told"] = event.reason, event.data.get("route_told", "")
    if case.outcome and event.action in (CaseAction.CONCLUDE, CaseAction.RESOLVE_ON_SPOT):
        payload["outcome"] = OUTCOME_LABELS[Outcome(case.outcome)]
    text = f"12345工单{ticket}：{step}" + (f"（{unit}）" if unit else "") + f"，事项编码{case.code}"
    return text, payload


def on_case_event(case: Case, event: CaseEvent) -> None:
    if event.action not in SYNCED or outbox.is_muted():
        return
    ticket = ticket_of(case)
    if not ticket:
        return
    text, payload = status_message(case, event, ticket)
    outbox.enqueue(
        kind=KIND, destination="12345", idempotency_key=f"hotline:{ticket}:{event.seq}", text=text, payload=payload,
        subject_type="case", subject_id=case.code, template=f"hotline_{event.action}",
    )
