"""Messages to courts, written in the transaction of the step that causes them (an `EVENT_LISTENERS` entry of
`yidi.cases.actions`, registered in `CourtConfig.ready`).

Which step sends what (the court is the active `Court` whose name is the one staff wrote on the step):
- a hand-off to court (`divert` with kind `court_filing`, after a failed mediation) → `filing` (起诉材料);
- an application for judicial confirmation (`request_judicial_confirmation`) → `confirmation_application`;
- a court's referral recorded (`record_court_referral`) → `referral_status` "accepted";
- a referred matter concluded (any step into 已出结果) → `referral_status` with the mediation's result.
A step naming a court that is not configured sends nothing (the exchange stays on paper).

The outbox row stores the message without the parties' identity data (`parties` is `null`): `complete` fills
it in, from the matter's encrypted records, when the transport sends the message, so no ID number or phone sits
in clear text in the outbox.
"""

from datetime import UTC

from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.court import domain
from yidi.court.domain import MessageType
from yidi.court.models import Court
from yidi.integrations import actions as outbox
from yidi.mediation.domain import INCOMING_KINDS, HandOffKind
from yidi.mediation.models import GeneratedDocument, HandOff, JudicialConfirmation, Mediation

KIND = "court"
CONCLUDED = "concluded"


def find_court(name: str) -> Court | None:
    name = (name or "").strip()
    return Court.objects.filter(name=name, is_active=True).first() if name else None


def _iso(moment) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _day(moment) -> str | None:
    return local_date(moment).isoformat() if moment else None


def _case(case: Case) -> dict:
    return {
        "code": case.code, "title": case.title,
        "mediation_type": {"code": case.primary_type.code, "name": case.primary_type.name} if case.primary_type_id
        else None,
        "region": {"code": case.region_id, "name": case.region.name}, "address": case.address,
        "registered_on": _day(case.registered_at), "description": case.description,
    }


def _latest_mediation(case: Case) -> Mediation | None:
    return Mediation.objects.filter(case=case).order_by("-opened_at", "-id").first()


def _document(mediation: Mediation | None, key: str) -> dict | None:
    document = (
        GeneratedDocument.objects.filter(mediation=mediation, key=key).order_by("-version").first() if mediation
        else None
    )
    if document is None:
        return None
    return {"title": document.title, "version": document.version, "pdf_sha256": document.pdf_sha256}


def _mediators(mediation: Mediation) -> list[dict]:
    designations = mediation.designations.filter(ended_at=None).select_related("mediator__user__unit").order_by(
        "-is_lead", "id")
    return [{"name": str(d.mediator), "is_lead": d.is_lead,
             "organisation": d.mediator.user.unit.name if d.mediator.user.unit_id else ""} for d in designations]


def _agreement(mediation: Mediation) -> dict | None:
    agreement = getattr(mediation, "agreement", None)
    if agreement is None or agreement.effective_at is None:
        return None
    key = "agreement" if agreement.form == "written" else "oral_agreement_register"
    return {
        "number": mediation.number, "form": agreement.form, "effective_at": _iso(agreement.effective_at),
        "facts": agreement.facts, "disputed_issues": agreement.disputed_issues,
        "responsibility": agreement.responsibility, "terms": list(agreement.term_list),
        "performance_manner": agreement.performance_manner, "performance_place": agreement.performance_place,
        "performance_period": agreement.performance_period, "document": _document(mediation, key),
    }


def filing_body(case: Case, handoff: HandOff) -> dict:
    """起诉材料: the matter, why mediation failed, the parties (filled in when sent), claims and documents."""
    mediation = _latest_mediation(case)
    documents = GeneratedDocument.objects.filter(mediation__case=case).select_related("session").order_by("key",
                                                                                                           "-version")
    latest: dict[tuple[int, str], GeneratedDocument] = {}
    for document in documents:
        latest.setdefault((document.mediation_id, document.key), document)
    return {
        "case": _case(case),
        "filing": {
            "handoff": handoff.pk, "reason": handoff.reason, "sent_on": _day(handoff.sent_at),
            "package_sha256": handoff.package_sha256,
            "claims": list(filter(None, (line.strip() for line in (mediation.requests if mediation else "").split("\n")))),
        },
        "mediation": None if mediation is None else {
            "number": mediation.number, "committee": mediation.committee, "opened_on": _day(mediation.opened_at),
            "ended_on": _day(mediation.ended_at), "failure_reason": mediation.end_reason,
            "routes_told": mediation.routes_told, "mediators": _mediators(mediation),
        },
        "parties": None,
        "documents": [{"title": d.title, "version": d.version, "pdf_sha256": d.pdf_sha256} for d in latest.values()],
        "attachments": [{"name": a.original_name, "sha256": a.sha256, "size": a.size}
                        for a in case.attachments.order_by("id")],
    }


