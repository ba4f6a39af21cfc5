"""The court exchange format (诉调对接, "yidi-court/1", docs/court-exchange.md), without a database.

Rules:
- Every message is one JSON object with `format` ("yidi-court/1"), `type`, `message_id` (the idempotency key: the
  same on every retry) and `sent_at`; the receiver handles a message id once.
- In (court → centre): `referral` (诉前委派 / 委托), `acceptance` (立案 / 司法确认受理, with the court's number) and
  `ruling` (the court's decision on a filing, or its ruling on a judicial confirmation).
- Out (centre → court): `referral_status` (accepted, then the mediation's result), `filing` (起诉材料 after a failed
  mediation) and `confirmation_application` (司法确认申请).
- A referral is identified by the court and its case number: the same number with the same content is a replay;
  with other content it is a conflict (`referral_conflict`).
- Validation refuses the whole message with a stable code and the field at fault; unknown fields are refused too
  (a typo must not silently drop data).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

FORMAT = "yidi-court/1"
KEY_PREFIX = "court"
CONFIRMATION_WINDOW_DAYS = 30  # 民事诉讼法 Art 205: within 30 days of the agreement taking effect
MAX_TEXT = 4000
MAX_PARTIES = 50
MAX_LIST = 100


class MessageType(StrEnum):
    REFERRAL = "referral"
    ACCEPTANCE = "acceptance"
    RULING = "ruling"
    REFERRAL_STATUS = "referral_status"
    FILING = "filing"
    CONFIRMATION_APPLICATION = "confirmation_application"

    @property
    def label(self) -> str:
        return MESSAGE_TYPE_LABELS[self]


MESSAGE_TYPE_LABELS = {
    MessageType.REFERRAL: "法院委派（委托）调解",
    MessageType.ACCEPTANCE: "法院受理（立案）",
    MessageType.RULING: "法院裁定（处理结果）",
    MessageType.REFERRAL_STATUS: "向法院反馈调解情况",
    MessageType.FILING: "调解不成移送起诉",
    MessageType.CONFIRMATION_APPLICATION: "司法确认申请",
}
INBOUND_TYPES = frozenset({MessageType.REFERRAL, MessageType.ACCEPTANCE, MessageType.RULING})
ANSWER_TYPES = frozenset({MessageType.ACCEPTANCE, MessageType.RULING})


class ReferralKind(StrEnum):
    PRE_FILING = "pre_filing"  # 诉前委派
    ENTRUSTED = "entrusted"  # 诉中委托


REFERRAL_KIND_LABELS = {ReferralKind.PRE_FILING: "诉前委派调解", ReferralKind.ENTRUSTED: "委托调解"}
# the intake channel of each referral (seeded by `yidi.cases` migration 0004)
REFERRAL_CHANNELS = {
    (ReferralKind.PRE_FILING, "ordinary"): "court_pre_filing",
    (ReferralKind.PRE_FILING, "simplified"): "court_pre_filing",
    (ReferralKind.ENTRUSTED, "ordinary"): "court_entrusted_ordinary",
    (ReferralKind.ENTRUSTED, "simplified"): "court_entrusted_simplified",
}
PROCEDURES = ("ordinary", "simplified")
PARTY_ROLES = ("applicant", "respondent", "third_party", "agent")
PARTY_KINDS = ("natural", "organisation")
RULING_RESULTS = ("confirmed", "rejected")


class AnswerState(StrEnum):
    APPLIED = "applied"  # recorded on the matter by the existing action
    AWAITING_STAFF = "awaiting_staff"  # the court's account may not record it: staff record it from /court/


ANSWER_STATE_LABELS = {AnswerState.APPLIED: "已登记", AnswerState.AWAITING_STAFF: "待工作人员登记"}


class FormatError(ValueError):
    """The message does not follow the format: `code` (stable, English), `field` (dotted path) and a Chinese
    message. Nothing of the message is written."""

    def __init__(self, code: str, field: str, message: str):
        self.code, self.field = code, field
        super().__init__(message)


# --- parsing -----------------------------------------------------------------------------------------------------


def _object(value, field: str) -> dict:
    if not isinstance(value, dict):
        raise FormatError("invalid_field", field, f"“{field}”须为 JSON 对象")
    return value


def _no_unknown(data: dict, allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        name = f"{prefix}{unknown[0]}"
        raise FormatError("unknown_field", name, f"未知字段“{name}”")


def _text(data: dict, name: str, prefix: str, *, required: bool = True, max_length: int = 200) -> str:
    field = f"{prefix}{name}"
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FormatError("invalid_field", field, f"“{field}”须为字符串")
    value = value.strip()
    if required and not value:
        raise FormatError("missing_field", field, f"缺少必填字段“{field}”")
    if len(value) > max_length:
        raise FormatError("invalid_field", field, f"“{field}”不能超过{max_length}个字符")
    return value


def _date(data: dict, name: str, prefix: str, *, required: bool = True) -> date | None:
    field = f"{prefix}{name}"
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise FormatError("missing_field", field, f"缺少必填字段“{field}”")
        return None
    if not isinstance(value, str):
        raise FormatError("invalid_field", field, f"“{field}”须为日期字符串（YYYY-MM-DD）")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FormatError("invalid_field", field, f"“{field}”不是有效日期（YYYY-MM-DD）") from None
    if not 2000 <= day.year <= 2100:
        raise FormatError("invalid_field", field, f"“{field}”超出有效范围")
    return day


def _choice(data: dict, name: str, prefix: str, choices, *, default: str | None = None) -> str:
    field = f"{prefix}{name}"
    value = data.get(name, default)
    if value is None:
        raise FormatError("missing_field", field, f"缺少必填字段“{field}”")
    if value not in choices:
        raise FormatError("invalid_field", field, f"“{field}”须为以下之一：{'、'.join(choices)}")
    return value


def _list(data: dict, name: str, prefix: str, *, required: bool, max_items: int = MAX_LIST) -> list:
    field = f"{prefix}{name}"
    value = data.get(name, [])
    if not isinstance(value, list):
        raise FormatError("invalid_field", field, f"“{field}”须为数组")
    if required and not value:
        raise FormatError("missing_field", field, f"“{field}”至少需要一项")
    if len(value) > max_items:
        raise FormatError("invalid_field", field, f"“{field}”不能超过{max_items}项")
    return value


@dataclass(frozen=True)
class Envelope:
    type: MessageType
    message_id: str
    body: dict


def parse_envelope(data, *, expected: MessageType) -> Envelope:
    """Check the common part of an inbound message and its type."""
    data = _object(data, "$")
    if data.get("format") != FORMAT:
        raise FormatError("unsupported_format", "format", f"不支持的格式，须为“{FORMAT}”")
    if data.get("type") != expected.value:
        raise FormatError("wrong_message_type", "type", f"此接口只接收“{expected.value}”类型的消息")
    message_id = _text(data, "message_id", "", max_length=120)
    if any(not (0x21 <= ord(c) <= 0x7E) for c in message_id):
        raise FormatError("invalid_field", "message_id", "“message_id”只能包含可见 ASCII 字符")
    _text(data, "sent_at", "", max_length=40)
    return Envelope(expected, message_id, data)


@dataclass(frozen=True)
class PartyIn:
    role: str
    kind: str
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    credit_code: str = ""


@dataclass(frozen=True)
class DocumentIn:
    name: str
    sha256: str = ""
    pages: int | None = None


@dataclass(frozen=True)
class ReferralIn:
    """A court's referral as received (`referral` body of a `referral` message)."""

    court_code: str
    court_name: str
    kind: ReferralKind
    procedure: str
    court_case_number: str
    referred_on: date
    deadline_on: date | None
    cause_of_action_code: str
    cause_of_action: str
    region: str
    address: str
    title: str
    facts: str
    mediation_type: str
    parties: tuple[PartyIn, ...]
    claims: tuple[str, ...]
    documents: tuple[DocumentIn, ...]
    content_sha256: str

    @property
    def channel_code(self) -> str:
        return REFERRAL_CHANNELS[(self.kind, self.procedure)]

    @property
    def description(self) -> str:
        """The matter's description: the facts, then the claims (诉讼请求) numbered."""
        lines = [self.facts]
        if self.claims:
            lines += ["", "诉讼请求："] + [f"{number}. {claim}" for number, claim in enumerate(self.claims, 1)]
        return "\n".join(lines)


