"""The data of the eight mediation documents, built from the matter and its mediation (a read: no writes).

Every party is printed with its full name, ID number, phone and address: the documents are signed by the parties
and kept in the case file (卷宗). Who may download them, and the audit of each download, is the actions' and
views' business (`actions.do_download_document`). Sex and age come from a resident ID number when the mediator
has not recorded them (`PartyDetail`).
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from yidi.cases.domain import OUTCOME_LABELS, Outcome
from yidi.cases.models import CaseEvent, CaseParty
from yidi.mediation import domain, queries
from yidi.mediation.documents import (
    AcceptanceRegister,
    AcceptanceSource,
    Agreement,
    Application,
    ClosingReport,
    Document,
    DocumentKind,
    OralAgreementRegister,
    Party,
    PartyKind,
    PartyRole,
    ReturnVisitRecord,
    RightsNotice,
    SessionRecord,
    Statement,
)
from yidi.mediation.domain import ObligationState
from yidi.mediation.models import AgreementForm, Mediation, MediationSession, PartyDetail

PERSONAL_FIELDS = ("id_number", "phone", "address")


@dataclass(frozen=True)
class DocumentSlot:
    """A document the mediation can produce: `key` names it in the history (one per session for 笔录)."""

    key: str
    kind: DocumentKind
    session: MediationSession | None = None

    @property
    def title(self) -> str:
        return f"{self.kind.label}（第{self.session.number}次）" if self.session else self.kind.label


def document_slots(mediation: Mediation) -> list[DocumentSlot]:
    """The documents in the order of the case file (卷内目录): one record per session, and the written agreement
    or the oral-agreement register, whichever form the agreement took."""
    agreement = getattr(mediation, "agreement", None)
    oral = agreement is not None and agreement.form == AgreementForm.ORAL
    slots = [
        DocumentSlot(DocumentKind.APPLICATION.value, DocumentKind.APPLICATION),
        DocumentSlot(DocumentKind.ACCEPTANCE_REGISTER.value, DocumentKind.ACCEPTANCE_REGISTER),
        DocumentSlot(DocumentKind.RIGHTS_NOTICE.value, DocumentKind.RIGHTS_NOTICE),
    ]
    slots += [
        DocumentSlot(f"session_record-{session.number}", DocumentKind.SESSION_RECORD, session)
        for session in mediation.sessions.order_by("number")
    ]
    if oral:
        slots.append(DocumentSlot(DocumentKind.ORAL_AGREEMENT_REGISTER.value, DocumentKind.ORAL_AGREEMENT_REGISTER))
    else:
        slots.append(DocumentSlot(DocumentKind.AGREEMENT.value, DocumentKind.AGREEMENT))
    slots += [
        DocumentSlot(DocumentKind.RETURN_VISIT_RECORD.value, DocumentKind.RETURN_VISIT_RECORD),
        DocumentSlot(DocumentKind.CLOSING_REPORT.value, DocumentKind.CLOSING_REPORT),
    ]
    return slots


def find_slot(mediation: Mediation, key: str) -> DocumentSlot | None:
    return next((slot for slot in document_slots(mediation) if slot.key == key), None)


class _Source:
    """What the builders read, fetched once per document."""

    def __init__(self, mediation: Mediation, today: date):
        self.mediation = mediation
        self.case = mediation.case
        self.today = today
        self.parties = queries.case_parties(self.case)
        details = {d.party_id: d for d in PartyDetail.objects.filter(party__in=self.parties)}
        self.printed = {p.pk: party_as_printed(p, details.get(p.pk), on=today) for p in self.parties}
        self.mediators = tuple(str(d.mediator) for d in queries.active_designations(mediation))
        self.agreement = getattr(mediation, "agreement", None)
        self.type_name = self.case.primary_type.name if self.case.primary_type_id else ""
        self._obligations = None

    @property
    def obligations(self) -> list:
        if self._obligations is None:
            self._obligations = queries.list_obligations(self.mediation, today=self.today)
        return self._obligations

    def all_parties(self) -> tuple[Party, ...]:
        return tuple(self.printed[p.pk] for p in self.parties)

    def subject(self) -> str:
        applicant = next((p.person.name for p in self.parties if p.role == "applicant"), "")
        respondent = next((p.person.name for p in self.parties if p.role == "respondent"), "")
        return domain.dispute_subject(applicant, respondent, self.type_name)


def party_as_printed(party: CaseParty, detail: PartyDetail | None, *, on: date) -> Party:
    person = party.person
    organisation = person.kind == "organisation"
    id_number = person.id_number or ""
    sex = (detail.sex if detail and detail.sex else domain.sex_from_id(id_number)) if not organisation else ""
    if detail is not None and detail.age is not None:
        age = detail.age
    else:
        age = None if organisation else domain.age_on(domain.birth_date_from_id(id_number), on)
    return Party(
        role=PartyRole(party.role),
        kind=PartyKind.ORGANISATION if organisation else PartyKind.PERSON,
        name=person.name,
        sex=sex,
        ethnicity=detail.ethnicity if detail else "",
        age=age,
        occupation=detail.occupation if detail else "",
        id_number="" if organisation else id_number,
        credit_code=person.credit_code if organisation else "",
        representative=detail.representative if detail else "",
        phone=person.phone or "",
        address=person.address or "",
        work_unit=detail.work_unit if detail else "",
    )


def personal_fields(data: Document) -> list[str]:
    """The personal data a document prints in full (for the audit of its downloads)."""
    parties = getattr(data, "parties", ())
    return [name for name in PERSONAL_FIELDS if any(getattr(party, name) for party in parties)]


def build_documents(mediation: Mediation, *, today: date | None = None) -> list[tuple[DocumentSlot, Document]]:
    """Every document the mediation can produce, with its data (the records are read once for all of them)."""
    source = _Source(mediation, today or timezone.localdate())
    return [(slot, build_document(slot, mediation, source=source)) for slot in document_slots(mediation)]


def build_document(slot: DocumentSlot, mediation: Mediation, *, today: date | None = None,
                   source: "_Source | None" = None) -> Document:
    """The document's data from the records; empty where nothing is recorded yet, so that `validate` names it."""
    source = source or _Source(mediation, today or timezone.localdate())
    builder = {
        DocumentKind.APPLICATION: _application,
        DocumentKind.ACCEPTANCE_REGISTER: _acceptance_register,
        DocumentKind.RIGHTS_NOTICE: _rights_notice,
        DocumentKind.SESSION_RECORD: _session_record,
        DocumentKind.AGREEMENT: _agreement,
        DocumentKind.ORAL_AGREEMENT_REGISTER: _oral_agreement_register,
        DocumentKind.RETURN_VISIT_RECORD: _return_visit_record,
        DocumentKind.CLOSING_REPORT: _closing_report,
    }[slot.kind]
    return builder(source, slot)