def confirmation_body(case: Case, confirmation: JudicialConfirmation) -> dict:
    """司法确认申请: the agreement, the parties (filled in when sent), the mediators and the 30-day window."""
    mediation = confirmation.agreement.mediation
    return {
        "case": _case(case),
        "application": {
            "applied_on": confirmation.applied_on.isoformat(), "window_days": domain.CONFIRMATION_WINDOW_DAYS,
            "window_due_at": _iso(confirmation.window_due_at), "joint": True,
        },
        "agreement": _agreement(mediation),
        "committee": mediation.committee,
        "mediators": _mediators(mediation),
        "parties": None,
    }


def incoming_referral(case: Case) -> HandOff | None:
    return HandOff.objects.filter(case=case, kind__in=[k.value for k in INCOMING_KINDS]).order_by("-sent_at",
                                                                                                  "-id").first()


def referral_status_body(case: Case, handoff: HandOff, *, report: str = "status") -> dict:
    """The referral's state as the court sees it (also the answer of GET /api/v1/court/referrals/{number}).
    `report` says why it is sent: "accepted" (recorded on arrival), "result" (mediation ended) or "status"."""
    state = domain.referral_state(case.status)
    mediation = _latest_mediation(case)
    result = None
    if state == "concluded" and case.outcome:
        code = domain.result_for(case.outcome)
        result = {
            "result": code, "result_label": domain.RESULT_LABELS[code], "outcome": case.outcome,
            "concluded_at": _iso(case.concluded_at),
            "reason": mediation.end_reason if mediation and code in ("failure", "refusal") else "",
            "routes_told": mediation.routes_told if mediation and code in ("failure", "refusal") else "",
            "agreement": _agreement(mediation) if mediation and code == "agreement" else None,
        }
    deadline = case.deadlines.filter(stage="handle", cancelled_at=None).order_by("-started_at", "-id").first()
    return {
        "referral": {
            "report": report, "court_case_number": handoff.reference_number, "kind": handoff.kind,
            "kind_label": HandOffKind(handoff.kind).label, "received_on": _day_or(handoff.received_on),
            "case_code": case.code, "state": state, "state_label": domain.REFERRAL_STATE_LABELS[state],
            "due_at": _iso(deadline.due_at) if deadline else None,
            "mediation_number": mediation.number if mediation else "",
            "result": result,
        },
    }


def _day_or(day) -> str | None:
    return day.isoformat() if day else None


def complete(payload: dict, case: Case) -> dict:
    """The message as sent: `parties` filled in from the matter (the court is entitled to the full data)."""
    if payload.get("parties", "absent") is not None:
        return payload
    parties = [
        {"role": p.role, "kind": p.person.kind, "name": p.person.name, "id_number": p.person.id_number or "",
         "phone": p.person.phone or "", "address": p.person.address or "", "credit_code": p.person.credit_code or ""}
        for p in case.parties.select_related("person").order_by("position", "id")
    ]
    return {**payload, "parties": parties}


def _enqueue(court: Court, case: Case, event: CaseEvent, message_type: MessageType, body: dict) -> None:
    key = domain.idempotency_key(court.code, case.code, event.seq)
    payload = {**domain.envelope(message_type, key=key, sent_at=_iso(clock.now()), court_code=court.code,
                                 court_name=court.name), **body}
    outbox.enqueue(kind=KIND, destination=court.code, idempotency_key=key, payload=payload, subject_type="case",
                   subject_id=case.code, template=message_type.value)


def on_case_event(case: Case, event: CaseEvent) -> None:
    """Enqueue the court message a timeline step causes, if any (see the module's rules)."""
    if outbox.is_muted():
        return
    data = event.data or {}
    if event.action == "divert" and data.get("kind") == HandOffKind.COURT_FILING:
        court = find_court(data.get("receiver", ""))
        handoff = HandOff.objects.filter(pk=data.get("handoff"), case=case).first()
        if court and handoff:
            _enqueue(court, case, event, MessageType.FILING, filing_body(case, handoff))
    elif event.action == "request_judicial_confirmation":
        court = find_court(data.get("court", ""))
        confirmation = (
            JudicialConfirmation.objects.filter(agreement__mediation__case=case).select_related("agreement__mediation")
            .order_by("-id").first()
        )
        if court and confirmation and confirmation.court == court.name:
            _enqueue(court, case, event, MessageType.CONFIRMATION_APPLICATION, confirmation_body(case, confirmation))
    elif event.action == "record_court_referral" or (
        event.to_status == CONCLUDED and event.from_status != CONCLUDED
    ):
        handoff = incoming_referral(case)
        court = find_court(handoff.receiver) if handoff else None
        if court:
            report = "accepted" if event.action == "record_court_referral" else "result"
            _enqueue(court, case, event, MessageType.REFERRAL_STATUS, referral_status_body(case, handoff, report=report))
