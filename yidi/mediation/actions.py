"""Every write of a mediation. Each `do_*` function is one use case in one transaction: it locks the matter,
checks who acts (`domain.denial_reason`: a designated mediator or the lead unit, a dispatcher for designation)
and the mediation's and the matter's status, writes, and appends exactly one timeline event on the matter and one
audit row; a refused action changes nothing.

The outcome actions (an agreement taking effect, an oral agreement, a failure, a refusal) conclude the matter;
the application for judicial confirmation moves it to 司法确认中 — through the matter's transition table.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from yidi.accounts import access
from yidi.audit.actions import record
from yidi.cases import deadlines
from yidi.cases.actions import (  # the matter's timeline writers
    add_event,
    audit_case,
    do_add_attachment,
    side_event,
)
from yidi.cases.domain import (
    CLOCK_EVENTS,
    CaseAction,
    HandlingMode,
    InvalidInput,
    Outcome,
    RuleViolation,
    check_judicial_confirmation,
    check_outcome,
    next_status,
)
from yidi.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    Case,
    CaseParty,
    PartyRole,
)
from yidi.cases.uploads import check_upload
from yidi.core import clock
from yidi.core.codes import next_number
from yidi.core.deadlines import Stage, local_date
from yidi.mediation import clocks, domain, ledger, queries
from yidi.mediation.document_data import build_document, find_slot, personal_fields
from yidi.mediation.documents import AcceptanceSource, MissingField, render_docx, render_pdf, validate
from yidi.mediation.domain import (
    Availability,
    ConflictRelation,
    IllegalStep,
    MediationAction,
    ObligationState,
)
from yidi.mediation.models import (
    Agreement,
    AgreementForm,
    AgreementSignature,
    Appointment,
    AppointmentStatus,
    ConflictOfInterest,
    Designation,
    DesignationSource,
    GeneratedDocument,
    JudicialConfirmation,
    Mediation,
    MediationSession,
    Mediator,
    MediatorRating,
    Obligation,
    PartyDetail,
    PerformanceRecord,
    PerformanceUrging,
    RightsNoticeDelivery,
    RulingResult,
    SessionKind,
    SessionMode,
)

A = MediationAction


class MissingDocumentFields(RuleViolation):
    """The document lacks required contents: nothing was generated. `missing` names each field."""

    def __init__(self, title: str, missing: list[MissingField]):
        self.missing = tuple(missing)
        super().__init__(f"{title}缺少必填项，未生成：" + "、".join(item.label for item in missing))


# --- the common path --------------------------------------------------------------------------------------------


def _begin(code: str, action: MediationAction, *, actor) -> tuple[Case, Mediation | None]:
    """Lock the matter (and its mediation), check who acts and the statuses; return both."""
    case = access.get_case_for_user(actor, code, for_update=True)
    mediation = Mediation.objects.select_for_update().filter(case=case).order_by("-opened_at", "-id").first()
    reason = domain.denial_reason(action, queries.get_actor_kinds(actor, case, mediation))
    if reason:
        raise access.ActionDenied(reason)
    try:
        domain.check_matter_status(action, case.status_enum)
        domain.next_status(mediation.status_enum if mediation else None, action)
    except IllegalStep as error:
        raise RuleViolation(str(error)) from None
    if action in domain.NEEDS_MEDIATOR and not queries.active_designations(mediation):
        raise RuleViolation("请先指定调解员")
    return case, mediation


def _move_mediation(mediation: Mediation, action: MediationAction, *, fields: list[str] = ()) -> None:
    mediation.status = domain.next_status(mediation.status_enum, action)
    mediation.save(update_fields=["status", *fields])


def _move_matter(
    case: Case, transition: CaseAction, event: str, *, actor, fields: list[str], reason: str = "", data=None,
) -> Case:
    """Change the matter's status by its transition table, with the mediation's event on the timeline."""
    before = case.status
    case.status = next_status(case.status_enum, transition)
    case.version += 1  # the row is locked by `_begin`
    fields = [*fields, *deadlines.SUMMARY_FIELDS]
    if transition in CLOCK_EVENTS:
        deadlines.on_case_event(case, CLOCK_EVENTS[transition], at=clock.now(), save=False)
    case.save(update_fields=["status", "version", "updated_at", *fields])
    add_event(case, event, actor=actor, from_status=before, reason=reason, data=data)
    audit_case(case, event, actor=actor, fields=["status", *fields], reason=reason, data=data)
    return case


def _conclude(case: Case, outcome: Outcome, event: str, *, actor, reason: str = "", data=None) -> Case:
    check_outcome(status=case.status_enum, mode=HandlingMode(case.handling_mode), outcome=outcome)
    case.outcome, case.concluded_at = outcome, clock.now()
    return _move_matter(case, CaseAction.CONCLUDE, event, actor=actor, fields=["outcome", "concluded_at"],
                        reason=reason, data={"outcome": outcome.value, **(data or {})})


def _required(field_name: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(field_name, message)
    return value


def _party(case: Case, party_id, field_name: str = "party", *, parties_only: bool = True) -> CaseParty:
    party = CaseParty.objects.select_related("person").filter(case=case, pk=party_id).first()
    if party is None or (parties_only and party.role == PartyRole.AGENT):
        raise InvalidInput(field_name, "请选择本事项的当事人")
    return party


def _designation(mediation: Mediation, mediator_id, field_name: str = "mediator") -> Designation:
    designation = (
        mediation.designations.select_for_update().select_related("mediator__user")
        .filter(mediator_id=mediator_id, ended_at=None).first()
    )
    if designation is None:
        raise InvalidInput(field_name, "该调解员不是本事项的调解员")
    return designation


def _not_future(field_name: str, day: date | None, what: str) -> date:
    if day is None:
        raise InvalidInput(field_name, f"请填写{what}")
    if day > local_date(clock.now()):
        raise InvalidInput(field_name, f"{what}不能晚于今天")
    return day


def _today() -> date:
    return local_date(clock.now())


# --- opening, designation, recusal ------------------------------------------------------------------------------


@transaction.atomic
def do_open_mediation(
    code: str, *, actor, source: str, requests: str = "", applied_on: date | None = None, committee: str = "",
) -> Mediation:
    """Open the matter's mediation (受理调解): its number (卷号) and the committee named on its documents.

    - only a matter in hand by mediation (开始办理 with the mode 调解), by its lead unit;
    - an application (当事人申请) needs its requests (申请事项) and the date it was made.
    """
    case, previous = _begin(code, A.OPEN, actor=actor)
    if case.handling_mode != HandlingMode.MEDIATION:
        raise RuleViolation("事项的办理方式不是“调解”，不能建立调解")
    if source not in {item.value for item in AcceptanceSource}:
        raise InvalidInput("source", "请选择案件来源")
    if source == "application":
        if not domain.split_lines(requests):
            raise InvalidInput("requests", "当事人申请调解的，请填写申请事项")
        applied_on = _not_future("applied_on", applied_on, "申请日期")
    now = clock.now()
    year = timezone.localtime(now).year
    place = domain.place_abbreviation(case.lead_unit.region.short_name)
    sequence = next_number(f"人调字-{place}"[:20], year)  # one sequence per printed place: numbers never repeat
    mediation = Mediation.objects.create(
        case=case, status=domain.next_status(previous.status_enum if previous else None, A.OPEN),
        number=domain.file_number(year, place, sequence),
        committee=committee.strip() or queries.default_committee(case), source=source,
        requests=requests.strip(), applied_on=applied_on, opened_at=now, opened_by=actor,
    )
    side_event(case, A.OPEN, actor=actor, data={"number": mediation.number, "committee": mediation.committee},
                audit_fields=["mediation"])
    return mediation


def _ensure_access(case: Case, mediator: Mediator, *, actor, at: datetime) -> Assignment | None:
    """A designated mediator of a unit not assigned to the matter gets a co-unit assignment (so they read it)."""
    unit_id = mediator.user.unit_id
    if Assignment.objects.filter(case=case, unit_id=unit_id,
                                 status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).exists():
        return None
    return Assignment.objects.create(
        case=case, unit_id=unit_id, role=AssignmentRole.CO, status=AssignmentStatus.SIGNED, assigned_at=at,
        assigned_by=actor, signed_at=at, note=f"指定调解员：{mediator}",
    )


@transaction.atomic
def do_designate_mediators(
    code: str, *, actor, mediator_ids: list[int], source: str, note: str = "",
) -> list[Designation]:
    """Designate one or several mediators (人民调解法 Art 19), by the committee or as the parties chose them.

    - a mediator with a declared conflict of interest with the matter or one of its parties is refused, with it;
    - so is one who has stopped taking matters, or one already designated;
    - the first mediator of a mediation is its lead mediator (主调解员).
    """
    case, mediation = _begin(code, A.DESIGNATE, actor=actor)
    if source not in DesignationSource.values:
        raise InvalidInput("source", "请选择调解员的产生方式")
    ids = list(dict.fromkeys(int(i) for i in mediator_ids))
    if not ids:
        raise InvalidInput("mediators", "请选择调解员")
    mediators = {m.pk: m for m in Mediator.objects.select_related("user").filter(pk__in=ids, is_active=True)}
    if len(mediators) != len(ids):
        raise InvalidInput("mediators", "所选调解员不在调解专家库中或已停用")
    conflicts = queries.conflicts_for(case)
    designated = {d.mediator_id for d in queries.active_designations(mediation)}
    for mediator_id in ids:
        mediator = mediators[mediator_id]
        if mediator_id in designated:
            raise RuleViolation(f"{mediator}已是本事项的调解员")
        if mediator_id in conflicts:
            raise RuleViolation(f"{mediator}已申报利益冲突（{conflicts[mediator_id]}），须回避，不能指定")
        if mediator.availability == Availability.UNAVAILABLE:
            raise RuleViolation(f"{mediator}暂停接案，不能指定")
        if not mediator.user.unit_id:
            raise RuleViolation(f"{mediator}的账号没有所属单位，不能指定")
    now = clock.now()
    created = []
    for index, mediator_id in enumerate(ids):
        mediator = mediators[mediator_id]
        created.append(Designation.objects.create(
            mediation=mediation, mediator=mediator, is_lead=not designated and index == 0, source=source,
            designated_at=now, designated_by=actor, assignment=_ensure_access(case, mediator, actor=actor, at=now),
        ))
    names = [str(mediators[i]) for i in ids]
    side_event(case, A.DESIGNATE, actor=actor, reason=note.strip(), audit_fields=["designations"],
                data={"mediator_names": names, "source": source, "source_name": DesignationSource(source).label})
    return created


def _end_designation(designation: Designation, *, reason: str, at: datetime) -> None:
    designation.ended_at, designation.end_reason = at, reason
    designation.save(update_fields=["ended_at", "end_reason"])
    if designation.assignment_id and not Designation.objects.filter(
        assignment_id=designation.assignment_id, ended_at=None
    ).exists():
        Assignment.objects.filter(pk=designation.assignment_id).update(status=AssignmentStatus.ENDED, ended_at=at)
    if designation.is_lead:
        successor = designation.mediation.designations.filter(ended_at=None).order_by("designated_at", "id").first()
        if successor is not None:
            successor.is_lead = True
            successor.save(update_fields=["is_lead"])


@transaction.atomic
def do_recuse_mediator(
    code: str, *, actor, mediator_id: int, relation: str, reason: str, party_id: int | None = None,
) -> Designation:
    """回避: a designated mediator stands down, at a party's request or on a conflict of interest.

    The ground is kept as a declared conflict, so the mediator cannot be designated on the matter again (a
    conflict with a person, e.g. a relative, also bars the mediator from that person's other matters).
    """
    case, mediation = _begin(code, A.RECUSE, actor=actor)
    reason = _required("reason", reason, "请填写回避理由")
    relation = ConflictRelation(relation) if relation in set(ConflictRelation) else None
    if relation is None:
        raise InvalidInput("relation", "请选择回避事由")
    designation = _designation(mediation, mediator_id)
    person = _party(case, party_id).person if party_id else None
    now = clock.now()
    ConflictOfInterest.objects.create(
        mediator=designation.mediator, case=case, person=person if relation is not ConflictRelation.PARTY_REQUEST
        else None, relation=relation, note=reason, declared_at=now, declared_by=actor,
    )
    _end_designation(designation, reason=reason, at=now)
    side_event(case, A.RECUSE, actor=actor, reason=reason, audit_fields=["designations", "conflicts"], data={
        "mediator_names": [str(designation.mediator)], "relation": relation.value,
        "party_name": person.name if person else "",
    })
    return designation


@transaction.atomic
def do_declare_conflict(
    code: str, *, actor, mediator_id: int, relation: str, party_id: int | None = None, note: str = "",
) -> ConflictOfInterest:
    """Record that a mediator of the pool has a conflict with the matter or one of its parties (a relative, a
    colleague …): the matching excludes them and a designation is refused. A designated mediator recuses instead.
    """
    case, mediation = _begin(code, A.DECLARE_CONFLICT, actor=actor)
    if relation not in set(ConflictRelation) or relation == ConflictRelation.PARTY_REQUEST:
        raise InvalidInput("relation", "请选择利益冲突的事由")
    mediator = Mediator.objects.select_related("user").filter(pk=mediator_id).first()
    if mediator is None:
        raise InvalidInput("mediator", "所选调解员不在调解专家库中")
    if mediation.designations.filter(mediator=mediator, ended_at=None).exists():
        raise RuleViolation(f"{mediator}已被指定为本事项的调解员，请办理回避")
    person = _party(case, party_id).person if party_id else None
    if person is None and relation != ConflictRelation.OTHER_INTEREST:
        raise InvalidInput("party", "请选择与调解员存在该关系的当事人")
    conflict = ConflictOfInterest.objects.create(
        mediator=mediator, case=case, person=person, relation=relation, note=note.strip(), declared_at=clock.now(),
        declared_by=actor,
    )
    phrase = domain.describe_conflict(relation, person_name=person.name if person else "", note=note.strip())
    side_event(case, A.DECLARE_CONFLICT, actor=actor, reason=phrase, audit_fields=["conflicts"],
                data={"mediator_names": [str(mediator)], "relation": relation})
    return conflict


# --- parties, notice, the other party's answer --------------------------------------------------------------------


@dataclass(frozen=True)
class PartyDetailInput:
    sex: str = ""
    ethnicity: str = ""
    age: int | None = None
    occupation: str = ""
    work_unit: str = ""
    representative: str = ""


@transaction.atomic
def do_update_party_details(code: str, *, actor, party_id: int, details: PartyDetailInput) -> PartyDetail:
    """Record what the documents print about a party beyond the matter's record (性别、民族、年龄、职业 …)."""
    case, _ = _begin(code, A.UPDATE_PARTY, actor=actor)
    party = _party(case, party_id, parties_only=False)
    if details.sex not in ("", "男", "女"):
        raise InvalidInput("sex", "性别只能是“男”或“女”")
    if details.age is not None and not 0 < details.age < 150:
        raise InvalidInput("age", "年龄不正确")
    detail, _ = PartyDetail.objects.update_or_create(party=party, defaults={
        "sex": details.sex, "ethnicity": details.ethnicity.strip(), "age": details.age,
        "occupation": details.occupation.strip(), "work_unit": details.work_unit.strip(),
        "representative": details.representative.strip(), "updated_at": clock.now(), "updated_by": actor,
    })
    side_event(case, A.UPDATE_PARTY, actor=actor, audit_fields=["party_details"], data={"party_name": party.person.name})
    return detail


@transaction.atomic
def do_deliver_rights_notice(
    code: str, *, actor, party_ids: list[int], method: str, delivered_on: date | None,
) -> list[RightsNoticeDelivery]:
    """The rights-and-duties notice (权利义务告知书) delivered to parties (人民调解法 Arts 23–24)."""
    case, mediation = _begin(code, A.DELIVER_RIGHTS_NOTICE, actor=actor)
    method = _required("method", method, "请填写告知方式")
    delivered_on = _not_future("delivered_on", delivered_on, "告知日期")
    if not party_ids:
        raise InvalidInput("parties", "请选择已告知的当事人")
    parties = [_party(case, party_id, "parties") for party_id in dict.fromkeys(party_ids)]
    deliveries = [
        RightsNoticeDelivery.objects.update_or_create(mediation=mediation, party=party, defaults={
            "delivered_on": delivered_on, "method": method, "recorded_by": actor})[0]
        for party in parties
    ]
    side_event(case, A.DELIVER_RIGHTS_NOTICE, actor=actor, audit_fields=["rights_notices"],
                data={"party_name": "、".join(p.person.name for p in parties), "method": method})
    return deliveries


@transaction.atomic
def do_notify_other_party(code: str, *, actor, party_id: int, method: str, note: str = "") -> Mediation:
    """Ask the other party whether they agree to mediation; their answer is due within the period of the policy
    (`party_response`, a clock on the matter)."""
    case, mediation = _begin(code, A.NOTIFY_OTHER_PARTY, actor=actor)
    party = _party(case, party_id)
    method = _required("method", method, "请填写通知方式")
    now = clock.now()
    mediation.notified_party, mediation.notified_at, mediation.notice_method = party, now, method
    _move_mediation(mediation, A.NOTIFY_OTHER_PARTY, fields=["notified_party", "notified_at", "notice_method"])
    deadline = clocks.start(case, Stage.PARTY_RESPONSE, at=now)
    side_event(case, A.NOTIFY_OTHER_PARTY, actor=actor, reason=note.strip(), fields=deadlines.SUMMARY_FIELDS,
                audit_fields=["mediation"], data={
                    "party_name": party.person.name, "method": method, "due_at": deadline.due_at.isoformat()})
    return mediation


@transaction.atomic
def do_record_consent(code: str, *, actor, party_id: int, note: str = "") -> Mediation:
    """The other party (or both, applying together) agreed to mediation: sessions may start."""
    case, mediation = _begin(code, A.RECORD_CONSENT, actor=actor)
    party = _party(case, party_id)
    now = clock.now()
    mediation.consented_at = now
    _move_mediation(mediation, A.RECORD_CONSENT, fields=["consented_at"])
    clocks.finish(case, Stage.PARTY_RESPONSE, at=now)
    side_event(case, A.RECORD_CONSENT, actor=actor, reason=note.strip(), fields=deadlines.SUMMARY_FIELDS,
                audit_fields=["mediation"], data={"party_name": party.person.name})
    return mediation


@transaction.atomic
def do_record_refusal(code: str, *, actor, party_id: int, reason: str, routes_told: str) -> Mediation:
    """A party refuses mediation, or asks to end it (人民调解法 Arts 17, 23): it ends, and the matter is concluded
    as refused; the other legal routes told to the parties are required (Art 26)."""
    case, mediation = _begin(code, A.RECORD_REFUSAL, actor=actor)
    party = _party(case, party_id)
    reason = _required("reason", reason, "请填写拒绝调解的情况")
    routes_told = _required("routes_told", routes_told, "请填写已告知当事人的其他解决途径（如向人民法院起诉）")
    now = clock.now()
    mediation.refused_by, mediation.ended_at, mediation.end_reason, mediation.routes_told = (
        party, now, reason, routes_told)
    _move_mediation(mediation, A.RECORD_REFUSAL, fields=["refused_by", "ended_at", "end_reason", "routes_told"])
    clocks.finish(case, Stage.PARTY_RESPONSE, at=now)
    _conclude(case, Outcome.REFUSED_BY_PARTY, A.RECORD_REFUSAL, actor=actor, reason=reason,
              data={"party_name": party.person.name, "route_told": routes_told})
    return mediation


# --- sessions and evidence ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInput:
    kind: str
    mode: str
    place: str
    started_at: datetime | None
    ended_at: datetime | None = None
    party_ids: tuple[int, ...] = ()
    attendees: str = ""
    recorder: str = ""
    statements: tuple[tuple[str, str], ...] = ()  # (speaker, text)
    result: str = ""


@transaction.atomic
def do_record_session(code: str, *, actor, session: SessionInput) -> MediationSession:
    """A session (joint or separate, on site or online) and its record (调解笔录, 若干规定 Art 35).

    - only after every party has been told their rights and duties;
    - place, time, the parties present, the recorder, at least one statement and the result are required.
    """
    case, mediation = _begin(code, A.RECORD_SESSION, actor=actor)
    told = set(mediation.rights_notices.values_list("party_id", flat=True))
    untold = [p.person.name for p in queries.case_parties(case, parties_only=True) if p.pk not in told]
    if untold:
        raise RuleViolation(f"调解前须向全部当事人告知权利义务，尚未告知：{'、'.join(untold)}")
    if session.kind not in SessionKind.values:
        raise InvalidInput("kind", "请选择调解形式")
    if session.mode not in SessionMode.values:
        raise InvalidInput("mode", "请选择调解方式")
    place = _required("place", session.place, "请填写调解地点")
    if session.started_at is None:
        raise InvalidInput("started_at", "请填写调解时间")
    if session.started_at > clock.now():
        raise InvalidInput("started_at", "调解时间不能晚于现在")
    if session.ended_at is not None and session.ended_at < session.started_at:
        raise InvalidInput("ended_at", "结束时间不能早于开始时间")
    if not session.party_ids:
        raise InvalidInput("parties", "请选择到场的当事人")
    parties = [_party(case, party_id, "parties", parties_only=False) for party_id in dict.fromkeys(session.party_ids)]
    recorder = _required("recorder", session.recorder, "请填写记录人")
    statements = [
        {"speaker": speaker.strip(), "text": text.strip()} for speaker, text in session.statements
        if speaker.strip() or text.strip()
    ]
    if not statements:
        raise InvalidInput("statements", "请至少记录一段调解笔录")
    for index, statement in enumerate(statements, start=1):
        if not statement["speaker"] or not statement["text"]:
            raise InvalidInput("statements", f"第{index}段笔录须同时填写发言人和内容")
    result = _required("result", session.result, "请填写本次调解结果")
    number = (mediation.sessions.aggregate(n=Max("number"))["n"] or 0) + 1
    created = MediationSession.objects.create(
        mediation=mediation, number=number, kind=session.kind, mode=session.mode, place=place,
        started_at=session.started_at, ended_at=session.ended_at, party_ids=[p.pk for p in parties],
        attendees=session.attendees.strip(), recorder=recorder, statements=statements, result=result,
        recorded_at=clock.now(), recorded_by=actor,
    )
    side_event(case, A.RECORD_SESSION, actor=actor, audit_fields=["sessions"], data={
        "number": f"第{number}次", "place": place, "session_kind": session.kind, "session_mode": session.mode,
        "result": result})
    return created


@transaction.atomic
def do_schedule_session(
    code: str, *, actor, starts_at: datetime | None, place: str, mode: str, online_room: str = "", note: str = "",
) -> Appointment:
    """Book a session (预约调解): the applicants are told the time, place and mode by text message.

    - by the designated mediators or the lead unit, on an open mediation with a mediator designated;
    - the time is in the future (at most six months ahead);
    - on site needs a place; online needs the room (a link or a meeting number), the place is optional.
    """
    case, mediation = _begin(code, A.SCHEDULE_SESSION, actor=actor)
    if mode not in SessionMode.values:
        raise InvalidInput("mode", "请选择调解方式（现场或线上）")
    problem = domain.appointment_time_problem(starts_at, now=clock.now())
    if problem:
        raise InvalidInput("starts_at", problem)
    place, online_room = (place or "").strip(), (online_room or "").strip()
    if mode == SessionMode.ON_SITE and not place:
        raise InvalidInput("place", "现场调解请填写调解地点")
    if mode == SessionMode.ONLINE and not online_room:
        raise InvalidInput("online_room", "线上调解请填写在线调解室链接或会议号")
    appointment = Appointment.objects.create(
        mediation=mediation, starts_at=starts_at, place=place, mode=mode, online_room=online_room,
        note=(note or "").strip(), created_at=clock.now(), created_by=actor,
    )
    side_event(case, A.SCHEDULE_SESSION, actor=actor, reason=appointment.note, audit_fields=["appointments"], data={
        "appointment": appointment.pk, "starts_at": starts_at.isoformat(),
        "when": f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M}", "place": place, "session_mode": mode,
        "online_room": online_room})
    return appointment


