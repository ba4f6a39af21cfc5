"""Assertions and builders shared by the mediation tests."""

from datetime import datetime
from zoneinfo import ZoneInfo

from yidi.accounts.models import Unit
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, HandlingMode
from yidi.cases.models import Case
from yidi.cases.tests.helpers import snapshot
from yidi.core import clock
from yidi.mediation.models import (
    Agreement,
    AgreementSignature,
    ConflictOfInterest,
    Designation,
    GeneratedDocument,
    JudicialConfirmation,
    Mediation,
    MediationSession,
    MediatorRating,
    Obligation,
    PartyDetail,
    PerformanceRecord,
    PerformanceUrging,
    RightsNoticeDelivery,
)

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def _rows(model, **filters) -> list:
    return sorted(model.objects.filter(**filters).values_list(), key=lambda row: row[0])


def mediation_snapshot(case: Case) -> dict:
    """Everything a mediation action may change, to prove that a refused one changed nothing."""
    return {
        **snapshot(case),
        "deadlines": list(case.deadlines.order_by("id").values_list("stage", "due_at", "met_at", "cancelled_at")),
        "mediations": _rows(Mediation, case=case),
        "designations": _rows(Designation, mediation__case=case),
        "conflicts": _rows(ConflictOfInterest),
        "details": _rows(PartyDetail, party__case=case),
        "notices": _rows(RightsNoticeDelivery, mediation__case=case),
        "sessions": _rows(MediationSession, mediation__case=case),
        "agreements": _rows(Agreement, mediation__case=case),
        "signatures": _rows(AgreementSignature, agreement__mediation__case=case),
        "confirmations": _rows(JudicialConfirmation, agreement__mediation__case=case),
        "obligations": _rows(Obligation, agreement__mediation__case=case),
        "performance": _rows(PerformanceRecord, obligation__agreement__mediation__case=case),
        "urgings": _rows(PerformanceUrging, obligation__agreement__mediation__case=case),
        "ratings": _rows(MediatorRating, mediation__case=case),
        "documents": _rows(GeneratedDocument, mediation__case=case),
    }


def matter_in_mediation(registrar, dispatcher, mediator, *, when: datetime | None = None, **overrides) -> Case:
    """A neighbour dispute of 枫源村 in hand by mediation, led by 枫源村人民调解委员会 (the persona's committee)."""
    with clock.at(when or clock.now()):
        case = make_case(registrar, **overrides)
        return advance_case(case, CaseStatus.IN_PROGRESS, dispatcher=dispatcher, handler=mediator,
                            lead_unit=Unit.objects.get(code="fy-committee"), mode=HandlingMode.MEDIATION)
