"""The data of the eight people's-mediation documents (人民调解文书) and the check that one is complete.

Each document kind has one frozen dataclass. Every field has an empty default, so that a caller can build the
data from whatever it has; `validate` then names every required field that is still empty, with its Chinese
label, and the renderers refuse to produce an incomplete document.

Rules:
- A text is missing when it is empty or only whitespace; a list when it has no non-blank item; a date, a time,
  an age or a source when it is None.
- A party (当事人) needs the fields that `PARTY_REQUIRED_FIELDS` lists for the document kind. An organisation
  needs its representative instead of sex, ethnicity and age, and its credit code where a person needs an ID
  number. An agent (代理人) needs only a name.
- The application needs at least one applicant and one respondent; the acceptance register, the agreement,
  the oral-agreement register and the closing report need at least two parties; the other kinds at least one.
- Agents are printed but are not parties: the copies of an agreement are the parties + 1 (人民调解法 Art 29).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class DocumentKind(StrEnum):
    APPLICATION = "application"
    ACCEPTANCE_REGISTER = "acceptance_register"
    RIGHTS_NOTICE = "rights_notice"
    SESSION_RECORD = "session_record"
    AGREEMENT = "agreement"
    ORAL_AGREEMENT_REGISTER = "oral_agreement_register"
    RETURN_VISIT_RECORD = "return_visit_record"
    CLOSING_REPORT = "closing_report"

    @property
    def label(self) -> str:
        """The document's title as printed, e.g. "人民调解协议书"."""
        return DOCUMENT_KIND_LABELS[self]


DOCUMENT_KIND_LABELS = {
    DocumentKind.APPLICATION: "人民调解申请书",
    DocumentKind.ACCEPTANCE_REGISTER: "人民调解受理登记表",
    DocumentKind.RIGHTS_NOTICE: "人民调解当事人权利义务告知书",
    DocumentKind.SESSION_RECORD: "人民调解笔录",
    DocumentKind.AGREEMENT: "人民调解协议书",
    DocumentKind.ORAL_AGREEMENT_REGISTER: "口头调解协议登记表",
    DocumentKind.RETURN_VISIT_RECORD: "人民调解回访记录",
    DocumentKind.CLOSING_REPORT: "人民调解案件结案报告表",
}


class PartyRole(StrEnum):
    """Same values as `yidi.cases.models.PartyRole`, without importing Django."""

    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"
    AGENT = "agent"


PARTY_ROLE_LABELS = {
    PartyRole.APPLICANT: "申请人",
    PartyRole.RESPONDENT: "被申请人",
    PartyRole.THIRD_PARTY: "第三人",
    PartyRole.AGENT: "代理人",
}


class PartyKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class AcceptanceSource(StrEnum):
    APPLICATION = "application"
    OWN_INITIATIVE = "own_initiative"
    REFERRAL = "referral"


ACCEPTANCE_SOURCE_LABELS = {
    AcceptanceSource.APPLICATION: "当事人申请",
    AcceptanceSource.OWN_INITIATIVE: "主动调解",
    AcceptanceSource.REFERRAL: "有关单位移送",
}


def _required(label: str) -> dict[str, Any]:
    """Field metadata: the Chinese label, and that `validate` reports the field when it is empty."""
    return {"label": label, "required": True}


def _optional(label: str) -> dict[str, Any]:
    return {"label": label, "required": False}


@dataclass(frozen=True, kw_only=True)
class Party:
    """A party (当事人) or agent as printed on a document; values are printed exactly as given (no masking)."""

    role: PartyRole
    kind: PartyKind = PartyKind.PERSON
    name: str = ""
    sex: str = ""
    ethnicity: str = ""
    age: int | None = None
    occupation: str = ""
    id_number: str = ""
    credit_code: str = ""
    representative: str = ""
    phone: str = ""
    address: str = ""
    work_unit: str = ""

    @property
    def is_party(self) -> bool:
        """Agents act for a party but are not one themselves."""
        return self.role is not PartyRole.AGENT

    @property
    def is_organisation(self) -> bool:
        return self.kind is PartyKind.ORGANISATION