@transaction.atomic
def do_cancel_session(code: str, *, actor, appointment_id: int, reason: str) -> Appointment:
    """Cancel a booked session, with the reason (the applicants are told by text message)."""
    case, _ = _begin(code, A.CANCEL_SESSION, actor=actor)
    appointment = Appointment.objects.select_for_update().filter(
        mediation__case=case, pk=appointment_id, status=AppointmentStatus.SCHEDULED).first()
    if appointment is None:
        raise InvalidInput("appointment", "请选择本事项尚未取消的调解预约")
    reason = _required("reason", reason, "请填写取消原因")
    appointment.status, appointment.cancelled_at = AppointmentStatus.CANCELLED, clock.now()
    appointment.cancelled_by, appointment.cancel_reason = actor, reason
    appointment.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
    side_event(case, A.CANCEL_SESSION, actor=actor, reason=reason, audit_fields=["appointments"], data={
        "appointment": appointment.pk, "starts_at": appointment.starts_at.isoformat(), "place": appointment.place,
        "session_mode": appointment.mode})
    return appointment


@transaction.atomic
def do_add_evidence(code: str, *, actor, upload, description: str = "", kind: str = "evidence") -> Attachment:
    """Evidence (or a party's identity document, a power of attorney) for the mediation: the matter's attachment
    action, by the mediation's designated mediators or lead unit (its own event and audit row)."""
    _begin(code, A.ADD_EVIDENCE, actor=actor)
    return do_add_attachment(code, actor=actor, upload=upload, description=description, kind=kind)