def _common(source: _Source) -> dict:
    return {"case_code": source.case.code, "committee": source.mediation.committee}


def _local_date(moment) -> date | None:
    return timezone.localtime(moment).date() if moment else None


def _application(source: _Source, slot: DocumentSlot) -> Application:
    return Application(
        **_common(source), parties=source.all_parties(), summary=source.case.description,
        requests=source.mediation.request_list, applied_on=source.mediation.applied_on,
    )


def _acceptance_register(source: _Source, slot: DocumentSlot) -> AcceptanceRegister:
    mediation = source.mediation
    return AcceptanceRegister(
        **_common(source), registered_on=_local_date(mediation.opened_at), source=AcceptanceSource(mediation.source),
        mediation_type=source.type_name, parties=source.all_parties(), summary=source.case.description,
        mediators=source.mediators, registered_by=str(mediation.opened_by),
    )


def _rights_notice(source: _Source, slot: DocumentSlot) -> RightsNotice:
    deliveries = list(source.mediation.rights_notices.all())
    notified = {delivery.party_id for delivery in deliveries}
    everyone_told = all(p.pk in notified for p in source.parties if p.role != "agent")
    return RightsNotice(
        **_common(source), parties=source.all_parties(), mediators=source.mediators,
        notified_on=max((d.delivered_on for d in deliveries), default=None) if everyone_told else None,
    )


def _session_record(source: _Source, slot: DocumentSlot) -> SessionRecord:
    session = slot.session
    present = set(session.party_ids)
    return SessionRecord(
        **_common(source), matter=source.subject(), started_at=timezone.localtime(session.started_at),
        ended_at=timezone.localtime(session.ended_at) if session.ended_at else None, place=session.place,
        mediators=source.mediators, recorder=session.recorder,
        parties=tuple(source.printed[p.pk] for p in source.parties if p.pk in present),
        attendees=tuple(a.strip() for a in session.attendees.replace(",", "、").split("、") if a.strip()),
        statements=tuple(Statement(speaker=s.get("speaker", ""), text=s.get("text", "")) for s in session.statements),
        result=session.result,
    )