PERSON_FIELD_LABELS = {
    "name": "姓名",
    "sex": "性别",
    "ethnicity": "民族",
    "age": "年龄",
    "occupation": "职业",
    "id_number": "公民身份号码",
    "phone": "联系电话",
    "address": "住址",
    "work_unit": "工作单位",
}
ORGANISATION_FIELD_LABELS = {
    "name": "名称",
    "credit_code": "统一社会信用代码",
    "representative": "法定代表人（负责人）",
    "phone": "联系电话",
    "address": "住所地",
}


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One turn of a session record (调解笔录): who spoke and what was said."""

    speaker: str = ""
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class _Document:
    case_code: str = field(default="", metadata=_required("事项编码"))
    committee: str = field(default="", metadata=_required("人民调解委员会名称"))


@dataclass(frozen=True, kw_only=True)
class Application(_Document):
    """人民调解申请书."""

    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    summary: str = field(default="", metadata=_required("纠纷简要情况"))
    requests: tuple[str, ...] = field(default=(), metadata=_required("申请事项"))
    applied_on: date | None = field(default=None, metadata=_required("申请日期"))

    @property
    def document_on(self) -> date | None:
        return self.applied_on


@dataclass(frozen=True, kw_only=True)
class AcceptanceRegister(_Document):
    """人民调解受理登记表."""

    registered_on: date | None = field(default=None, metadata=_required("受理日期"))
    source: AcceptanceSource | None = field(default=None, metadata=_required("案件来源"))
    mediation_type: str = field(default="", metadata=_required("纠纷类型"))
    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    summary: str = field(default="", metadata=_required("纠纷简要情况"))
    mediators: tuple[str, ...] = field(default=(), metadata=_optional("承办调解员"))
    registered_by: str = field(default="", metadata=_required("登记人"))

    @property
    def document_on(self) -> date | None:
        return self.registered_on


@dataclass(frozen=True, kw_only=True)
class RightsNotice(_Document):
    """人民调解当事人权利义务告知书."""

    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    mediators: tuple[str, ...] = field(default=(), metadata=_required("人民调解员"))
    notified_on: date | None = field(default=None, metadata=_required("告知日期"))

    @property
    def document_on(self) -> date | None:
        return self.notified_on


@dataclass(frozen=True, kw_only=True)
class SessionRecord(_Document):
    """人民调解笔录."""

    matter: str = field(default="", metadata=_required("调解事由"))
    started_at: datetime | None = field(default=None, metadata=_required("调解时间"))
    ended_at: datetime | None = field(default=None, metadata=_optional("结束时间"))
    place: str = field(default="", metadata=_required("调解地点"))
    mediators: tuple[str, ...] = field(default=(), metadata=_required("人民调解员"))
    recorder: str = field(default="", metadata=_required("记录人"))
    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    attendees: tuple[str, ...] = field(default=(), metadata=_optional("其他参加人员"))
    statements: tuple[Statement, ...] = field(default=(), metadata=_required("调解记录"))
    result: str = field(default="", metadata=_required("调解结果"))

    @property
    def document_on(self) -> date | None:
        return self.started_at.date() if self.started_at else None


@dataclass(frozen=True, kw_only=True)
class Agreement(_Document):
    """人民调解协议书 (人民调解法 Art 29; 人民调解工作若干规定 Art 34)."""

    agreement_number: str = field(default="", metadata=_required("协议编号"))
    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    facts: str = field(default="", metadata=_required("纠纷主要事实"))
    disputed_issues: str = field(default="", metadata=_required("争议事项"))
    responsibility: str = field(default="", metadata=_required("各方当事人的责任"))
    agreed_terms: tuple[str, ...] = field(default=(), metadata=_required("协议内容"))
    performance_manner: str = field(default="", metadata=_required("履行方式"))
    performance_place: str = field(default="", metadata=_required("履行地点"))
    performance_period: str = field(default="", metadata=_required("履行期限"))
    mediators: tuple[str, ...] = field(default=(), metadata=_required("人民调解员"))
    recorder: str = field(default="", metadata=_optional("记录人"))
    signed_on: date | None = field(default=None, metadata=_required("签订日期"))

    @property
    def document_on(self) -> date | None:
        return self.signed_on

    @property
    def copies(self) -> int:
        """One copy for each party and one kept by the committee (人民调解法 Art 29)."""
        return sum(1 for party in self.parties if party.is_party) + 1


@dataclass(frozen=True, kw_only=True)
class OralAgreementRegister(_Document):
    """口头调解协议登记表 (人民调解法 Art 28, 30): same contents as the written agreement."""

    agreed_on: date | None = field(default=None, metadata=_required("协议达成日期"))
    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    facts: str = field(default="", metadata=_required("纠纷主要事实"))
    disputed_issues: str = field(default="", metadata=_required("争议事项"))
    agreed_terms: tuple[str, ...] = field(default=(), metadata=_required("协议内容"))
    performance_manner: str = field(default="", metadata=_required("履行方式"))
    performance_place: str = field(default="", metadata=_required("履行地点"))
    performance_period: str = field(default="", metadata=_required("履行期限"))
    mediators: tuple[str, ...] = field(default=(), metadata=_required("人民调解员"))
    registered_by: str = field(default="", metadata=_required("登记人"))

    @property
    def document_on(self) -> date | None:
        return self.agreed_on


@dataclass(frozen=True, kw_only=True)
class ReturnVisitRecord(_Document):
    """人民调解回访记录 (人民调解工作若干规定 Art 39)."""

    agreement_number: str = field(default="", metadata=_required("协议编号"))
    subject: str = field(default="", metadata=_required("回访事由"))
    parties: tuple[Party, ...] = field(default=(), metadata=_required("被回访当事人"))
    visited_on: date | None = field(default=None, metadata=_required("回访日期"))
    method: str = field(default="", metadata=_optional("回访方式"))
    visitors: tuple[str, ...] = field(default=(), metadata=_required("回访人"))
    performance: str = field(default="", metadata=_required("履行情况"))
    situation: str = field(default="", metadata=_required("回访情况"))
    measures: str = field(default="", metadata=_optional("采取的措施"))

    @property
    def document_on(self) -> date | None:
        return self.visited_on


@dataclass(frozen=True, kw_only=True)
class ClosingReport(_Document):
    """人民调解案件结案报告表."""

    file_number: str = field(default="", metadata=_required("卷号"))
    filled_on: date | None = field(default=None, metadata=_required("填表日期"))
    mediators: tuple[str, ...] = field(default=(), metadata=_required("承办人"))
    accepted_on: date | None = field(default=None, metadata=_required("受案日期"))
    closed_on: date | None = field(default=None, metadata=_required("结案日期"))
    source: AcceptanceSource | None = field(default=None, metadata=_required("案件来源"))
    mediation_type: str = field(default="", metadata=_required("纠纷类型"))
    parties: tuple[Party, ...] = field(default=(), metadata=_required("当事人"))
    facts: str = field(default="", metadata=_required("纠纷简要事实"))
    agreement_number: str = field(default="", metadata=_optional("协议编号"))
    result: str = field(default="", metadata=_required("调解结果"))
    performance: str = field(default="", metadata=_required("履行情况"))
    reviewed_by: str = field(default="", metadata=_optional("审核人"))

    @property
    def document_on(self) -> date | None:
        return self.filled_on


Document = (
    Application
    | AcceptanceRegister
    | RightsNotice
    | SessionRecord
    | Agreement
    | OralAgreementRegister
    | ReturnVisitRecord
    | ClosingReport
)

DOCUMENT_CLASSES: dict[DocumentKind, type[Document]] = {
    DocumentKind.APPLICATION: Application,
    DocumentKind.ACCEPTANCE_REGISTER: AcceptanceRegister,
    DocumentKind.RIGHTS_NOTICE: RightsNotice,
    DocumentKind.SESSION_RECORD: SessionRecord,
    DocumentKind.AGREEMENT: Agreement,
    DocumentKind.ORAL_AGREEMENT_REGISTER: OralAgreementRegister,
    DocumentKind.RETURN_VISIT_RECORD: ReturnVisitRecord,
    DocumentKind.CLOSING_REPORT: ClosingReport,
}

# The fields a person needs on each kind of document; `_party_required_fields` adapts them to organisations.
PARTY_REQUIRED_FIELDS: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.APPLICATION: ("name", "sex", "age", "address"),
    DocumentKind.ACCEPTANCE_REGISTER: ("name", "sex", "age", "address"),
    DocumentKind.RIGHTS_NOTICE: ("name",),
    DocumentKind.SESSION_RECORD: ("name",),
    DocumentKind.AGREEMENT: ("name", "sex", "id_number", "address"),
    DocumentKind.ORAL_AGREEMENT_REGISTER: ("name", "sex", "address"),
    DocumentKind.RETURN_VISIT_RECORD: ("name",),
    DocumentKind.CLOSING_REPORT: ("name", "address", "phone"),
}
TWO_SIDED_KINDS = frozenset(
    {
        DocumentKind.ACCEPTANCE_REGISTER,
        DocumentKind.AGREEMENT,
        DocumentKind.ORAL_AGREEMENT_REGISTER,
        DocumentKind.CLOSING_REPORT,
    }
)


@dataclass(frozen=True)
class MissingField:
    """A required field that is empty: `path` names it in code, `label` in Chinese."""

    path: str
    label: str

    @property
    def message(self) -> str:
        return f"缺少必填项：{self.label}"

    def __str__(self) -> str:
        return self.message


class MissingFieldsError(ValueError):
    """The document would be incomplete; `missing` lists every empty required field."""

    def __init__(self, kind: DocumentKind, missing: list[MissingField]) -> None:
        self.kind = kind
        self.missing = tuple(missing)
        super().__init__(f"{kind.label}缺少必填项：" + "、".join(item.label for item in self.missing))


def validate(kind: DocumentKind, data: Document) -> list[MissingField]:
    """Every required field of `data` that is empty, in the order the document prints them."""
    kind = DocumentKind(kind)
    check_kind(kind, data)
    missing = []
    for data_field in dataclasses.fields(data):
        value = getattr(data, data_field.name)
        if data_field.name == "parties":
            missing += _missing_parties(kind, value, data_field.metadata["label"])
        elif data_field.name == "statements":
            missing += _missing_statements(value, data_field.metadata["label"])
        elif data_field.metadata["required"] and _is_empty(value):
            missing.append(MissingField(data_field.name, data_field.metadata["label"]))
    return missing


def check_kind(kind: DocumentKind, data: object) -> None:
    expected = DOCUMENT_CLASSES[DocumentKind(kind)]
    if type(data) is not expected:
        raise TypeError(f"{kind} needs a {expected.__name__}, not a {type(data).__name__}")


def party_field_labels(party: Party) -> dict[str, str]:
    return ORGANISATION_FIELD_LABELS if party.is_organisation else PERSON_FIELD_LABELS


def _party_required_fields(kind: DocumentKind, party: Party) -> tuple[str, ...]:
    wanted = PARTY_REQUIRED_FIELDS[kind]
    if not party.is_party:
        return ("name",)
    if not party.is_organisation:
        return wanted
    replaced = []
    for name in wanted:
        if name == "id_number":
            replaced.append("credit_code")
        elif name not in ("sex", "ethnicity", "age"):
            replaced.append(name)
    if len(wanted) > 1:
        replaced.insert(1, "representative")
    return tuple(replaced)


def _missing_parties(kind: DocumentKind, parties: tuple[Party, ...], label: str) -> list[MissingField]:
    missing = []
    roles = [party.role for party in parties if party.is_party]
    if kind is DocumentKind.APPLICATION:
        for role in (PartyRole.APPLICANT, PartyRole.RESPONDENT):
            if role not in roles:
                missing.append(MissingField("parties", PARTY_ROLE_LABELS[role]))
    elif len(roles) < (2 if kind in TWO_SIDED_KINDS else 1):
        missing.append(MissingField("parties", label if not roles else f"另一方{label}"))
    for index, party in enumerate(parties):
        role_label = PARTY_ROLE_LABELS[party.role]
        owner = f"{role_label}{party.name.strip()}" if party.name.strip() else f"第{index + 1}位{role_label}"
        labels = party_field_labels(party)
        for name in _party_required_fields(kind, party):
            if _is_empty(getattr(party, name)):
                missing.append(MissingField(f"parties[{index}].{name}", f"{owner}的{labels[name]}"))
    return missing


def _missing_statements(statements: tuple[Statement, ...], label: str) -> list[MissingField]:
    if not statements:
        return [MissingField("statements", label)]
    missing = []
    for index, statement in enumerate(statements):
        if _is_empty(statement.speaker):
            missing.append(MissingField(f"statements[{index}].speaker", f"第{index + 1}段记录的发言人"))
        if _is_empty(statement.text):
            missing.append(MissingField(f"statements[{index}].text", f"第{index + 1}段记录的内容"))
    return missing


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, tuple):
        return not any(not _is_empty(item) for item in value)
    return False
