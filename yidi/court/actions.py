"""Writes of the court exchange: a court's configuration, and the messages a court sends in.

- A referral (`do_receive_referral`) becomes a matter through the normal intake (`do_register_case`, channel
  by kind and procedure) and is recorded as the court's referral (`do_record_court_referral`: the court's time
  limit applies); both under the court system's service account. Idempotent on the court's case number: the same
  content answers with the same matter, other content is refused (`ReferralConflict`), nothing written.
- An answer (acceptance, ruling) to one of our filings or applications (`do_receive_answer`) is recorded by the
  existing action (`do_record_handoff_receipt` / `_outcome`, `do_record_court_acceptance`, `do_record_ruling`).
  When the court's account may not record it on that matter (judicial confirmation is recorded by the matter's
  mediators or lead unit), the answer is kept as awaiting staff, shown on /court/, and recorded from there by a
  person who may (`do_apply_answer`); it is never lost.
- Each message id is handled once per court: a replay gets the first answer again; the same id with other
  content is refused (`MessageIdReused`).
- The court system's service account is given the dispatcher role when its client is linked to a court
  (`do_save_court`): the referral and hand-off actions admit dispatchers; the client's scopes keep it to the
  court endpoints.
"""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction

from yidi.accounts import access
from yidi.accounts.actions import AccountError, do_grant_role
from yidi.accounts.domain import REGION_WIDE_KINDS, Role, UnitKind
from yidi.accounts.models import ApiScope
from yidi.audit.actions import record
from yidi.cases.actions import do_register_case
from yidi.cases.domain import CaseDraft, InvalidInput, PartyDraft, RuleViolation
from yidi.cases.models import Case
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.core.masking import PersonalKind, mask
from yidi.court import domain, outbound
from yidi.court.domain import AnswerIn, AnswerState, MessageType, ReferralIn
from yidi.court.models import Court, CourtMessage
from yidi.integrations.models import OutboxMessage
from yidi.mediation import actions as mediation_actions
from yidi.mediation import handoffs
from yidi.mediation.domain import HandOffKind

ALLOWED_CLIENT_SCOPES = frozenset({ApiScope.COURT_EXCHANGE, ApiScope.REFERENCE_READ})
REFERRAL_KINDS = {
    domain.ReferralKind.PRE_FILING: HandOffKind.COURT_REFERRAL_PRE_FILING,
    domain.ReferralKind.ENTRUSTED: HandOffKind.COURT_REFERRAL_ENTRUSTED,
}


class CourtExchangeError(Exception):
    """A refused court message: `status`, stable `code`, Chinese message; nothing was written."""

    status = 409
    code = "court_exchange_error"


class ReferralConflict(CourtExchangeError):
    code = "referral_conflict"


class MessageIdReused(CourtExchangeError):
    code = "message_id_reused"


class UnknownReply(CourtExchangeError):
    status, code = 422, "unknown_in_reply_to"


class CourtMismatch(CourtExchangeError):
    status, code = 400, "court_mismatch"


# --- configuration -----------------------------------------------------------------------------------------------


def check_client(court: Court) -> str | None:
    """Why the court's API client cannot be linked (Chinese), or None."""
    client = court.api_client
    if client is None:
        return None
    if not client.is_active:
        return "该接口客户端已吊销"
    if ApiScope.COURT_EXCHANGE not in client.scopes:
        return "该接口客户端没有“诉调对接”（court:exchange）权限"
    extra = sorted(set(client.scopes) - ALLOWED_CLIENT_SCOPES)
    if extra:
        return f"法院接口客户端只能持有 court:exchange 和 reference:read 权限，请去掉：{'、'.join(extra)}"
    if UnitKind(client.unit.kind) not in REGION_WIDE_KINDS:
        return "法院接口客户端须属于矛调中心、指挥调度室等辖区单位（委派事项在其辖区内登记）"
    return None