REFERRAL_FIELDS = {"kind", "procedure", "court_case_number", "referred_on", "deadline_on", "cause_of_action", "region",
                   "address", "title", "facts", "mediation_type", "parties", "claims", "documents"}
PARTY_FIELDS = {"role", "kind", "name", "id_number", "phone", "address", "credit_code"}
DOCUMENT_FIELDS = {"name", "sha256", "pages"}


def canonical_sha256(value) -> str:
    """The SHA-256 of a JSON value written canonically (sorted keys, no spaces): equal content, equal digest."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _party(value, index: int) -> PartyIn:
    prefix = f"referral.parties[{index}]."
    data = _object(value, prefix[:-1])
    _no_unknown(data, PARTY_FIELDS, prefix)
    return PartyIn(
        role=_choice(data, "role", prefix, PARTY_ROLES), kind=_choice(data, "kind", prefix, PARTY_KINDS, default="natural"),
        name=_text(data, "name", prefix, max_length=100), id_number=_text(data, "id_number", prefix, required=False,
                                                                           max_length=18),
        phone=_text(data, "phone", prefix, required=False, max_length=20),
        address=_text(data, "address", prefix, required=False, max_length=200),
        credit_code=_text(data, "credit_code", prefix, required=False, max_length=18),
    )


def _document(value, index: int) -> DocumentIn:
    prefix = f"referral.documents[{index}]."
    data = _object(value, prefix[:-1])
    _no_unknown(data, DOCUMENT_FIELDS, prefix)
    sha = _text(data, "sha256", prefix, required=False, max_length=64).lower()
    if sha and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
        raise FormatError("invalid_field", f"{prefix}sha256", f"“{prefix}sha256”须为64位十六进制摘要")
    pages = data.get("pages")
    if pages is not None and (not isinstance(pages, int) or isinstance(pages, bool) or not 0 < pages < 100000):
        raise FormatError("invalid_field", f"{prefix}pages", f"“{prefix}pages”须为正整数")
    return DocumentIn(name=_text(data, "name", prefix, max_length=200), sha256=sha, pages=pages)


def parse_referral(data) -> tuple[Envelope, ReferralIn]:
    """A `referral` message → its envelope and the referral; `FormatError` on the first problem."""
    envelope = parse_envelope(data, expected=MessageType.REFERRAL)
    _no_unknown(envelope.body, {"format", "type", "message_id", "sent_at", "court", "referral"}, "")
    court = _object(envelope.body.get("court"), "court")
    _no_unknown(court, {"code", "name"}, "court.")
    body = _object(envelope.body.get("referral"), "referral")
    prefix = "referral."
    _no_unknown(body, REFERRAL_FIELDS, prefix)
    cause = _object(body.get("cause_of_action"), "referral.cause_of_action")
    _no_unknown(cause, {"code", "name"}, "referral.cause_of_action.")
    referred_on = _date(body, "referred_on", prefix)
    deadline_on = _date(body, "deadline_on", prefix, required=False)
    if deadline_on is not None and deadline_on < referred_on:
        raise FormatError("invalid_field", "referral.deadline_on", "“referral.deadline_on”不能早于委派（委托）日期")
    region = _text(body, "region", prefix, max_length=15)
    if not region.isdigit():
        raise FormatError("invalid_field", "referral.region", "“referral.region”须为行政区划代码（数字）")
    parties = tuple(_party(p, i) for i, p in enumerate(_list(body, "parties", prefix, required=True,
                                                               max_items=MAX_PARTIES)))
    if not any(p.role == "applicant" for p in parties):
        raise FormatError("missing_field", "referral.parties", "当事人中至少需要一名申请人（原告）")
    claims = []
    for index, claim in enumerate(_list(body, "claims", prefix, required=True)):
        if not isinstance(claim, str) or not claim.strip():
            raise FormatError("invalid_field", f"referral.claims[{index}]", "每项诉讼请求须为非空字符串")
        claims.append(claim.strip()[:MAX_TEXT])
    documents = tuple(_document(d, i) for i, d in enumerate(_list(body, "documents", prefix, required=False)))
    cause_name = _text(cause, "name", "referral.cause_of_action.", max_length=100)
    title = _text(body, "title", prefix, required=False, max_length=200)
    referral = ReferralIn(
        court_code=_text(court, "code", "court.", max_length=30), court_name=_text(court, "name", "court.", max_length=80),
        kind=ReferralKind(_choice(body, "kind", prefix, tuple(ReferralKind))),
        procedure=_choice(body, "procedure", prefix, PROCEDURES, default="ordinary"),
        court_case_number=_text(body, "court_case_number", prefix, max_length=60), referred_on=referred_on,
        deadline_on=deadline_on, cause_of_action_code=_text(cause, "code", "referral.cause_of_action.",
                                                             required=False, max_length=30),
        cause_of_action=cause_name, region=region, address=_text(body, "address", prefix, required=False),
        title=title or f"{cause_name}（{_text(body, 'court_case_number', prefix, max_length=60)}）",
        facts=_text(body, "facts", prefix, max_length=MAX_TEXT),
        mediation_type=_text(body, "mediation_type", prefix, required=False, max_length=40),
        parties=parties, claims=tuple(claims), documents=documents,
        content_sha256=canonical_sha256({"court": court, "referral": body}),
    )
    return envelope, referral


@dataclass(frozen=True)
class AnswerIn:
    """A court's `acceptance` or `ruling` of one of our messages (`in_reply_to`)."""

    type: MessageType
    message_id: str
    in_reply_to: str
    court_code: str
    on: date  # accepted_on / ruled_on
    number: str  # the court's case number (立案案号, 调确字号)
    result: str  # ruling: "confirmed" / "rejected" for a confirmation, the decision's text for a filing
    note: str
    routes_told: str
    content_sha256: str


