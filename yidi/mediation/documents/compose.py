"""The templates of the eight documents, as code: `compose(kind, data)` lays out the text of one document.

Rules:
- Fixed legal wording (effect of the agreement, rights and duties, judicial confirmation) is written here,
  once, in Chinese; everything else comes from the data.
- Empty optional values are left out rather than printed as blanks.
- Dates are printed as "2026年5月20日"; times as Asia/Shanghai local time, "2026年5月12日9时30分".
- `compose` assumes `validate` found nothing missing; `render_docx`/`render_pdf` check that first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from yidi.mediation.documents.domain import (
    ACCEPTANCE_SOURCE_LABELS,
    PARTY_ROLE_LABELS,
    AcceptanceRegister,
    Agreement,
    Application,
    ClosingReport,
    Document,
    DocumentKind,
    OralAgreementRegister,
    Party,
    PartyRole,
    ReturnVisitRecord,
    RightsNotice,
    SessionRecord,
    party_field_labels,
)
from yidi.mediation.documents.layout import (
    Align,
    Block,
    Form,
    FormCell,
    FormRow,
    Layout,
    Paragraph,
    Signatures,
    Title,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNATURE_BLANK = "＿" * 8
DIGITS = "零一二三四五六七八九"

AGREEMENT_EFFECT = (
    "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。"
    "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"
)
JUDICIAL_CONFIRMATION = (
    "双方当事人认为有必要的，可以自本协议生效之日起三十日内共同向人民法院申请司法确认。"
    "人民法院依法确认调解协议有效，一方当事人拒绝履行或者未全部履行的，对方当事人可以向人民法院申请强制执行。"
)
ORAL_AGREEMENT_EFFECT = "口头调解协议自各方当事人达成协议之日起生效，当事人应当按照约定履行。"
APPLICATION_STATEMENT = (
    "申请人已知悉人民调解自愿、平等、不收费的原则和当事人在人民调解活动中的权利义务，"
    "自愿申请人民调解委员会调解上述纠纷。"
)
RIGHTS = (
    "（一）选择或者接受人民调解员；",
    "（二）接受调解、拒绝调解或者要求终止调解；",
    "（三）要求调解公开进行或者不公开进行；",
    "（四）自主表达意愿、自愿达成调解协议。",
)
DUTIES = (
    "（一）如实陈述纠纷事实；",
    "（二）遵守调解现场秩序，尊重人民调解员；",
    "（三）尊重对方当事人行使权利。",
)


def compose(kind: DocumentKind, data: Document, *, created_at: datetime | None = None) -> Layout:
    """The layout of `data`; `created_at` (the file's metadata date) defaults to 00:00 of the document's date."""
    blocks: tuple[Block, ...] = tuple(_COMPOSERS[DocumentKind(kind)](data))
    if created_at is None:
        created_at = datetime.combine(_document_on(data), time(), tzinfo=SHANGHAI)
    return Layout(
        title=DocumentKind(kind).label,
        case_code=data.case_code.strip(),
        committee=data.committee.strip(),
        created_at=created_at,
        blocks=blocks,
    )


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_time(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return f"{chinese_date(moment.date())}{moment.hour}时{moment.minute:02d}分"


def chinese_number(number: int) -> str:
    """1 → 一, 10 → 十, 13 → 十三, 25 → 二十五; from 100 on, Arabic digits."""
    if 0 <= number < 10:
        return DIGITS[number]
    if number < 20:
        return "十" + (DIGITS[number % 10] if number % 10 else "")
    if number < 100:
        return DIGITS[number // 10] + "十" + (DIGITS[number % 10] if number % 10 else "")
    return str(number)


def describe_party(party: Party) -> str:
    """One line such as "张建国，男，汉族，58岁，农民，公民身份号码：…，住址：…" (empty values left out)."""
    labels = party_field_labels(party)
    parts = [party.name.strip()]
    if party.is_organisation:
        for name in ("credit_code", "address", "representative", "phone"):
            value = getattr(party, name).strip()
            if value:
                parts.append(f"{labels[name]}：{value}")
        return "，".join(parts)
    parts += [value for value in (party.sex.strip(), party.ethnicity.strip()) if value]
    if party.age is not None:
        parts.append(f"{party.age}岁")
    if party.occupation.strip():
        parts.append(party.occupation.strip())
    for name in ("id_number", "work_unit", "address", "phone"):
        value = getattr(party, name).strip()
        if value:
            parts.append(f"{labels[name]}：{value}")
    return "，".join(parts)


def _document_on(data: Document) -> date:
    day = data.document_on
    if day is None:  # pragma: no cover - validate() rejects this before compose is called
        raise ValueError("the document has no date")
    return day


def _texts(values: tuple[str, ...]) -> list[str]:
    return [value.strip() for value in values if value.strip()]


def _names(values: tuple[str, ...]) -> str:
    return "、".join(_texts(values))


def _real_parties(parties: tuple[Party, ...], role: PartyRole | None = None) -> list[Party]:
    return [party for party in parties if party.is_party and (role is None or party.role is role)]


def _party_names(parties: list[Party]) -> str:
    return "、".join(party.name.strip() for party in parties)


def _numbered(items: list[str]) -> list[Paragraph]:
    return [Paragraph(f"{chinese_number(number)}、{item}") for number, item in enumerate(items, start=1)]


def _party_lines(parties: tuple[Party, ...]) -> list[Paragraph]:
    return [
        Paragraph(f"{PARTY_ROLE_LABELS[party.role]}：{describe_party(party)}。", indent=False)
        for party in parties
    ]


def _party_rows(parties: tuple[Party, ...]) -> list[FormRow]:
    return [
        FormRow((FormCell(PARTY_ROLE_LABELS[party.role], describe_party(party)),), min_lines=2)
        for party in parties
    ]


def _party_signatures(parties: tuple[Party, ...]) -> list[Paragraph]:
    lines = []
    for party in parties:
        role = PARTY_ROLE_LABELS[party.role]
        if party.is_organisation:
            text = f"{role}：{party.name.strip()}（盖章）　法定代表人（负责人）签名：{SIGNATURE_BLANK}"
        else:
            text = f"{role}：{party.name.strip()}　签名或按指印：{SIGNATURE_BLANK}"
        lines.append(Paragraph(text, indent=False))
    return lines


def _person_signatures(role: str, names: tuple[str, ...]) -> list[Paragraph]:
    return [Paragraph(f"{role}：{name}　签名：{SIGNATURE_BLANK}", indent=False) for name in _texts(names)]


def _seal_and_date(committee: str, day: date) -> list[Paragraph]:
    return [
        Paragraph(f"{committee.strip()}（印章）", indent=False, align=Align.RIGHT),
        Paragraph(chinese_date(day), indent=False, align=Align.RIGHT),
    ]


def _seal_row(committee: str, day: date) -> FormRow:
    """The last row of a register form: the committee's seal and the date, bottom right."""
    text = f"{committee.strip()}（印章）\n{chinese_date(day)}"
    return FormRow((FormCell("", text),), min_lines=2, align=Align.RIGHT)


def _label(text: str) -> Paragraph:
    return Paragraph(text, indent=False, bold=True)


def _compose_application(data: Application) -> list[Block]:
    blocks: list[Block] = [Title(DocumentKind.APPLICATION.label), *_party_lines(data.parties)]
    blocks += [_label("纠纷简要情况："), Paragraph(data.summary.strip())]
    blocks += [_label("申请事项："), *_numbered(_texts(data.requests))]
    blocks += [
        Paragraph(APPLICATION_STATEMENT),
        Paragraph("此致"),
        Paragraph(data.committee.strip(), indent=False),
    ]
    applicants = tuple(_real_parties(data.parties, PartyRole.APPLICANT))
    date_line = Paragraph(chinese_date(_document_on(data)), indent=False, align=Align.RIGHT)
    blocks.append(Signatures((*_party_signatures(applicants), date_line)))
    return blocks


def _compose_acceptance_register(data: AcceptanceRegister) -> list[Block]:
    assert data.registered_on is not None and data.source is not None
    applicants = _real_parties(data.parties, PartyRole.APPLICANT)
    others = [party for party in _real_parties(data.parties) if party not in applicants]
    # Own-initiative mediation may have no applicant: name the first party against the rest.
    if not applicants:
        applicants, others = others[:1], others[1:]
    consent = (
        f"本委员会经当事人同意，调解{_party_names(applicants)}与{_party_names(others)}之间的"
        f"{data.mediation_type.strip()}纠纷。"
    )
    rows = [
        FormRow(
            (
                FormCell("受理日期", chinese_date(data.registered_on)),
                FormCell("案件来源", ACCEPTANCE_SOURCE_LABELS[data.source]),
            )
        ),
        FormRow(
            (
                FormCell("纠纷类型", data.mediation_type.strip()),
                FormCell("承办调解员", _names(data.mediators)),
            )
        ),
        *_party_rows(data.parties),
        FormRow((FormCell("纠纷简要情况", data.summary.strip()),), min_lines=5),
        FormRow((FormCell("", consent),)),
        FormRow(
            (FormCell("当事人签名", ""), FormCell("登记人（签名）", data.registered_by.strip())), min_lines=2
        ),
        _seal_row(data.committee, data.registered_on),
    ]
    return [
        Title(DocumentKind.ACCEPTANCE_REGISTER.label),
        Form(tuple(rows)),
    ]


def _compose_rights_notice(data: RightsNotice) -> list[Block]:
    assert data.notified_on is not None
    parties = tuple(party for party in data.parties if party.is_party)
    return [
        Title(DocumentKind.RIGHTS_NOTICE.label),
        Paragraph(f"{_party_names(list(parties))}：", indent=False),
        Paragraph(
            "根据《中华人民共和国人民调解法》的规定，人民调解委员会调解民间纠纷，遵循当事人自愿、平等的原则，"
            "不违背法律、法规和国家政策，尊重当事人的权利，不收取任何费用。"
            f"您的纠纷由{data.committee.strip()}人民调解员{_names(data.mediators)}主持调解。"
            "现将您在人民调解活动中享有的权利和承担的义务告知如下："
        ),
        _label("一、当事人享有下列权利："),
        *[Paragraph(text) for text in RIGHTS],
        _label("二、当事人履行下列义务："),
        *[Paragraph(text) for text in DUTIES],
        _label("三、其他事项："),
        Paragraph(
            "（一）人民调解员应当公正调解，不得泄露当事人的个人隐私、商业秘密；"
            "当事人认为人民调解员与纠纷有利害关系或者可能影响公正调解的，可以要求更换。"
        ),
        Paragraph(
            "（二）人民调解不是解决纠纷的必经程序。当事人一方明确拒绝调解的，不得调解；"
            "调解不成的，当事人可以依法通过仲裁、行政、司法等途径维护自己的权利。"
        ),
        Paragraph(
            "（三）经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"
            + JUDICIAL_CONFIRMATION
        ),
        Paragraph("以上内容，当事人已阅读（听取）并知悉。"),
        Signatures((*_party_signatures(parties), *_seal_and_date(data.committee, data.notified_on))),
    ]


def _compose_session_record(data: SessionRecord) -> list[Block]:
    assert data.started_at is not None
    when = chinese_time(data.started_at)
    if data.ended_at is not None:
        when += f"至{chinese_time(data.ended_at)}"
    parties = "；".join(f"{PARTY_ROLE_LABELS[party.role]}{party.name.strip()}" for party in data.parties)
    blocks: list[Block] = [
        Title(DocumentKind.SESSION_RECORD.label),
        Paragraph(f"调解事由：{data.matter.strip()}", indent=False),
        Paragraph(f"时间：{when}", indent=False),
        Paragraph(f"地点：{data.place.strip()}", indent=False),
        Paragraph(f"人民调解员：{_names(data.mediators)}　　记录人：{data.recorder.strip()}", indent=False),
        Paragraph(f"当事人：{parties}", indent=False),
    ]
    if _texts(data.attendees):
        blocks.append(Paragraph(f"其他参加人员：{_names(data.attendees)}", indent=False))
    blocks.append(_label("调解记录："))
    blocks += [
        Paragraph(f"{statement.speaker.strip()}：{statement.text.strip()}") for statement in data.statements
    ]
    blocks += [
        _label("调解结果："),
        Paragraph(data.result.strip()),
        Paragraph("以上笔录经当事人阅读（或向当事人宣读）无误。"),
        Signatures(
            (
                *_party_signatures(data.parties),
                *_person_signatures("人民调解员", data.mediators),
                *_person_signatures("记录人", (data.recorder,)),
            )
        ),
    ]
    return blocks


def _compose_agreement(data: Agreement) -> list[Block]:
    assert data.signed_on is not None
    committee = data.committee.strip()
    blocks: list[Block] = [
        Title(DocumentKind.AGREEMENT.label),
        Paragraph(f"编号：{data.agreement_number.strip()}", indent=False, align=Align.RIGHT),
        *_party_lines(data.parties),
        _label("纠纷主要事实、争议事项及各方当事人的责任："),
        Paragraph(data.facts.strip()),
        Paragraph(f"争议事项：{data.disputed_issues.strip()}"),
        Paragraph(f"各方当事人的责任：{data.responsibility.strip()}"),
        Paragraph(f"经{committee}调解，各方当事人在平等协商、互谅互让的基础上，自愿达成如下协议："),
        *_numbered(_texts(data.agreed_terms)),
        _label("履行方式、地点和期限："),
        Paragraph(f"履行方式：{data.performance_manner.strip()}"),
        Paragraph(f"履行地点：{data.performance_place.strip()}"),
        Paragraph(f"履行期限：{data.performance_period.strip()}"),
        Paragraph(AGREEMENT_EFFECT),
        Paragraph(JUDICIAL_CONFIRMATION),
        Paragraph(
            f"本协议一式{chinese_number(data.copies)}份，当事人各执一份，{committee}留存一份，具有同等效力。"
        ),
    ]
    recorder = (data.recorder,) if data.recorder.strip() else ()
    signatures = (
        Paragraph("当事人（签名、盖章或者按指印）：", indent=False),
        *_party_signatures(data.parties),
        *_person_signatures("人民调解员", data.mediators),
        *_person_signatures("记录人", recorder),
        *_seal_and_date(committee, data.signed_on),
    )
    blocks.append(Signatures(signatures))
    return blocks


def _compose_oral_agreement_register(data: OralAgreementRegister) -> list[Block]:
    assert data.agreed_on is not None
    terms = "\n".join(
        f"{chinese_number(n)}、{term}" for n, term in enumerate(_texts(data.agreed_terms), start=1)
    )
    rows = [
        FormRow(
            (
                FormCell("协议达成日期", chinese_date(data.agreed_on)),
                FormCell("人民调解员", _names(data.mediators)),
            )
        ),
        *_party_rows(data.parties),
        FormRow((FormCell("纠纷主要事实", data.facts.strip()),), min_lines=4),
        FormRow((FormCell("争议事项", data.disputed_issues.strip()),), min_lines=2),
        FormRow((FormCell("协议内容", terms),), min_lines=4),
        FormRow((FormCell("履行方式", data.performance_manner.strip()),)),
        FormRow((FormCell("履行地点", data.performance_place.strip()),)),
        FormRow((FormCell("履行期限", data.performance_period.strip()),)),
        FormRow((FormCell("", ORAL_AGREEMENT_EFFECT),)),
        FormRow(
            (FormCell("当事人签名", ""), FormCell("登记人（签名）", data.registered_by.strip())), min_lines=2
        ),
        _seal_row(data.committee, data.agreed_on),
    ]
    return [
        Title(DocumentKind.ORAL_AGREEMENT_REGISTER.label),
        Form(tuple(rows)),
    ]


def _compose_return_visit_record(data: ReturnVisitRecord) -> list[Block]:
    assert data.visited_on is not None
    rows = [
        FormRow(
            (
                FormCell("协议编号", data.agreement_number.strip()),
                FormCell("回访日期", chinese_date(data.visited_on)),
            )
        ),
        FormRow((FormCell("回访事由", data.subject.strip()),)),
        FormRow(
            (
                FormCell("被回访当事人", _party_names(list(data.parties))),
                FormCell("回访方式", data.method.strip()),
            )
        ),
        FormRow((FormCell("回访人", _names(data.visitors)),)),
        FormRow((FormCell("履行情况", data.performance.strip()),), min_lines=3),
        FormRow((FormCell("回访情况", data.situation.strip()),), min_lines=4),
    ]
    if data.measures.strip():
        rows.append(FormRow((FormCell("采取的措施", data.measures.strip()),), min_lines=2))
    rows += [
        FormRow(
            (FormCell("被回访人签名", ""), FormCell("回访人（签名）", _names(data.visitors))), min_lines=2
        ),
        _seal_row(data.committee, data.visited_on),
    ]
    return [
        Title(DocumentKind.RETURN_VISIT_RECORD.label),
        Form(tuple(rows)),
    ]


def _compose_closing_report(data: ClosingReport) -> list[Block]:
    assert data.filled_on and data.accepted_on and data.closed_on and data.source is not None
    party_rows = [
        FormRow(
            (
                FormCell(
                    PARTY_ROLE_LABELS[party.role],
                    f"{party.name.strip()}，住址：{party.address.strip()}，联系电话：{party.phone.strip()}",
                ),
            )
        )
        for party in data.parties
    ]
    rows = [
        FormRow(
            (FormCell("卷号", data.file_number.strip()), FormCell("填表日期", chinese_date(data.filled_on)))
        ),
        FormRow((FormCell("承办单位", data.committee.strip()), FormCell("承办人", _names(data.mediators)))),
        FormRow(
            (
                FormCell("受案日期", chinese_date(data.accepted_on)),
                FormCell("结案日期", chinese_date(data.closed_on)),
            )
        ),
        FormRow(
            (
                FormCell("案件来源", ACCEPTANCE_SOURCE_LABELS[data.source]),
                FormCell("纠纷类型", data.mediation_type.strip()),
            )
        ),
        *party_rows,
        FormRow((FormCell("纠纷简要事实", data.facts.strip()),), min_lines=4),
    ]
    if data.agreement_number.strip():
        rows.append(FormRow((FormCell("协议编号", data.agreement_number.strip()),)))
    rows += [
        FormRow((FormCell("调解结果", data.result.strip()),), min_lines=2),
        FormRow((FormCell("履行情况", data.performance.strip()),), min_lines=2),
        FormRow(
            (
                FormCell("承办人（签名）", _names(data.mediators)),
                FormCell("审核人（签名）", data.reviewed_by.strip()),
            ),
            min_lines=2,
        ),
        _seal_row(data.committee, data.filled_on),
    ]
    return [
        Title(DocumentKind.CLOSING_REPORT.label),
        Form(tuple(rows)),
    ]


_COMPOSERS: dict[DocumentKind, Callable[[Any], list[Block]]] = {
    DocumentKind.APPLICATION: _compose_application,
    DocumentKind.ACCEPTANCE_REGISTER: _compose_acceptance_register,
    DocumentKind.RIGHTS_NOTICE: _compose_rights_notice,
    DocumentKind.SESSION_RECORD: _compose_session_record,
    DocumentKind.AGREEMENT: _compose_agreement,
    DocumentKind.ORAL_AGREEMENT_REGISTER: _compose_oral_agreement_register,
    DocumentKind.RETURN_VISIT_RECORD: _compose_return_visit_record,
    DocumentKind.CLOSING_REPORT: _compose_closing_report,
}
