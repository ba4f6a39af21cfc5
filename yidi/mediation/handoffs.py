"""Hand-offs of a matter (诉调、仲调、访调对接). Each `do_*` is one use case in one transaction with exactly one
timeline event and one audit row; a refused one changes nothing.

- Out (court filing, labour arbitration, 行政复议, the 信访 procedure, 纪检监察): the matter is diverted through
  `yidi.cases.actions.do_divert_case` (its event carries the hand-off) and waits; the package sent (summary,
  parties — masked unless the receiver is entitled —, documents and attachments) is kept as a zip with its digest.
- The receiving body's answer comes back: received (with its reference number), then the outcome, which concludes
  the matter ("分流后办结"); the dispatcher then closes it. It is never closed by the hand-off itself.
- 信访: the 处理意见书 starts the petitioner's 30 days to ask for 复查; the request starts the body's 30 days to
  answer; then 复核 likewise (clocks on the matter, limits in the 信访 time-limit policy). After 复核 the same
  person's matter of the same type is not accepted into the 信访 procedure again.
- In (a court's 委派 / 委托 referral): recorded on arrival; its outcome is the result reported back to the court.
"""

import hashlib
import io
import zipfile
from datetime import date, datetime, time

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max

from yidi.accounts import access
from yidi.accounts.domain import Role
from yidi.audit.actions import record
from yidi.cases import deadlines
from yidi.cases.actions import do_divert_case, side_event
from yidi.cases.domain import (
    OPEN_STATUSES,
    CaseAction,
    CaseStatus,
    InvalidInput,
    Outcome,
    RuleViolation,
    next_status,
)
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.deadlines import SHANGHAI, Stage, local_date
from yidi.core.masking import mask
from yidi.mediation import clocks
from yidi.mediation.actions import _conclude
from yidi.mediation.domain import (
    ENTITLED_KINDS,
    HANDOFF_KIND_LABELS,
    HANDOFF_ROUTES,
    INCOMING_KINDS,
    PETITION_OPINION_LABELS,
    PETITION_STEP_LABELS,
    HandOffKind,
    HandOffStatus,
    PetitionOpinion,
    PetitionStep,
    check_hand_off,
    check_petition_request,
)
from yidi.mediation.models import GeneratedDocument, HandOff, Mediation

TRACKER_ROLES = frozenset({Role.HANDLER, Role.MEDIATOR})
LABOUR_TYPE = "labour"
REQUEST_STAGES = {PetitionStep.REVIEW: Stage.REVIEW_REQUEST, PetitionStep.RECHECK: Stage.RECHECK_REQUEST}
ANSWER_STAGES = {PetitionStep.REVIEW: Stage.REVIEW, PetitionStep.RECHECK: Stage.RECHECK}
PETITION_STAGES = frozenset({*REQUEST_STAGES.values(), *ANSWER_STAGES.values()})


