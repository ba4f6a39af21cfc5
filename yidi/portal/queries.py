"""What the portal reads: the county's places for the form, and the public view of a matter.

The public view shows only what the person who reported the matter should see (公开监督):
- the status in plain words, with the reason and the other route when the matter was not accepted;
- the responsible unit and its office phone, the next deadline (a date), mediation appointments, the messages
  sent to the person, the documents made for them (listed, not downloadable: see `list_documents`);
- a simplified timeline (`domain.PUBLIC_EVENT_LABELS`) without staff names, reasons, notes or internal grades;
- the person's own data masked; the other party by name only.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from yidi.cases.domain import EVALUATION_LABELS, OPEN_STATUSES, OUTCOME_LABELS, CaseStatus
from yidi.cases.models import Case, CaseEvent
from yidi.core.masking import PersonalKind, mask, mask_in_text
from yidi.evaluation import queries as evaluation
from yidi.mediation.models import GeneratedDocument
from yidi.mediation.queries import upcoming_appointments
from yidi.notify.queries import messages_for_case
from yidi.portal import domain
from yidi.portal.models import MediationMode, PortalSubmission
from yidi.regions.domain import code_range
from yidi.regions.models import Region


def list_townships(county_code: str) -> list[Region]:
    low, high = code_range(county_code)
    return list(Region.objects.filter(code__gte=low, code__lt=high, level="township", is_active=True).order_by("code"))


def list_villages(county_code: str) -> list[Region]:
    low, high = code_range(county_code)
    return list(Region.objects.filter(code__gte=low, code__lt=high, level="village", is_active=True).order_by("code"))


@dataclass(frozen=True)
class PublicStep:
    label: str
    at: object
    detail: str = ""


@dataclass
class PublicView:
    case: Case
    status: domain.PlainStatus
    decline_reason: str = ""
    decline_route: str = ""
    unit_name: str = ""
    unit_phone: str = ""
    next_deadline_on: date | None = None
    applicant_name: str = ""
    applicant_phone: str = ""
    other_parties: list[str] = field(default_factory=list)
    description: str = ""
    mediation_mode: str = ""
    steps: list[PublicStep] = field(default_factory=list)
    appointments: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    is_open: bool = False
    reopened: bool = False
    attachment_count: int = 0


def _public_steps(events: list[CaseEvent]) -> list[PublicStep]:
    steps = []
    for event in events:
        label = domain.PUBLIC_EVENT_LABELS.get(event.action)
        if label is None:
            continue
        detail = ""
        if event.action == "assign":
            detail = event.data.get("lead_unit_name", "")
        elif event.action in ("conclude", "resolve_on_spot"):
            detail = OUTCOME_LABELS.get(event.data.get("outcome", ""), "")
        elif event.action == "evaluate":
            detail = EVALUATION_LABELS.get(event.data.get("evaluation", ""), "")
        elif event.action == "reopen":
            detail = "事项重新办理"
        elif event.action == "register":
            detail = "网上提交" if event.data.get("channel") == "online" else ""
        steps.append(PublicStep(label, event.at, detail))
    return steps


def list_appointments(case: Case) -> list:
    return list(upcoming_appointments(case))


def list_messages(case: Case) -> list:
    return list(messages_for_case(case))


# Documents made for the person. They print every party's particulars (names, ID numbers, addresses, the other
# party's statements in the records), so the portal lists them and says where to collect them; it never serves
# the files (the staff pages audit every download of them).
CITIZEN_DOCUMENT_KINDS = ("rights_notice", "agreement", "oral_agreement_register")


def list_documents(case: Case) -> list[dict]:
    latest: dict[str, dict] = {}
    rows = GeneratedDocument.objects.filter(mediation__case=case, kind__in=CITIZEN_DOCUMENT_KINDS).order_by(
        "key", "-version"
    )
    for document in rows:
        latest.setdefault(document.key, {"title": document.title, "generated_at": document.generated_at})
    return list(latest.values())


def evaluation_state(case: Case) -> dict:
    return dict(evaluation.evaluation_state(case))


def is_evaluation_open(state: dict) -> bool:
    return bool(state.get("is_open"))


def get_public_view(case: Case) -> PublicView:
    case = Case.objects.select_related("lead_unit", "registering_unit").get(pk=case.pk)
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    view = PublicView(case=case, status=domain.plain_status(
        case.status_enum, handling_mode=case.handling_mode, outcome=case.outcome))
    if case.status_enum == CaseStatus.NOT_ACCEPTED:
        decline = next((e for e in reversed(events) if e.action == "decline"), None)
        if decline is not None:
            view.decline_reason = mask_in_text(decline.reason)
            view.decline_route = mask_in_text(decline.data.get("route_told", ""))
    unit = case.lead_unit or case.registering_unit
    view.unit_name, view.unit_phone = unit.name, unit.phone
    view.is_open = case.status_enum in OPEN_STATUSES
    if view.is_open and case.due_at:
        view.next_deadline_on = timezone.localdate(case.due_at)
    for party in case.parties.select_related("person").order_by("position", "id"):
        if party.role == "applicant" and not view.applicant_name:
            view.applicant_name = mask(party.person.name, PersonalKind.NAME)
            view.applicant_phone = mask(party.person.phone, PersonalKind.PHONE)
        elif party.role in ("respondent", "third_party"):
            view.other_parties.append(party.person.name)
    view.description = mask_in_text(case.description)
    submission = PortalSubmission.objects.filter(case=case).first()
    if submission is not None:
        view.mediation_mode = MediationMode(submission.mediation_mode).label
    view.steps = _public_steps(events)
    view.reopened = view.is_open and any(e.action == "reopen" for e in events)
    view.appointments = list_appointments(case)
    view.messages = list_messages(case)
    view.documents = list_documents(case)
    view.attachment_count = case.attachments.count()
    return view
