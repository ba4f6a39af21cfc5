"""The mediation part of the native API (/api/v1/cases/{code}/mediations), read only (scope `mediation:read`).

A matter's mediations (sessions, booked appointments, designated mediators, outcome), each agreement's state
(form, signatures recorded of those required, effective date, obligations; never the document bytes), the judicial
confirmation, and the matter's hand-offs (诉调、仲调、访调对接) with their receipts and outcomes.

Rules: the matter comes through `accounts.access` (out of scope → 404 like a missing one); free texts (results,
reasons, decisions) are sent with ID and mobile numbers masked; parties are not listed here (the matter's detail
applies the personal-data rule to them).
"""

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Router, Schema

from yidi.accounts import access
from yidi.accounts.api_auth import client_auth, client_throttle
from yidi.accounts.models import ApiScope
from yidi.cases.schemas import CodeName, ErrorOut
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.core.masking import mask_in_text
from yidi.mediation import domain, queries
from yidi.mediation.documents.domain import ACCEPTANCE_SOURCE_LABELS
from yidi.mediation.models import (
    AgreementForm,
    AppointmentStatus,
    HandOff,
    Mediation,
    RulingResult,
    SessionKind,
    SessionMode,
)

router = Router(tags=["调解与对接"], throttle=client_throttle())
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}
AGREEMENT_STATUS_LABELS = {"signing": "待签署", "effective": "已生效"}


class MediatorOut(Schema):
    name: str
    unit: CodeName | None
    is_lead: bool
    designated_at: datetime
    ended_at: datetime | None


class SessionOut(Schema):
    number: int
    kind: str
    kind_label: str
    mode: str
    mode_label: str
    place: str
    started_at: datetime
    ended_at: datetime | None
    result: str


class AppointmentOut(Schema):
    id: int
    starts_at: datetime
    place: str
    mode: str
    mode_label: str
    status: str
    status_label: str
    cancelled_at: datetime | None
    cancel_reason: str


class ObligationOut(Schema):
    description: str
    amount: str | None
    due_on: date
    performed_on: date | None
    state: str
    state_label: str


class JudicialConfirmationOut(Schema):
    court: str
    applied_on: date
    window_due_at: datetime
    accepted_on: date | None
    number: str
    ruling: str
    ruling_label: str
    ruled_on: date | None


class AgreementOut(Schema):
    form: str
    form_label: str
    status: str
    status_label: str
    drafted_at: datetime
    effective_at: datetime | None
    signatures_recorded: int
    signatures_required: int
    judicial_confirmation_due_at: datetime | None
    judicial_confirmation: JudicialConfirmationOut | None
    obligations: list[ObligationOut]


class MediationOut(Schema):
    number: str
    status: str
    status_label: str
    is_open: bool
    committee: str
    source: str
    source_label: str
    opened_at: datetime
    notified_at: datetime | None
    consented_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    mediators: list[MediatorOut]
    sessions: list[SessionOut]
    appointments: list[AppointmentOut]
    agreement: AgreementOut | None


class HandOffOut(Schema):
    id: int
    kind: str
    kind_label: str
    direction: str
    status: str
    status_label: str
    receiver: str
    sent_at: datetime
    received_on: date | None
    reference_number: str
    decision: str
    opinion: str
    opinion_label: str
    decided_on: date | None
    outcome_note: str
    review_requested_on: date | None
    review_opinion: str
    review_answered_on: date | None
    recheck_requested_on: date | None
    recheck_opinion: str
    recheck_answered_on: date | None


class CaseMediationsOut(Schema):
    code: str
    mediations: list[MediationOut]
    handoffs: list[HandOffOut]


def _opinion_label(value: str) -> str:
    return domain.PETITION_OPINION_LABELS.get(domain.PetitionOpinion(value), "") if value else ""