def _required(field_name: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(field_name, message)
    return value


def _day_start(day: date) -> datetime:
    """A clock started by a dated event (the petitioner received the opinion on `day`) starts on that day."""
    return datetime.combine(day, time(9), tzinfo=SHANGHAI)


def _today() -> date:
    return local_date(clock.now())


def _past_day(field_name: str, day: date | None, what: str) -> date:
    if day is None:
        raise InvalidInput(field_name, f"请填写{what}")
    if day > _today():
        raise InvalidInput(field_name, f"{what}不能晚于今天")
    return day


def can_track(user, case: Case) -> bool:
    """The dispatcher of the scope, or the lead unit's handlers and mediators, record what comes back."""
    if Role.DISPATCHER in user.role_set:
        return True
    return bool(user.role_set & TRACKER_ROLES) and case.lead_unit_id is not None and user.unit_id == case.lead_unit_id


def _begin_tracking(code: str, handoff_id, *, actor) -> tuple[Case, HandOff]:
    case = access.get_case_for_user(actor, code, for_update=True)
    if not can_track(actor, case):
        raise access.ActionDenied("只有主办单位或指挥调度员可以登记对接情况")
    if case.status_enum is CaseStatus.ARCHIVED:
        raise RuleViolation("事项已归档，不能再登记")
    handoff = HandOff.objects.select_for_update().filter(case=case, pk=handoff_id).first()
    if handoff is None:
        raise access.CaseNotFound("对接记录不存在")
    return case, handoff


def final_petition_code(case: Case) -> str:
    """The code of another matter of the same person and type that already went through 复核, or ""."""
    person_ids = list(case.parties.values_list("person_id", flat=True))
    if not person_ids or case.primary_type_id is None:
        return ""
    earlier = (
        HandOff.objects.filter(
            kind=HandOffKind.PETITION, recheck_answered_on__isnull=False, case__primary_type_id=case.primary_type_id,
            case__parties__person_id__in=person_ids,
        ).exclude(case=case).select_related("case").order_by("recheck_answered_on").first()
    )
    return earlier.case.code if earlier else ""


def _received_on(case: Case) -> date:
    """The day the mediation organisation received the application: the mediation's opening, else registration."""
    mediation = Mediation.objects.filter(case=case).order_by("opened_at", "id").first()
    return local_date(mediation.opened_at if mediation else case.registered_at)


# --- the package -------------------------------------------------------------------------------------------------


def _latest_documents(case: Case) -> list[GeneratedDocument]:
    latest = (
        GeneratedDocument.objects.filter(mediation__case=case).values("mediation_id", "key")
        .annotate(version=Max("version"))
    )
    wanted = {(row["mediation_id"], row["key"], row["version"]) for row in latest}
    documents = GeneratedDocument.objects.filter(mediation__case=case).select_related("session").order_by("key")
    return [d for d in documents if (d.mediation_id, d.key, d.version) in wanted]


def build_package(case: Case, handoff: HandOff) -> bytes:
    """The hand-off package: 事项摘要.txt, 当事人.txt (full identity data only for an entitled receiver),
    材料清单.txt, and — for an entitled receiver — the latest PDF of each document and the attachments."""
    entitled = handoff.is_receiver_entitled
    mediation = Mediation.objects.filter(case=case).order_by("-opened_at", "-id").first()
    summary = [
        f"事项编码：{case.code}",
        f"事项标题：{case.title}",
        f"纠纷类型：{case.primary_type.name if case.primary_type_id else ''}",
        f"发生地：{case.region.name}",
        f"登记时间：{local_date(case.registered_at).isoformat()}",
        f"办理结果：{case.get_outcome_display() if case.outcome else '（尚无）'}",
        f"对接类型：{HANDOFF_KIND_LABELS[handoff.kind_enum]}",
        f"接收机关：{handoff.receiver}",
        f"移送理由：{handoff.reason}",
        "",
        "事项描述：",
        case.description,
    ]
    if mediation is not None:
        summary += ["", f"调解卷号：{mediation.number}", f"调解状态：{mediation.get_status_display()}"]
        if mediation.end_reason:
            summary += [f"调解不成原因：{mediation.end_reason}", f"已告知的其他途径：{mediation.routes_told}"]
    parties = []
    for party in case.parties.select_related("person").order_by("id"):
        person = party.person
        id_number = person.id_number if entitled else mask(person.id_number, "id_number")
        phone = person.phone if entitled else mask(person.phone, "phone")
        address = person.address if entitled else mask(person.address, "address")
        parties.append(f"{party.get_role_display()}：{person.name}　身份证号：{id_number}　电话：{phone}　住址：{address}")
    if not entitled:
        parties.append("（接收机关未获授权查看完整身份信息，已脱敏）")
    documents = _latest_documents(case)
    attachments = list(case.attachments.order_by("id"))
    listing = ["一、调解文书"] + [f"{i}. {d.title}（第{d.version}版）" for i, d in enumerate(documents, 1)]
    listing += ["二、附件材料"] + [f"{i}. {a.original_name}" for i, a in enumerate(attachments, 1)]
    if not entitled:
        listing.append("（文书、附件载有当事人身份信息，未随包移送，接收机关可依法调取）")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("事项摘要.txt", "\n".join(summary) + "\n")
        package.writestr("当事人.txt", "\n".join(parties) + "\n")
        package.writestr("材料清单.txt", "\n".join(listing) + "\n")
        if entitled:
            for number, document in enumerate(documents, 1):
                with document.pdf_file.open("rb") as file:
                    package.writestr(f"文书/{number:02d}-{document.title}.pdf", file.read())
            for number, attachment in enumerate(attachments, 1):
                with attachment.file.open("rb") as file:
                    package.writestr(f"附件/{number:02d}-{attachment.original_name}", file.read())
    return buffer.getvalue()


# --- out ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def do_hand_off(code: str, *, actor, kind: HandOffKind, receiver: str, reason: str) -> HandOff:
    """Hand the matter to another body (see the module's rules) and keep the package sent."""
    kind = HandOffKind(kind)
    receiver = _required("receiver", receiver, "请填写接收机关")
    reason = _required("reason", reason, "请填写移送理由")
    case = access.get_case_for_user(actor, code, for_update=True)
    access.require_action(actor, case, CaseAction.DIVERT)
    next_status(case.status_enum, CaseAction.DIVERT)
    check_hand_off(
        kind, outcome=case.outcome, is_labour=bool(case.primary_type_id and case.primary_type.code == LABOUR_TYPE),
        received_on=_received_on(case), today=_today(),
        final_petition_code=final_petition_code(case) if kind is HandOffKind.PETITION else "",
    )
    now = clock.now()
    handoff = HandOff(
        case=case, kind=kind, status=HandOffStatus.SENT, receiver=receiver, reason=reason,
        is_receiver_entitled=kind in ENTITLED_KINDS, sent_at=now, sent_by=actor,
    )
    package = build_package(case, handoff)
    handoff.package_sha256 = hashlib.sha256(package).hexdigest()
    handoff.package_file.save(f"{kind.value}-{handoff.package_sha256[:12]}.zip", ContentFile(package), save=False)
    handoff.save()
    do_divert_case(case.code, actor=actor, route=HANDOFF_ROUTES[kind], reason=reason, data={
        "handoff": handoff.pk, "kind": kind.value, "kind_label": kind.label, "receiver": receiver,
        "package_sha256": handoff.package_sha256, "entitled": handoff.is_receiver_entitled,
    })
    return handoff


@transaction.atomic
def do_record_handoff_receipt(code: str, *, actor, handoff_id: int, received_on: date | None,
                              reference_number: str = "") -> HandOff:
    """The receiving body signed for the package (sent → received), with its reference number if it gave one."""
    case, handoff = _begin_tracking(code, handoff_id, actor=actor)
    if handoff.status != HandOffStatus.SENT or handoff.is_incoming:
        raise RuleViolation("该移送已登记接收")
    handoff.received_on = _past_day("received_on", received_on, "接收日期")
    if handoff.received_on < local_date(handoff.sent_at):
        raise InvalidInput("received_on", "接收日期不能早于移送日期")
    handoff.reference_number = reference_number.strip()
    handoff.status = HandOffStatus.RECEIVED
    handoff.save(update_fields=["received_on", "reference_number", "status"])
    side_event(case, "record_handoff_receipt", actor=actor, audit_fields=["handoffs"], data={
        "handoff": handoff.pk, "receiver": handoff.receiver, "received_on": handoff.received_on.isoformat(),
        "reference_number": handoff.reference_number})
    return handoff


@transaction.atomic
def do_record_handoff_outcome(
    code: str, *, actor, handoff_id: int, decided_on: date | None, decision: str = "", opinion: str = "",
    reference_number: str = "", note: str = "",
) -> HandOff:
    """The receiving body's decision came back (received → outcome recorded): the matter is concluded ("分流后
    办结") and the dispatcher may close it. For the 信访 procedure the decision is the 处理意见书's (支持 / 解释说明
    / 不予支持) and the petitioner's 30 days to ask for 复查 start on its date. For a court's referral (in) the
    outcome is the mediation's result reported back to the court."""
    case, handoff = _begin_tracking(code, handoff_id, actor=actor)
    expected = HandOffStatus.SENT if handoff.is_incoming else HandOffStatus.RECEIVED
    if handoff.status != expected:
        raise RuleViolation("请先登记接收机关已接收" if handoff.status == HandOffStatus.SENT else "该对接已登记结果")
    decided_on = _past_day("decided_on", decided_on, "结果日期")
    if handoff.received_on and decided_on < handoff.received_on:
        raise InvalidInput("decided_on", "结果日期不能早于接收日期")
    if handoff.kind_enum is HandOffKind.PETITION:
        if opinion not in PetitionOpinion:
            raise InvalidInput("opinion", "请选择处理意见书的意见（支持、解释说明、不予支持）")
        decision = f"处理意见书：{PETITION_OPINION_LABELS[PetitionOpinion(opinion)]}"
        handoff.opinion = opinion
    else:
        opinion = ""
        decision = _required("decision", decision, "请填写接收机关的处理结果")
    handoff.decision, handoff.decided_on, handoff.outcome_note = decision, decided_on, note.strip()
    if reference_number.strip():
        handoff.reference_number = reference_number.strip()
    handoff.status = HandOffStatus.OUTCOME_RECORDED
    handoff.save(update_fields=["decision", "decided_on", "outcome_note", "reference_number", "status", "opinion"])
    data = {"handoff": handoff.pk, "kind": handoff.kind, "receiver": handoff.receiver, "decision": decision,
            "decided_on": decided_on.isoformat(), "reference_number": handoff.reference_number}
    fields = []
    if handoff.kind_enum is HandOffKind.PETITION:
        window = clocks.start(case, Stage.REVIEW_REQUEST, at=_day_start(decided_on))
        data["review_request_due_at"] = window.due_at.isoformat()
        fields = list(deadlines.SUMMARY_FIELDS)
    if not handoff.is_incoming and case.status_enum is CaseStatus.DIVERTED:
        _conclude(case, Outcome.RESOLVED_BY_DIVERSION, "record_handoff_outcome", actor=actor,
                  reason=note.strip(), data=data)
    else:
        side_event(case, "record_handoff_outcome", actor=actor, fields=fields, audit_fields=["handoffs"],
                    reason=note.strip(), data=data)
    return handoff


# --- 信访: 复查 and 复核 -------------------------------------------------------------------------------------------


def _petition(code: str, handoff_id, *, actor) -> tuple[Case, HandOff]:
    case, handoff = _begin_tracking(code, handoff_id, actor=actor)
    if handoff.kind_enum is not HandOffKind.PETITION or handoff.status != HandOffStatus.OUTCOME_RECORDED:
        raise RuleViolation("只有已出具处理意见书的信访事项可以请求复查、复核")
    return case, handoff


@transaction.atomic
def do_record_petition_request(code: str, *, actor, handoff_id: int, step: PetitionStep,
                               requested_on: date | None) -> HandOff:
    """The petitioner asked for 复查 (within 30 days of the 处理意见书) or 复核 (within 30 days of the 复查意见);
    refused after the window with the date it closed. The request window's clock is met and the higher body's
    30 days to answer start."""
    step = PetitionStep(step)
    case, handoff = _petition(code, handoff_id, actor=actor)
    requested_on = _past_day("requested_on", requested_on, f"请求{PETITION_STEP_LABELS[step]}日期")
    if step is PetitionStep.REVIEW:
        if handoff.review_requested_on:
            raise RuleViolation("已登记复查请求")
        answered_on = handoff.decided_on
    else:
        if handoff.recheck_requested_on:
            raise RuleViolation("已登记复核请求")
        answered_on = handoff.review_answered_on
    check_petition_request(step, answered_on=answered_on, requested_on=requested_on)
    setattr(handoff, f"{step.value}_requested_on", requested_on)
    handoff.save(update_fields=[f"{step.value}_requested_on"])
    at = _day_start(requested_on)
    clocks.finish(case, REQUEST_STAGES[step], at=at)
    answer = clocks.start(case, ANSWER_STAGES[step], at=at)
    side_event(case, "record_petition_request", actor=actor, fields=list(deadlines.SUMMARY_FIELDS),
                audit_fields=["handoffs", "deadlines"], data={
                    "handoff": handoff.pk, "step": step.value, "step_label": PETITION_STEP_LABELS[step],
                    "requested_on": requested_on.isoformat(), "answer_due_at": answer.due_at.isoformat()})
    return handoff


@transaction.atomic
def do_record_petition_answer(code: str, *, actor, handoff_id: int, step: PetitionStep, opinion: str,
                              answered_on: date | None) -> HandOff:
    """The 复查意见 or 复核意见 came back. After 复查 the petitioner's 30 days to ask for 复核 start; after 复核 the
    procedure is final (the same facts are not accepted again)."""
    step = PetitionStep(step)
    case, handoff = _petition(code, handoff_id, actor=actor)
    requested_on = getattr(handoff, f"{step.value}_requested_on")
    if requested_on is None:
        raise RuleViolation(f"尚未登记{PETITION_STEP_LABELS[step]}请求")
    if getattr(handoff, f"{step.value}_answered_on"):
        raise RuleViolation(f"已登记{PETITION_STEP_LABELS[step]}意见")
    if opinion not in PetitionOpinion:
        raise InvalidInput("opinion", f"请选择{PETITION_STEP_LABELS[step]}意见")
    answered_on = _past_day("answered_on", answered_on, f"{PETITION_STEP_LABELS[step]}意见日期")
    if answered_on < requested_on:
        raise InvalidInput("answered_on", f"{PETITION_STEP_LABELS[step]}意见日期不能早于请求日期")
    setattr(handoff, f"{step.value}_opinion", opinion)
    setattr(handoff, f"{step.value}_answered_on", answered_on)
    handoff.save(update_fields=[f"{step.value}_opinion", f"{step.value}_answered_on"])
    at = _day_start(answered_on)
    clocks.finish(case, ANSWER_STAGES[step], at=at)
    data = {"handoff": handoff.pk, "step": step.value, "step_label": PETITION_STEP_LABELS[step],
            "opinion": PETITION_OPINION_LABELS[PetitionOpinion(opinion)], "answered_on": answered_on.isoformat()}
    if step is PetitionStep.REVIEW:
        data["recheck_request_due_at"] = clocks.start(case, Stage.RECHECK_REQUEST, at=at).due_at.isoformat()
    else:
        data["final"] = True
    side_event(case, "record_petition_answer", actor=actor, fields=list(deadlines.SUMMARY_FIELDS),
                audit_fields=["handoffs", "deadlines"], data=data)
    return handoff


# --- in: a court's referral ---------------------------------------------------------------------------------------


# The court's time limit for a referred mediation (SPEC §5): the policy the matter then runs under.
COURT_REFERRAL_POLICIES = {
    (HandOffKind.COURT_REFERRAL_PRE_FILING, "ordinary"): "court_pre_filing",  # 委派: 30 days
    (HandOffKind.COURT_REFERRAL_PRE_FILING, "simplified"): "court_pre_filing",
    (HandOffKind.COURT_REFERRAL_ENTRUSTED, "ordinary"): "court_entrusted_ordinary",  # 委托: 15 days
    (HandOffKind.COURT_REFERRAL_ENTRUSTED, "simplified"): "court_entrusted_simplified",  # 委托, 简易程序: 7 days
}


@transaction.atomic
def do_record_court_referral(code: str, *, actor, kind: HandOffKind, court: str, received_on: date | None,
                             reference_number: str, procedure: str = "ordinary") -> HandOff:
    """A court referred the matter for mediation (诉前委派 or 委托, 特邀调解规定 Arts 19-21): recorded on arrival
    with the court's case number; the result is reported back to the court as its outcome.

    From then on the matter runs under the court's time limit (30 days for 委派, 15 for 委托 or 7 under the
    simplified procedure), counted from this acceptance: its handling clock restarts under that policy."""
    kind = HandOffKind(kind)
    if kind not in INCOMING_KINDS:
        raise InvalidInput("kind", "请选择委派调解或委托调解")
    court = _required("court", court, "请填写委派（委托）法院")
    reference_number = _required("reference_number", reference_number, "请填写法院案号")
    case = access.get_case_for_user(actor, code, for_update=True)
    if not can_track(actor, case):
        raise access.ActionDenied("只有主办单位或指挥调度员可以登记法院委派、委托调解")
    if case.status_enum not in OPEN_STATUSES:
        raise RuleViolation("事项已办结，不能登记法院委派、委托调解")
    received_on = _past_day("received_on", received_on, "收到委派（委托）材料日期")
    if procedure not in ("ordinary", "simplified"):
        raise InvalidInput("procedure", "请选择委托案件适用的程序")
    case.routed_policy = COURT_REFERRAL_POLICIES[(kind, procedure)]
    handle = clocks.start(case, Stage.HANDLE, at=clock.now())
    handoff = HandOff.objects.create(
        case=case, kind=kind, status=HandOffStatus.SENT, receiver=court, reason="", sent_at=clock.now(),
        sent_by=actor, received_on=received_on, reference_number=reference_number, is_receiver_entitled=True,
    )
    side_event(case, "record_court_referral", actor=actor, audit_fields=["handoffs", "routed_policy"],
                fields=["routed_policy", *deadlines.SUMMARY_FIELDS], data={
        "handoff": handoff.pk, "kind": kind.value, "kind_label": kind.label, "court": court,
        "received_on": received_on.isoformat(), "reference_number": reference_number,
        "policy": case.routed_policy, "due_at": handle.due_at.isoformat()})
    return handoff


# --- download -----------------------------------------------------------------------------------------------------


def get_package(code: str, *, actor, handoff_id: int) -> HandOff:
    """The package sent, for download by those who track the hand-off; audited (with the personal fields
    printed in full when the receiver was entitled)."""
    case = access.get_case_for_user(actor, code)
    handoff = HandOff.objects.filter(case=case, pk=handoff_id).exclude(package_file="").first()
    if handoff is None:
        raise access.CaseNotFound("移送材料不存在")
    if not can_track(actor, case):
        raise access.ActionDenied("只有主办单位或指挥调度员可以下载移送材料")
    record(actor=actor, action="mediation.download_handoff_package", object_type="case", object_id=case.code,
           fields=["id_number", "phone", "address"] if handoff.is_receiver_entitled else [],
           data={"handoff": handoff.pk, "sha256": handoff.package_sha256})
    return handoff