@transaction.atomic
def do_save_court(court: Court, *, actor, fields: list[str], created: bool) -> Court:
    """Save a court's configuration (admin). A linked client's service account gets the dispatcher role."""
    problem = check_client(court)
    if problem:
        raise InvalidInput("api_client", problem)
    court.save()
    if court.api_client_id and Role.DISPATCHER not in court.api_client.user.role_set:
        try:
            do_grant_role(court.api_client.user, Role.DISPATCHER, actor=actor)
        except AccountError as error:
            raise InvalidInput("api_client", str(error)) from None
    record(actor=actor, action=f"court.{'add' if created else 'change'}_court", object_type="court",
           object_id=court.code, fields=fields, data={
               "name": court.name, "active": court.is_active,
               "api_client": court.api_client.name if court.api_client_id else ""})
    return court


def court_for_client(client) -> Court | None:
    return Court.objects.filter(api_client=client, is_active=True).first()


# --- referrals in ------------------------------------------------------------------------------------------------


def _masked_party(party: domain.PartyIn) -> dict:
    return {"role": party.role, "kind": party.kind, "name": party.name,
            "id_number": mask(party.id_number, PersonalKind.ID_NUMBER), "phone": mask(party.phone, PersonalKind.PHONE),
            "address": mask(party.address, PersonalKind.ADDRESS), "credit_code": party.credit_code}


def _referral_summary(referral: ReferralIn) -> dict:
    return {
        "kind": referral.kind.value, "procedure": referral.procedure, "court_case_number": referral.court_case_number,
        "referred_on": referral.referred_on.isoformat(),
        "deadline_on": referral.deadline_on.isoformat() if referral.deadline_on else None,
        "cause_of_action": {"code": referral.cause_of_action_code, "name": referral.cause_of_action},
        "region": referral.region, "title": referral.title, "claims": list(referral.claims),
        "parties": [_masked_party(p) for p in referral.parties],
        "documents": [{"name": d.name, "sha256": d.sha256, "pages": d.pages} for d in referral.documents],
    }


@dataclass(frozen=True)
class Receipt:
    status: int
    body: dict
    replayed: bool = False


def status_body(case: Case, in_reply_to: str = "") -> dict:
    handoff = outbound.incoming_referral(case)
    body = {"format": domain.FORMAT, "type": MessageType.REFERRAL_STATUS.value, **outbound.referral_status_body(
        case, handoff)}
    if in_reply_to:
        body["in_reply_to"] = in_reply_to
    return body


def _replay(court: Court, message_id: str, content_sha256: str) -> Receipt | None:
    earlier = CourtMessage.objects.filter(court=court, message_id=message_id).first()
    if earlier is None:
        return None
    if earlier.content_sha256 != content_sha256:
        raise MessageIdReused(f"消息编号“{message_id}”已用于另一条内容不同的消息")
    return Receipt(earlier.response.get("status", 200), earlier.response.get("body", {}), replayed=True)


def _existing_referral(court: Court, referral: ReferralIn) -> Receipt | None:
    earlier = CourtMessage.objects.filter(court=court, type=MessageType.REFERRAL,
                                          court_case_number=referral.court_case_number).select_related("case").first()
    if earlier is None:
        return None
    if earlier.content_sha256 != referral.content_sha256:
        raise ReferralConflict(
            f"案号“{referral.court_case_number}”已于{local_date(earlier.received_at):%Y-%m-%d}委派（委托），"
            f"事项编码 {earlier.case.code}；内容不同，未重复登记。如需变更，请联系调处中心")
    return Receipt(200, status_body(earlier.case), replayed=True)


def do_receive_referral(court: Court, message_id: str, referral: ReferralIn, *, client) -> Receipt:
    """Register a court's referral as a matter and record it (see the module's rules); returns the answer."""
    if referral.court_code != court.code:
        raise CourtMismatch(f"消息中的法院代码“{referral.court_code}”与令牌所属法院（{court.code}）不一致")
    try:
        return _receive_referral(court, message_id, referral, client=client)
    except IntegrityError:  # a concurrent duplicate committed first: answer as a replay
        return _replay(court, message_id, referral.content_sha256) or _existing_referral(court, referral)