# --- the agreement ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementInput:
    facts: str
    disputed_issues: str
    terms: str
    performance_manner: str
    performance_place: str
    performance_period: str
    responsibility: str = ""


def _check_agreement(content: AgreementInput, *, written: bool) -> dict:
    values = {
        "facts": _required("facts", content.facts, "请填写纠纷主要事实"),
        "disputed_issues": _required("disputed_issues", content.disputed_issues, "请填写争议事项"),
        "responsibility": content.responsibility.strip(),
        "terms": content.terms.strip(),
        "performance_manner": _required("performance_manner", content.performance_manner, "请填写履行方式"),
        "performance_place": _required("performance_place", content.performance_place, "请填写履行地点"),
        "performance_period": _required("performance_period", content.performance_period, "请填写履行期限"),
    }
    if not domain.split_lines(content.terms):
        raise InvalidInput("terms", "请填写协议内容（每行一项）")
    if written and not values["responsibility"]:
        raise InvalidInput("responsibility", "请填写各方当事人的责任")
    return values


@transaction.atomic
def do_draft_agreement(code: str, *, actor, content: AgreementInput) -> Agreement:
    """The written agreement's content (人民调解法 Art 29, 若干规定 Art 34); a revision clears its signatures."""
    case, mediation = _begin(code, A.DRAFT_AGREEMENT, actor=actor)
    values = _check_agreement(content, written=True)
    agreement, _ = Agreement.objects.update_or_create(mediation=mediation, defaults={
        **values, "form": AgreementForm.WRITTEN, "drafted_at": clock.now(), "drafted_by": actor, "effective_at": None,
    })
    cleared = agreement.signatures.all().delete()[0]
    _move_mediation(mediation, A.DRAFT_AGREEMENT)
    side_event(case, A.DRAFT_AGREEMENT, actor=actor, audit_fields=["agreement"],
                data={"number": mediation.number, "terms": len(agreement.term_list), "signatures_cleared": cleared})
    return agreement