def _agreement(source: _Source, slot: DocumentSlot) -> Agreement:
    agreement = source.agreement
    if agreement is None:
        return Agreement(**_common(source), agreement_number=source.mediation.number, parties=source.all_parties(),
                         mediators=source.mediators)
    last_session = source.mediation.sessions.order_by("-number").first()
    return Agreement(
        **_common(source), agreement_number=source.mediation.number, parties=source.all_parties(),
        facts=agreement.facts, disputed_issues=agreement.disputed_issues, responsibility=agreement.responsibility,
        agreed_terms=agreement.term_list, performance_manner=agreement.performance_manner,
        performance_place=agreement.performance_place, performance_period=agreement.performance_period,
        mediators=source.mediators, recorder=last_session.recorder if last_session else "",
        signed_on=_local_date(agreement.effective_at or agreement.drafted_at),
    )


def _oral_agreement_register(source: _Source, slot: DocumentSlot) -> OralAgreementRegister:
    agreement = source.agreement
    return OralAgreementRegister(
        **_common(source), agreed_on=_local_date(agreement.effective_at), parties=source.all_parties(),
        facts=agreement.facts, disputed_issues=agreement.disputed_issues, agreed_terms=agreement.term_list,
        performance_manner=agreement.performance_manner, performance_place=agreement.performance_place,
        performance_period=agreement.performance_period, mediators=source.mediators,
        registered_by=str(agreement.drafted_by),
    )


def performance_summary(source: _Source) -> str:
    """How the agreement has been performed, in one sentence."""
    mediation = source.mediation
    if mediation.status_enum is domain.MediationStatus.FAILED:
        return "调解不成，无履行事项"
    if mediation.status_enum is domain.MediationStatus.REFUSED:
        return "当事人拒绝调解，无履行事项"
    if source.agreement is None or source.agreement.effective_at is None:
        return ""
    rows = source.obligations
    if not rows:
        return "协议未登记履行义务"
    counts = {state: sum(1 for row in rows if row.state is state) for state in ObligationState}
    if counts[ObligationState.PERFORMED] == len(rows):
        last = max(row.obligation.performed_on for row in rows)
        return f"协议约定的{len(rows)}项义务已全部履行完毕（{domain.chinese_date(last)}）"
    parts = [f"{domain.OBLIGATION_STATE_LABELS[state]}{n}项" for state, n in counts.items() if n]
    return f"协议约定义务{len(rows)}项：" + "，".join(parts)


def _return_visit_record(source: _Source, slot: DocumentSlot) -> ReturnVisitRecord:
    visit = (
        CaseEvent.objects.filter(case=source.case, action="record_return_visit").order_by("-seq").first()
    )
    return ReturnVisitRecord(
        **_common(source), agreement_number=source.mediation.number if source.agreement else "",
        subject=source.subject(), parties=tuple(p for p in source.all_parties() if p.is_party),
        visited_on=_local_date(visit.at) if visit else None, visitors=(visit.actor_name,) if visit else (),
        performance=performance_summary(source), situation=visit.reason if visit else "",
    )


def _closing_report(source: _Source, slot: DocumentSlot) -> ClosingReport:
    mediation, case = source.mediation, source.case
    rows = source.obligations
    performed = rows and all(row.state is ObligationState.PERFORMED for row in rows)
    closed_on = _local_date(case.closed_at)
    if performed and closed_on is None:
        closed_on = max(row.obligation.performed_on for row in rows)
    return ClosingReport(
        **_common(source), file_number=mediation.number, filled_on=source.today, mediators=source.mediators,
        accepted_on=_local_date(mediation.opened_at), closed_on=closed_on, source=AcceptanceSource(mediation.source),
        mediation_type=source.type_name, parties=source.all_parties(),
        facts=source.agreement.facts if source.agreement else case.description,
        agreement_number=mediation.number if source.agreement else "", result=_result(mediation, case),
        performance=performance_summary(source),
    )


def _result(mediation: Mediation, case) -> str:
    status = mediation.status_enum
    if status is domain.MediationStatus.AGREED:
        form = "书面调解协议" if mediation.agreement.form == AgreementForm.WRITTEN else "口头调解协议"
        return f"达成{form}（{mediation.number}）"
    if status in (domain.MediationStatus.FAILED, domain.MediationStatus.REFUSED):
        outcome = OUTCOME_LABELS[Outcome.MEDIATION_FAILED if status is domain.MediationStatus.FAILED
                                 else Outcome.REFUSED_BY_PARTY]
        return f"{outcome}：{mediation.end_reason}；已告知当事人：{mediation.routes_told}"
    return ""