def _agreement(mediation: Mediation) -> dict | None:
    agreement = getattr(mediation, "agreement", None)
    if agreement is None:
        return None
    written = agreement.form == AgreementForm.WRITTEN
    status = "effective" if agreement.effective_at else "signing"
    confirmation = getattr(agreement, "judicial_confirmation", None)
    window = queries.judicial_confirmation_window(mediation.case) if agreement.effective_at and written else None
    today = local_date(clock.now())
    return {
        "form": agreement.form, "form_label": AgreementForm(agreement.form).label, "status": status,
        "status_label": AGREEMENT_STATUS_LABELS[status], "drafted_at": agreement.drafted_at,
        "effective_at": agreement.effective_at, "signatures_recorded": agreement.signatures.count(),
        "signatures_required": len(queries.required_signers(mediation)) if written else 0,
        "judicial_confirmation_due_at": window.due_at if window is not None else None,
        "judicial_confirmation": None if confirmation is None else {
            "court": confirmation.court, "applied_on": confirmation.applied_on,
            "window_due_at": confirmation.window_due_at, "accepted_on": confirmation.accepted_on,
            "number": confirmation.number, "ruling": confirmation.ruling,
            "ruling_label": RulingResult(confirmation.ruling).label if confirmation.ruling else "",
            "ruled_on": confirmation.ruled_on,
        },
        "obligations": [
            {"description": mask_in_text(row.obligation.description),
             "amount": str(row.obligation.amount) if row.obligation.amount is not None else None,
             "due_on": row.obligation.due_on, "performed_on": row.obligation.performed_on, "state": row.state.value,
             "state_label": row.state_label}
            for row in queries.list_obligations(mediation, today=today)
        ],
    }


def _mediation(mediation: Mediation) -> dict:
    designations = mediation.designations.select_related("mediator__user__unit").order_by("-is_lead", "id")
    return {
        "number": mediation.number, "status": mediation.status, "status_label": mediation.status_enum.label,
        "is_open": mediation.status_enum in domain.OPEN_MEDIATION_STATUSES, "committee": mediation.committee,
        "source": mediation.source, "source_label": ACCEPTANCE_SOURCE_LABELS.get(mediation.source, mediation.source),
        "opened_at": mediation.opened_at, "notified_at": mediation.notified_at,
        "consented_at": mediation.consented_at, "ended_at": mediation.ended_at,
        "end_reason": mask_in_text(mediation.end_reason),
        "mediators": [
            {"name": str(d.mediator), "is_lead": d.is_lead, "designated_at": d.designated_at, "ended_at": d.ended_at,
             "unit": None if d.mediator.user.unit is None else {
                 "code": d.mediator.user.unit.code, "name": d.mediator.user.unit.name}}
            for d in designations
        ],
        "sessions": [
            {"number": s.number, "kind": s.kind, "kind_label": SessionKind(s.kind).label, "mode": s.mode,
             "mode_label": SessionMode(s.mode).label, "place": s.place, "started_at": s.started_at,
             "ended_at": s.ended_at, "result": mask_in_text(s.result)}
            for s in mediation.sessions.order_by("number")
        ],
        "appointments": [
            {"id": a.pk, "starts_at": a.starts_at, "place": a.place, "mode": a.mode,
             "mode_label": SessionMode(a.mode).label, "status": a.status,
             "status_label": AppointmentStatus(a.status).label, "cancelled_at": a.cancelled_at,
             "cancel_reason": mask_in_text(a.cancel_reason)}
            for a in mediation.appointments.order_by("starts_at", "id")
        ],
        "agreement": _agreement(mediation),
    }


def _handoff(handoff: HandOff) -> dict:
    return {
        "id": handoff.pk, "kind": handoff.kind, "kind_label": handoff.kind_enum.label,
        "direction": "incoming" if handoff.is_incoming else "outgoing", "status": handoff.status,
        "status_label": domain.HANDOFF_STATUS_LABELS[domain.HandOffStatus(handoff.status)],
        "receiver": handoff.receiver, "sent_at": handoff.sent_at, "received_on": handoff.received_on,
        "reference_number": handoff.reference_number, "decision": mask_in_text(handoff.decision),
        "opinion": handoff.opinion, "opinion_label": _opinion_label(handoff.opinion),
        "decided_on": handoff.decided_on, "outcome_note": mask_in_text(handoff.outcome_note),
        "review_requested_on": handoff.review_requested_on, "review_opinion": handoff.review_opinion,
        "review_answered_on": handoff.review_answered_on, "recheck_requested_on": handoff.recheck_requested_on,
        "recheck_opinion": handoff.recheck_opinion, "recheck_answered_on": handoff.recheck_answered_on,
    }


@router.get("/cases/{code}/mediations", response={200: CaseMediationsOut, **ERRORS},
            auth=client_auth(ApiScope.MEDIATION_READ), url_name="api_case_mediations",
            summary="事项的调解（笔录、预约、调解员、协议与签署、司法确认）和对接移送")
def get_case_mediations(request: HttpRequest, code: str):
    case = access.get_case_for_user(request.auth.user, code)
    mediations = Mediation.objects.filter(case=case).select_related("case").order_by("opened_at", "id")
    handoffs = HandOff.objects.filter(case=case).order_by("sent_at", "id")
    return {"code": case.code, "mediations": [_mediation(m) for m in mediations],
            "handoffs": [_handoff(h) for h in handoffs]}