ANSWER_FIELDS = {
    MessageType.ACCEPTANCE: {"in_reply_to", "court_case_number", "accepted_on", "note"},
    MessageType.RULING: {"in_reply_to", "court_case_number", "ruled_on", "result", "note", "routes_told"},
}


def parse_answer(data, *, expected: MessageType) -> AnswerIn:
    envelope = parse_envelope(data, expected=expected)
    _no_unknown(envelope.body, {"format", "type", "message_id", "sent_at", "court", expected.value}, "")
    court = _object(envelope.body.get("court"), "court")
    _no_unknown(court, {"code", "name"}, "court.")
    prefix = f"{expected.value}."
    body = _object(envelope.body.get(expected.value), expected.value)
    _no_unknown(body, ANSWER_FIELDS[expected], prefix)
    is_ruling = expected is MessageType.RULING
    return AnswerIn(
        type=expected, message_id=envelope.message_id,
        in_reply_to=_text(body, "in_reply_to", prefix, max_length=120),
        court_code=_text(court, "code", "court.", max_length=30),
        on=_date(body, "ruled_on" if is_ruling else "accepted_on", prefix),
        number=_text(body, "court_case_number", prefix, required=is_ruling, max_length=60),
        result=_text(body, "result", prefix, max_length=200) if is_ruling else "",
        note=_text(body, "note", prefix, required=False, max_length=MAX_TEXT),
        routes_told=_text(body, "routes_told", prefix, required=False, max_length=MAX_TEXT) if is_ruling else "",
        content_sha256=canonical_sha256({"court": court, expected.value: body}),
    )