@transaction.atomic
def do_record_signatures(code: str, *, actor, signer_keys: list[str]) -> list[AgreementSignature]:
    """Record who has signed (or sealed) the written agreement: parties, mediators, the committee's seal."""
    case, mediation = _begin(code, A.RECORD_SIGNATURES, actor=actor)
    required = {signer.key: signer for signer in queries.required_signers(mediation)}
    keys = list(dict.fromkeys(signer_keys))
    unknown = [key for key in keys if key not in required]
    if unknown:
        raise InvalidInput("signers", "所选签署方不是本协议的当事人、调解员或调解委员会")
    agreement = mediation.agreement
    already = set(agreement.signatures.values_list("signer_key", flat=True))
    new = [key for key in keys if key not in already]
    if not new:
        raise InvalidInput("signers", "请勾选新签名（盖章）的各方")
    now = clock.now()
    created = [AgreementSignature.objects.create(agreement=agreement, signer_key=key, signed_at=now, recorded_by=actor)
               for key in new]
    side_event(case, A.RECORD_SIGNATURES, actor=actor, audit_fields=["signatures"],
                data={"signed": [required[key].label for key in new]})
    return created


@transaction.atomic
def do_make_agreement_effective(code: str, *, actor) -> Agreement:
    """The written agreement takes effect once every party, every designated mediator and the committee's seal
    are on it (人民调解法 Art 29); otherwise refused, naming who has not signed. The matter is concluded with a
    written agreement and the 30-day window to apply for judicial confirmation starts (a clock on the matter)."""
    case, mediation = _begin(code, A.MAKE_AGREEMENT_EFFECTIVE, actor=actor)
    agreement = mediation.agreement
    missing = domain.missing_signers(
        queries.required_signers(mediation), agreement.signatures.values_list("signer_key", flat=True)
    )
    if missing:
        raise RuleViolation("以下各方尚未签名（盖章），协议不能生效：" + "、".join(s.label for s in missing))
    now = clock.now()
    agreement.effective_at = now
    agreement.save(update_fields=["effective_at"])
    mediation.ended_at = now
    _move_mediation(mediation, A.MAKE_AGREEMENT_EFFECTIVE, fields=["ended_at"])
    window = clocks.start(case, Stage.JUDICIAL_CONFIRMATION, at=now)
    subsidy = ledger.add_subsidy_entries(case, mediation, at=now)
    _conclude(case, Outcome.WRITTEN_AGREEMENT, A.MAKE_AGREEMENT_EFFECTIVE, actor=actor, data={
        "number": mediation.number, "window_due_at": window.due_at.isoformat(), "subsidy": f"{subsidy:.2f}"})
    return agreement