@transaction.atomic
def _receive_referral(court: Court, message_id: str, referral: ReferralIn, *, client) -> Receipt:
    found = _replay(court, message_id, referral.content_sha256) or _existing_referral(court, referral)
    if found is not None:
        return found
    actor = client.user
    draft = CaseDraft(
        channel_code=referral.channel_code, request_type="mediation", title=referral.title,
        description=referral.description, region_code=referral.region, address=referral.address,
        primary_type_code=referral.mediation_type, external_ref=referral.court_case_number,
        parties=tuple(PartyDraft(role=p.role, name=p.name, kind=p.kind, id_number=p.id_number, phone=p.phone,
                                 address=p.address, credit_code=p.credit_code) for p in referral.parties),
    )
    case = do_register_case(draft, actor=actor)
    now = clock.now()
    handoffs.do_record_court_referral(
        case.code, actor=actor, kind=REFERRAL_KINDS[referral.kind], court=court.name, received_on=local_date(now),
        reference_number=referral.court_case_number, procedure=referral.procedure)
    case = Case.objects.get(pk=case.pk)
    body = status_body(case, in_reply_to=message_id)
    CourtMessage.objects.create(
        court=court, case=case, type=MessageType.REFERRAL, message_id=message_id,
        court_case_number=referral.court_case_number, content_sha256=referral.content_sha256,
        summary=_referral_summary(referral), state=AnswerState.APPLIED, response={"status": 201, "body": body},
        received_at=now, applied_at=now, applied_by=actor,
    )
    record(actor=actor, action="court.receive_referral", object_type="case", object_id=case.code,
           fields=["court_messages"], data={"court": court.code, "message_id": message_id,
                                             "court_case_number": referral.court_case_number})
    return Receipt(201, body)


# --- answers in --------------------------------------------------------------------------------------------------


def _our_message(court: Court, key: str) -> tuple[OutboxMessage, Case]:
    message = OutboxMessage.objects.filter(idempotency_key=key, kind=outbound.KIND).first()
    payload = message.payload if message else {}
    if (
        message is None or (payload.get("court") or {}).get("code") != court.code
        or payload.get("type") not in (MessageType.FILING, MessageType.CONFIRMATION_APPLICATION)
    ):
        raise UnknownReply(f"“in_reply_to”不是本平台发给该法院的移送起诉或司法确认申请：{key}")
    case = Case.objects.filter(code=payload["case"]["code"]).first()
    if case is None:
        raise UnknownReply(f"“in_reply_to”所指的事项已不存在：{key}")
    return message, case


def _apply(summary: dict, message: OutboxMessage, case: Case, *, actor) -> None:
    """Record the court's answer by the existing action of the matter (one event, one audit row)."""
    on = date.fromisoformat(summary["on"])
    if message.payload["type"] == MessageType.FILING:
        handoff_id = message.payload["filing"]["handoff"]
        if summary["type"] == MessageType.ACCEPTANCE:
            handoffs.do_record_handoff_receipt(case.code, actor=actor, handoff_id=handoff_id, received_on=on,
                                               reference_number=summary["number"])
        else:
            handoffs.do_record_handoff_outcome(case.code, actor=actor, handoff_id=handoff_id, decided_on=on,
                                               decision=summary["result"], reference_number=summary["number"],
                                               note=summary["note"])
    elif summary["type"] == MessageType.ACCEPTANCE:
        mediation_actions.do_record_court_acceptance(case.code, actor=actor, accepted_on=on, number=summary["number"])
    else:
        mediation_actions.do_record_ruling(case.code, actor=actor, ruling=summary["result"], ruled_on=on,
                                           number=summary["number"], note=summary["note"],
                                           routes_told=summary["routes_told"])


def _answer_summary(answer: AnswerIn) -> dict:
    return {"type": answer.type.value, "on": answer.on.isoformat(), "number": answer.number, "result": answer.result,
            "note": answer.note, "routes_told": answer.routes_told}