# --- outbound ----------------------------------------------------------------------------------------------------


def idempotency_key(court_code: str, case_code: str, event_seq: int) -> str:
    """One message per court and timeline row; the court de-duplicates on it (`message_id`, `Yidi-Message-Id`)."""
    return f"{KEY_PREFIX}:{court_code}:{case_code}:{event_seq}"


def envelope(message_type: MessageType, *, key: str, sent_at: str, court_code: str, court_name: str) -> dict:
    return {"format": FORMAT, "type": message_type.value, "message_id": key, "sent_at": sent_at,
            "court": {"code": court_code, "name": court_name}}


# the mediation's result as reported to the court, by the matter's outcome
RESULTS = {
    "written_agreement": "agreement",
    "oral_agreement": "agreement",
    "mediation_failed": "failure",
    "refused_by_party": "refusal",
}
RESULT_LABELS = {"agreement": "调解成功（达成协议）", "failure": "调解不成", "refusal": "当事人拒绝调解", "other": "其他方式办结"}


def result_for(outcome: str) -> str:
    return RESULTS.get(outcome, "other")


# the referral's state as the court sees it, by the matter's status
REFERRAL_STATES = {
    "registered": "accepted", "accepted": "accepted", "assigned": "accepted", "returned": "accepted",
    "signed": "accepted", "in_progress": "mediating", "diverted": "diverted", "not_accepted": "declined",
}
REFERRAL_STATE_LABELS = {"accepted": "已接收", "mediating": "调解中", "diverted": "已分流", "declined": "不予受理",
                         "concluded": "调解结束"}


def referral_state(case_status: str) -> str:
    return REFERRAL_STATES.get(case_status, "concluded")