@transaction.atomic
def do_record_oral_agreement(code: str, *, actor, content: AgreementInput) -> Agreement:
    """An oral agreement (人民调解法 Arts 28, 30): effective when reached, its content recorded by the mediator;
    the matter is concluded with it (no judicial confirmation: that needs a written agreement)."""
    case, mediation = _begin(code, A.RECORD_ORAL_AGREEMENT, actor=actor)
    values = _check_agreement(content, written=False)
    now = clock.now()
    agreement, _ = Agreement.objects.update_or_create(mediation=mediation, defaults={
        **values, "form": AgreementForm.ORAL, "drafted_at": now, "drafted_by": actor, "effective_at": now,
    })
    agreement.signatures.all().delete()
    mediation.ended_at = now
    _move_mediation(mediation, A.RECORD_ORAL_AGREEMENT, fields=["ended_at"])
    subsidy = ledger.add_subsidy_entries(case, mediation, at=now)
    _conclude(case, Outcome.ORAL_AGREEMENT, A.RECORD_ORAL_AGREEMENT, actor=actor, data={
        "number": mediation.number, "subsidy": f"{subsidy:.2f}"})
    return agreement


@transaction.atomic
def do_record_failure(code: str, *, actor, reason: str, routes_told: str) -> Mediation:
    """Mediation failed (调解不成): it ends and the parties are told the legal routes (人民调解法 Art 26)."""
    case, mediation = _begin(code, A.RECORD_FAILURE, actor=actor)
    reason = _required("reason", reason, "请填写调解不成的原因")
    routes_told = _required("routes_told", routes_told, "请填写已告知当事人的法律途径（仲裁、行政、司法途径）")
    mediation.ended_at, mediation.end_reason, mediation.routes_told = clock.now(), reason, routes_told
    _move_mediation(mediation, A.RECORD_FAILURE, fields=["ended_at", "end_reason", "routes_told"])
    _conclude(case, Outcome.MEDIATION_FAILED, A.RECORD_FAILURE, actor=actor, reason=reason,
              data={"route_told": routes_told})
    return mediation