def _answer_body(message: CourtMessage) -> dict:
    return {"format": domain.FORMAT, "type": "answer_receipt", "in_reply_to": message.message_id,
            "case_code": message.case.code, "state": message.state,
            "state_label": domain.ANSWER_STATE_LABELS[AnswerState(message.state)]}


def do_receive_answer(court: Court, answer: AnswerIn, *, client) -> Receipt:
    """Record a court's acceptance or ruling (see the module's rules); returns the answer."""
    if answer.court_code != court.code:
        raise CourtMismatch(f"消息中的法院代码“{answer.court_code}”与令牌所属法院（{court.code}）不一致")
    try:
        return _receive_answer(court, answer, client=client)
    except IntegrityError:
        return _replay(court, answer.message_id, answer.content_sha256)


@transaction.atomic
def _receive_answer(court: Court, answer: AnswerIn, *, client) -> Receipt:
    found = _replay(court, answer.message_id, answer.content_sha256)
    if found is not None:
        return found
    message, case = _our_message(court, answer.in_reply_to)
    if (
        answer.type is MessageType.RULING and message.payload["type"] == MessageType.CONFIRMATION_APPLICATION
        and answer.result not in domain.RULING_RESULTS
    ):
        raise domain.FormatError("invalid_field", "ruling.result",
                                 "司法确认裁定的“ruling.result”须为 confirmed（确认有效）或 rejected（驳回申请）")
    summary = _answer_summary(answer)
    actor, now = client.user, clock.now()
    try:
        with transaction.atomic():
            _apply(summary, message, case, actor=actor)
        state = AnswerState.APPLIED
    except (access.ActionDenied, access.CaseNotFound):
        state = AnswerState.AWAITING_STAFF
    stored = CourtMessage(
        court=court, case=case, type=answer.type, message_id=answer.message_id, court_case_number=answer.number,
        in_reply_to=answer.in_reply_to, content_sha256=answer.content_sha256, summary=summary, state=state,
        received_at=now, applied_at=now if state is AnswerState.APPLIED else None,
        applied_by=actor if state is AnswerState.APPLIED else None,
    )
    status = 200 if state is AnswerState.APPLIED else 202
    stored.response = {"status": status, "body": _answer_body(stored)}
    stored.save()
    record(actor=actor, action="court.receive_answer", object_type="case", object_id=case.code,
           fields=["court_messages"], data={"court": court.code, "message_id": answer.message_id,
                                             "type": answer.type.value, "in_reply_to": answer.in_reply_to,
                                             "state": state.value})
    return Receipt(status, stored.response["body"])


@transaction.atomic
def do_apply_answer(message_pk: int, *, actor, case_code: str) -> CourtMessage:
    """Staff record a court's answer that the court's account could not record (awaiting staff): the existing
    action decides whether this person may; refused, nothing changes."""
    stored = (
        CourtMessage.objects.select_for_update().select_related("case")
        .filter(pk=message_pk, case__code=case_code).first()
    )
    if stored is None or not access.visible_cases(actor).filter(pk=stored.case_id).exists():
        raise access.CaseNotFound("法院来文不存在或无权查看")
    if stored.state != AnswerState.AWAITING_STAFF:
        raise RuleViolation("该法院来文已登记")
    message = OutboxMessage.objects.filter(idempotency_key=stored.in_reply_to, kind=outbound.KIND).first()
    if message is None:
        raise RuleViolation("找不到本平台发给法院的原始消息，无法登记")
    _apply(stored.summary, message, stored.case, actor=actor)
    stored.state, stored.applied_at, stored.applied_by = AnswerState.APPLIED, clock.now(), actor
    stored.save(update_fields=["state", "applied_at", "applied_by"])
    record(actor=actor, action="court.apply_answer", object_type="case", object_id=stored.case.code,
           fields=["court_messages"], data={"court": stored.court_id, "message_id": stored.message_id,
                                             "type": stored.type})
    return stored