# --- judicial confirmation ------------------------------------------------------------------------------------


def _effective_written_agreement(mediation: Mediation) -> Agreement:
    agreement = getattr(mediation, "agreement", None)
    if agreement is None or agreement.form != AgreementForm.WRITTEN or agreement.effective_at is None:
        raise RuleViolation("只有已生效的书面调解协议才能申请司法确认")
    return agreement


@transaction.atomic
def do_request_judicial_confirmation(code: str, *, actor, court: str, applied_on: date | None) -> JudicialConfirmation:
    """The parties applied jointly to a court (民事诉讼法 Art 205) within 30 days of the agreement taking effect;
    a later application is refused with the day the window closed. The matter moves to 司法确认中."""
    case, mediation = _begin(code, A.REQUEST_JUDICIAL_CONFIRMATION, actor=actor)
    agreement = _effective_written_agreement(mediation)
    if hasattr(agreement, "judicial_confirmation"):
        raise RuleViolation("已登记司法确认申请")
    court = _required("court", court, "请填写受理申请的人民法院")
    applied_on = _not_future("applied_on", applied_on, "申请日期")
    if applied_on < local_date(agreement.effective_at):
        raise InvalidInput("applied_on", "申请日期不能早于协议生效日期")
    window = queries.judicial_confirmation_window(case)
    if window is None:
        raise RuleViolation("该协议没有司法确认申请期限的计时，请联系系统管理员")
    refusal = domain.window_closed_message(applied_on, local_date(window.due_at))
    if refusal:
        raise RuleViolation(refusal)
    check_judicial_confirmation(Outcome(case.outcome) if case.outcome else None)
    confirmation = JudicialConfirmation.objects.create(
        agreement=agreement, court=court, applied_on=applied_on, window_due_at=window.due_at, recorded_by=actor,
    )
    clocks.finish(case, Stage.JUDICIAL_CONFIRMATION, at=clock.now())
    _move_matter(case, CaseAction.REQUEST_JUDICIAL_CONFIRMATION, A.REQUEST_JUDICIAL_CONFIRMATION, actor=actor,
                 fields=[], data={"court": court, "applied_on": applied_on.isoformat()})
    return confirmation


def _confirmation(mediation: Mediation) -> JudicialConfirmation:
    agreement = getattr(mediation, "agreement", None)
    confirmation = getattr(agreement, "judicial_confirmation", None) if agreement else None
    if confirmation is None:
        raise RuleViolation("尚未登记司法确认申请")
    return confirmation


@transaction.atomic
def do_record_court_acceptance(code: str, *, actor, accepted_on: date | None, number: str = "") -> JudicialConfirmation:
    """The court accepted the application (within 3 days, 法释〔2011〕5号 Art 4), with its case number if known."""
    case, mediation = _begin(code, A.RECORD_COURT_ACCEPTANCE, actor=actor)
    confirmation = _confirmation(mediation)
    if confirmation.accepted_on is not None:
        raise RuleViolation("已登记法院受理")
    accepted_on = _not_future("accepted_on", accepted_on, "受理日期")
    if accepted_on < confirmation.applied_on:
        raise InvalidInput("accepted_on", "受理日期不能早于申请日期")
    confirmation.accepted_on, confirmation.number = accepted_on, number.strip()
    confirmation.save(update_fields=["accepted_on", "number"])
    side_event(case, A.RECORD_COURT_ACCEPTANCE, actor=actor, audit_fields=["judicial_confirmation"],
                data={"court": confirmation.court, "number": confirmation.number})
    return confirmation


@transaction.atomic
def do_record_ruling(
    code: str, *, actor, ruling: str, ruled_on: date | None, number: str, note: str = "", routes_told: str = "",
) -> JudicialConfirmation:
    """The court's ruling (民事诉讼法 Art 206): the agreement confirmed (enforceable), or the application
    rejected — then the parties are told they may mediate again or sue (required)."""
    case, mediation = _begin(code, A.RECORD_RULING, actor=actor)
    confirmation = _confirmation(mediation)
    if confirmation.accepted_on is None:
        raise RuleViolation("请先登记法院受理")
    if confirmation.ruling:
        raise RuleViolation("已登记裁定结果")
    if ruling not in RulingResult.values:
        raise InvalidInput("ruling", "请选择裁定结果")
    ruled_on = _not_future("ruled_on", ruled_on, "裁定日期")
    if ruled_on < confirmation.accepted_on:
        raise InvalidInput("ruled_on", "裁定日期不能早于受理日期")
    number = _required("number", number, "请填写裁定书案号（调确字号）")
    if ruling == RulingResult.REJECTED:
        routes_told = _required("routes_told", routes_told, "驳回申请的，请填写已告知当事人的途径（重新调解、变更协议或者起诉）")
    confirmation.ruling, confirmation.ruled_on, confirmation.number = ruling, ruled_on, number
    confirmation.ruling_note, confirmation.routes_told = note.strip(), routes_told.strip()
    confirmation.save(update_fields=["ruling", "ruled_on", "number", "ruling_note", "routes_told"])
    side_event(case, A.RECORD_RULING, actor=actor, reason=note.strip(), audit_fields=["judicial_confirmation"], data={
        "number": number, "ruling": ruling, "ruling_name": RulingResult(ruling).label,
        "route_told": routes_told.strip()})
    return confirmation


# --- performance ---------------------------------------------------------------------------------------------


def _effective_agreement(mediation: Mediation) -> Agreement:
    agreement = getattr(mediation, "agreement", None)
    if agreement is None or agreement.effective_at is None:
        raise RuleViolation("协议尚未生效")
    return agreement


@transaction.atomic
def do_add_obligation(
    code: str, *, actor, obligor_id: int, description: str, due_on: date | None, obligee_id: int | None = None,
    amount: Decimal | None = None,
) -> Obligation:
    """One obligation of the effective agreement: who owes what to whom, by when (for performance follow-up)."""
    case, mediation = _begin(code, A.ADD_OBLIGATION, actor=actor)
    agreement = _effective_agreement(mediation)
    obligor = _party(case, obligor_id, "obligor")
    obligee = _party(case, obligee_id, "obligee") if obligee_id else None
    if obligee is not None and obligee.pk == obligor.pk:
        raise InvalidInput("obligee", "权利人不能是履行义务人本人")
    description = _required("description", description, "请填写义务内容")
    if due_on is None:
        raise InvalidInput("due_on", "请填写履行期限")
    if due_on < local_date(agreement.effective_at):
        raise InvalidInput("due_on", "履行期限不能早于协议生效日期")
    if amount is not None and amount < 0:
        raise InvalidInput("amount", "金额不能为负数")
    obligation = Obligation.objects.create(
        agreement=agreement, obligor=obligor, obligee=obligee, description=description, amount=amount, due_on=due_on,
        added_at=clock.now(), added_by=actor,
    )
    side_event(case, A.ADD_OBLIGATION, actor=actor, audit_fields=["obligations"], data={
        "party_name": obligor.person.name, "obligation": f"{description}（{due_on:%Y-%m-%d}前）",
        "due_on": due_on.isoformat()})
    return obligation


def _obligation(mediation: Mediation, obligation_id) -> Obligation:
    agreement = _effective_agreement(mediation)
    obligation = agreement.obligations.select_for_update().select_related("obligor__person").filter(
        pk=obligation_id).first()
    if obligation is None:
        raise InvalidInput("obligation", "请选择本协议的履行义务")
    return obligation


@transaction.atomic
def do_record_performance(
    code: str, *, actor, obligation_id: int, performed_on: date | None, note: str, is_complete: bool,
    amount: Decimal | None = None, receipt=None,
) -> PerformanceRecord:
    """A performance of an obligation, complete or partial, with its receipt (收条、转账凭证) kept as an
    attachment of the matter (the type is decided by the file's content)."""
    case, mediation = _begin(code, A.RECORD_PERFORMANCE, actor=actor)
    obligation = _obligation(mediation, obligation_id)
    if obligation.performed_on is not None:
        raise RuleViolation("该义务已履行完毕")
    performed_on = _not_future("performed_on", performed_on, "履行日期")
    note = _required("note", note, "请填写履行情况")
    if amount is not None and amount < 0:
        raise InvalidInput("amount", "金额不能为负数")
    now = clock.now()
    attachment = None
    if receipt is not None:
        content_type, data = check_upload(receipt)
        digest = hashlib.sha256(data).hexdigest()
        attachment = Attachment(
            case=case, original_name=receipt.name[:200], content_type=content_type, size=len(data), sha256=digest,
            description=f"履行凭证：{obligation.description}"[:200], uploaded_at=now, uploaded_by=actor,
        )
        attachment.file.save(receipt.name[-80:], ContentFile(data), save=False)
        attachment.save()
    performance = PerformanceRecord.objects.create(
        obligation=obligation, performed_on=performed_on, amount=amount, note=note, is_complete=is_complete,
        receipt=attachment, recorded_at=now, recorded_by=actor,
    )
    if is_complete:
        obligation.performed_on = performed_on
        obligation.save(update_fields=["performed_on"])
    side_event(case, A.RECORD_PERFORMANCE, actor=actor, audit_fields=["performance"], data={
        "party_name": obligation.obligor.person.name, "obligation": obligation.description,
        "result": f"{'全部履行' if is_complete else '部分履行'}：{note}", "complete": is_complete,
        "name": attachment.original_name if attachment else "", "sha256": attachment.sha256 if attachment else ""})
    return performance


@transaction.atomic
def do_urge_performance(code: str, *, actor, obligation_id: int, note: str, route_told: str) -> PerformanceUrging:
    """督促履行 an overdue obligation; the other party is told they may sue (人民调解法 Art 32, 若干规定 Art 39)."""
    case, mediation = _begin(code, A.URGE_PERFORMANCE, actor=actor)
    obligation = _obligation(mediation, obligation_id)
    state = domain.obligation_state(due_on=obligation.due_on, today=_today(),
                                    performed=obligation.performed_on is not None, records=0)
    if state is not ObligationState.OVERDUE:
        raise RuleViolation("该义务未逾期或已履行，无需督促")
    note = _required("note", note, "请填写督促履行的情况")
    route_told = _required("route_told", route_told, "请填写已告知对方当事人的途径（如就协议履行向人民法院起诉）")
    urging = PerformanceUrging.objects.create(
        obligation=obligation, note=note, route_told=route_told, urged_at=clock.now(), urged_by=actor,
    )
    side_event(case, A.URGE_PERFORMANCE, actor=actor, reason=note, audit_fields=["performance"], data={
        "party_name": obligation.obligor.person.name, "obligation": obligation.description, "route_told": route_told})
    return urging


# --- ratings -----------------------------------------------------------------------------------------------------


@transaction.atomic
def do_record_rating(
    code: str, *, actor, mediator_id: int, party_id: int, score: int, comment: str = "",
) -> MediatorRating:
    """A party's rating of a mediator of the finished mediation (1–5), taken on the party's behalf."""
    case, mediation = _begin(code, A.RECORD_RATING, actor=actor)
    designation = _designation(mediation, mediator_id)
    party = _party(case, party_id)
    if score not in (1, 2, 3, 4, 5):
        raise InvalidInput("score", "评分为 1 至 5 分")
    if MediatorRating.objects.filter(mediation=mediation, mediator=designation.mediator, party=party).exists():
        raise RuleViolation(f"{party.person.name}已评价过调解员{designation.mediator}")
    rating = MediatorRating.objects.create(
        mediation=mediation, mediator=designation.mediator, party=party, score=score, comment=comment.strip(),
        recorded_at=clock.now(), recorded_by=actor,
    )
    side_event(case, A.RECORD_RATING, actor=actor, reason=comment.strip(), audit_fields=["ratings"], data={
        "mediator_names": [str(designation.mediator)], "party_name": party.person.name, "score": score})
    return rating


# --- documents ---------------------------------------------------------------------------------------------------


@transaction.atomic
def do_generate_document(code: str, *, actor, key: str) -> GeneratedDocument:
    """Generate one document as .docx and PDF from the records, and keep both (a new version each time).

    Refused, generating nothing, when a required field is empty; the refusal names every one (`validate`).
    """
    case, mediation = _begin(code, A.GENERATE_DOCUMENT, actor=actor)
    slot = find_slot(mediation, key)
    if slot is None:
        raise InvalidInput("document", "本调解没有这份文书")
    now = clock.now()
    data = build_document(slot, mediation, today=local_date(now))
    missing = validate(slot.kind, data)
    if missing:
        raise MissingDocumentFields(slot.title, missing)
    docx, pdf = render_docx(slot.kind, data, created_at=now), render_pdf(slot.kind, data, created_at=now)
    version = (mediation.documents.filter(key=key).aggregate(v=Max("version"))["v"] or 0) + 1
    document = GeneratedDocument(
        mediation=mediation, kind=slot.kind, session=slot.session, key=key, version=version,
        docx_sha256=hashlib.sha256(docx).hexdigest(), pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        personal_fields=personal_fields(data), generated_at=now, generated_by=actor,
    )
    stem = f"{key}-v{version}"
    document.docx_file.save(f"{stem}-{document.docx_sha256[:12]}.docx", ContentFile(docx), save=False)
    document.pdf_file.save(f"{stem}-{document.pdf_sha256[:12]}.pdf", ContentFile(pdf), save=False)
    document.save()
    side_event(case, A.GENERATE_DOCUMENT, actor=actor, audit_fields=["documents"], data={
        "document": f"{slot.title} 第{version}版", "kind": slot.kind.value, "version": version,
        "docx_sha256": document.docx_sha256, "pdf_sha256": document.pdf_sha256})
    return document


DOCUMENT_FORMATS = {
    "docx": ("docx_file", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": ("pdf_file", "application/pdf"),
}


@dataclass(frozen=True)
class DocumentDownload:
    document: GeneratedDocument
    filename: str
    content_type: str
    file_field: str

    def open(self):
        return getattr(self.document, self.file_field).open("rb")


@transaction.atomic
def do_download_document(code: str, *, actor, document_id: int, fmt: str) -> DocumentDownload:
    """A stored document for download. The documents print full ID numbers, phones and addresses: only the
    designated mediators, the lead unit and the roles that may reveal personal data in their region download
    them, and each download is audited as personal-data access (who, which document, which fields)."""
    case = access.get_case_for_user(actor, code)
    document = GeneratedDocument.objects.select_related("mediation", "session").filter(
        mediation__case=case, pk=document_id).first()
    if document is None or fmt not in DOCUMENT_FORMATS:
        raise access.CaseNotFound("文书不存在")
    if not queries.may_download_documents(actor, case, document.mediation):
        raise access.ActionDenied("文书载有当事人完整身份信息，只有本事项调解员、主办单位或有权查看个人信息的人员可以下载")
    record(
        actor=actor, action="mediation.download_document", object_type="case", object_id=case.code,
        fields=document.personal_fields, data={
            "document": document.pk, "kind": document.kind, "version": document.version, "format": fmt,
            "sha256": document.pdf_sha256 if fmt == "pdf" else document.docx_sha256,
        },
    )
    filename = f"{case.code}-{document.title}-第{document.version}版.{fmt}"
    file_field, content_type = DOCUMENT_FORMATS[fmt]
    return DocumentDownload(document, filename, content_type, file_field)
