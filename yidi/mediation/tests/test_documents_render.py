"""Every document kind as .docx and PDF, read back and checked for the exact values the law requires."""

import io
import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from yidi.mediation.documents import DocumentKind, Party, PartyKind, PartyRole, render_docx, render_pdf
from yidi.mediation.documents import builders as b
from yidi.mediation.documents.compose import APPLICATION_STATEMENT, DUTIES, ORAL_AGREEMENT_EFFECT, RIGHTS
from yidi.mediation.tests.documents_support import (
    MAKERS,
    docx_header,
    docx_text,
    pdf_pages,
    pdf_text,
    squeeze,
)

HEADER = "事项编码：330681-2026-000123"

# For each kind, the values a reader must find in the document (whitespace is ignored when comparing).
EXPECTED = {
    DocumentKind.APPLICATION: [
        "人民调解申请书",
        "申请人：张建国，男，汉族，58岁，农民，公民身份号码：330681196803150016，"
        "住址：浙江省诸暨市枫桥镇枫溪村上宅12号，联系电话：13805751234。",
        "被申请人：李根水，男，汉族，62岁，农民，公民身份号码：330681196401200033，"
        "住址：浙江省诸暨市枫桥镇枫溪村上宅14号，联系电话：13905759876。",
        b.FACTS,
        "一、请求调解被申请人恢复两家之间共用排水沟的原状；",
        "二、请求调解被申请人赔偿申请人厨房地面和橱柜受损费用人民币伍仟元。",
        APPLICATION_STATEMENT,
        "此致诸暨市枫桥镇人民调解委员会",
        "申请人：张建国签名或按指印：",
        "2026年5月8日",
    ],
    DocumentKind.ACCEPTANCE_REGISTER: [
        "人民调解受理登记表",
        "受理日期2026年5月8日",
        "案件来源当事人申请",
        "纠纷类型邻里",
        "承办调解员陈立峰",
        "330681196803150016",
        b.FACTS,
        "本委员会经当事人同意，调解张建国与李根水之间的邻里纠纷。",
        "登记人（签名）王秀英",
        "诸暨市枫桥镇人民调解委员会（印章）2026年5月8日",
    ],
    DocumentKind.RIGHTS_NOTICE: [
        "人民调解当事人权利义务告知书",
        "张建国、李根水：",
        "您的纠纷由诸暨市枫桥镇人民调解委员会人民调解员陈立峰主持调解。",
        *RIGHTS,
        *DUTIES,
        "可以自本协议生效之日起三十日内共同向人民法院申请司法确认",
        "申请人：张建国签名或按指印：",
        "被申请人：李根水签名或按指印：",
        "2026年5月8日",
    ],
    DocumentKind.SESSION_RECORD: [
        "人民调解笔录",
        "调解事由：张建国与李根水排水沟邻里纠纷",
        "时间：2026年5月20日9时30分至2026年5月20日11时15分",
        "地点：诸暨市枫桥镇人民调解委员会调解室",
        "人民调解员：陈立峰",
        "记录人：王秀英",
        "当事人：申请人张建国；被申请人李根水",
        "其他参加人员：枫溪村人民调解委员会委员何永根",
        *[f"{statement.speaker}：{statement.text}" for statement in b.make_session_record().statements],
        "调解结果：双方自愿达成调解协议，制作人民调解协议书，编号（2026）枫人调字第018号。",
        "以上笔录经当事人阅读（或向当事人宣读）无误。",
    ],
    DocumentKind.AGREEMENT: [
        "人民调解协议书",
        "编号：（2026）枫人调字第018号",
        "申请人：张建国，男，汉族，58岁，农民，公民身份号码：330681196803150016，"
        "住址：浙江省诸暨市枫桥镇枫溪村上宅12号，联系电话：13805751234。",
        "被申请人：李根水，男，汉族，62岁，农民，公民身份号码：330681196401200033，"
        "住址：浙江省诸暨市枫桥镇枫溪村上宅14号，联系电话：13905759876。",
        b.FACTS,
        f"争议事项：{b.DISPUTED_ISSUES}",
        f"各方当事人的责任：{b.RESPONSIBILITY}",
        "一、" + b.AGREED_TERMS[0],
        "二、" + b.AGREED_TERMS[1],
        "三、" + b.AGREED_TERMS[2],
        "四、" + b.AGREED_TERMS[3],
        "五、" + b.AGREED_TERMS[4],
        f"履行方式：{b.PERFORMANCE_MANNER}",
        f"履行地点：{b.PERFORMANCE_PLACE}",
        f"履行期限：{b.PERFORMANCE_PERIOD}",
        "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会印章之日起生效。",
        "可以自本协议生效之日起三十日内共同向人民法院申请司法确认",
        "本协议一式三份，当事人各执一份，诸暨市枫桥镇人民调解委员会留存一份",
        "申请人：张建国签名或按指印：",
        "被申请人：李根水签名或按指印：",
        "人民调解员：陈立峰签名：",
        "记录人：王秀英签名：",
        "诸暨市枫桥镇人民调解委员会（印章）",
        "2026年5月20日",
    ],
    DocumentKind.ORAL_AGREEMENT_REGISTER: [
        "口头调解协议登记表",
        "协议达成日期2026年5月20日",
        "330681196401200033",
        b.FACTS,
        b.DISPUTED_ISSUES,
        "一、" + b.AGREED_TERMS[0],
        "二、" + b.AGREED_TERMS[1],
        "三、" + b.AGREED_TERMS[2],
        "履行方式" + b.PERFORMANCE_MANNER,
        "履行地点" + b.PERFORMANCE_PLACE,
        "履行期限" + b.PERFORMANCE_PERIOD,
        ORAL_AGREEMENT_EFFECT,
        "登记人（签名）王秀英",
        "诸暨市枫桥镇人民调解委员会（印章）2026年5月20日",
    ],
    DocumentKind.RETURN_VISIT_RECORD: [
        "人民调解回访记录",
        "协议编号（2026）枫人调字第018号",
        "回访日期2026年6月15日",
        "回访事由张建国与李根水排水沟邻里纠纷",
        "被回访当事人张建国、李根水",
        "回访方式上门回访",
        "回访人陈立峰、王秀英",
        "履行情况" + b.make_return_visit_record().performance,
        "回访情况" + b.make_return_visit_record().situation,
        "采取的措施" + b.make_return_visit_record().measures,
    ],
    DocumentKind.CLOSING_REPORT: [
        "人民调解案件结案报告表",
        "卷号（2026）枫人调卷第018号",
        "填表日期2026年6月16日",
        "承办单位诸暨市枫桥镇人民调解委员会",
        "受案日期2026年5月8日",
        "结案日期2026年6月15日",
        "案件来源当事人申请",
        "张建国，住址：浙江省诸暨市枫桥镇枫溪村上宅12号，联系电话：13805751234",
        "李根水，住址：浙江省诸暨市枫桥镇枫溪村上宅14号，联系电话：13905759876",
        b.FACTS,
        "调解结果调解成功，双方于2026年5月20日签订人民调解协议书。",
        "履行情况协议已于2026年6月10日前全部履行，2026年6月15日回访确认。",
        "审核人（签名）周国平",
    ],
}


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_docx_carries_every_required_value(kind):
    content = render_docx(kind, MAKERS[kind]())

    text = docx_text(content)
    for expected in EXPECTED[kind]:
        assert squeeze(expected) in text
    assert docx_header(content) == HEADER


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_pdf_carries_every_required_value(kind):
    content = render_pdf(kind, MAKERS[kind]())

    text = pdf_text(content)
    for expected in EXPECTED[kind]:
        assert squeeze(expected) in text
    assert "〓" not in text


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_pdf_page_carries_the_case_code_and_its_page_number(kind):
    pages = pdf_pages(render_pdf(kind, MAKERS[kind]()))

    for number, page in enumerate(pages, start=1):
        assert page.startswith(HEADER)
        assert page.endswith(f"第{number}页共{len(pages)}页")


def test_the_agreement_spans_two_pages_and_keeps_its_signatures_together():
    pages = pdf_pages(render_pdf(DocumentKind.AGREEMENT, b.make_agreement()))

    assert len(pages) == 2
    assert "本协议一式三份" in pages[1]
    assert "当事人（签名、盖章或者按指印）：申请人：张建国" in pages[1]


def test_agreement_copies_are_the_parties_plus_one_and_agents_do_not_count():
    third_party = Party(
        role=PartyRole.THIRD_PARTY,
        kind=PartyKind.ORGANISATION,
        name="诸暨市枫桥镇枫溪村股份经济合作社",
        credit_code="N2330681MF0000123X",
        representative="何永根",
        address="浙江省诸暨市枫桥镇枫溪村村委会",
    )
    agent = Party(role=PartyRole.AGENT, name="赵敏", occupation="律师")
    data = b.make_agreement(parties=(*b.make_parties(), third_party, agent))

    docx = docx_text(render_docx(DocumentKind.AGREEMENT, data))
    pdf = pdf_text(render_pdf(DocumentKind.AGREEMENT, data))

    assert data.copies == 4
    for text in (docx, pdf):
        assert "本协议一式四份，当事人各执一份" in text
        assert (
            "第三人：诸暨市枫桥镇枫溪村股份经济合作社，统一社会信用代码：N2330681MF0000123X，"
            "住所地：浙江省诸暨市枫桥镇枫溪村村委会，法定代表人（负责人）：何永根。"
        ) in text
        assert "第三人：诸暨市枫桥镇枫溪村股份经济合作社（盖章）法定代表人（负责人）签名：" in text
        assert "代理人：赵敏，律师。" in text


def test_the_same_data_gives_the_same_bytes():
    data = b.make_agreement()

    assert render_docx(DocumentKind.AGREEMENT, data) == render_docx(DocumentKind.AGREEMENT, data)
    assert render_pdf(DocumentKind.AGREEMENT, data) == render_pdf(DocumentKind.AGREEMENT, data)


def test_creation_date_defaults_to_the_document_date_and_can_be_given():
    data = b.make_agreement()
    given = datetime(2026, 5, 20, 8, 15, tzinfo=UTC)

    default_pdf = PdfReader(io.BytesIO(render_pdf(DocumentKind.AGREEMENT, data)))
    given_pdf = PdfReader(io.BytesIO(render_pdf(DocumentKind.AGREEMENT, data, created_at=given)))
    given_docx = Document(io.BytesIO(render_docx(DocumentKind.AGREEMENT, data, created_at=given)))

    assert default_pdf.metadata.creation_date == datetime.fromisoformat("2026-05-20T00:00:00+08:00")
    assert given_pdf.metadata.creation_date == given
    assert given_docx.core_properties.created == given
    assert given_docx.core_properties.title == "人民调解协议书"
    assert given_docx.core_properties.keywords == "330681-2026-000123"


def test_characters_outside_the_font_print_as_the_missing_mark_in_pdf_and_stay_in_docx(caplog):
    data = b.make_agreement(
        parties=(b.make_applicant(name="张𠮷"), b.make_respondent(name="李龘")),
    )

    with caplog.at_level(logging.WARNING, logger="yidi.mediation.documents.pdf_writer"):
        pdf = pdf_text(render_pdf(DocumentKind.AGREEMENT, data))
    docx = docx_text(render_docx(DocumentKind.AGREEMENT, data))

    assert "申请人：张〓，男" in pdf
    assert "被申请人：李〓，男" in pdf
    assert "申请人：张𠮷，男" in docx
    assert "被申请人：李龘，男" in docx
    assert caplog.messages == [
        "人民调解协议书 330681-2026-000123: characters outside the bundled font printed as 〓: 龘𠮷"
    ]


def test_frequent_name_characters_outside_gb2312_are_in_the_bundled_font():
    data = b.make_agreement(parties=(b.make_applicant(name="张堃"), b.make_respondent(name="李喆")))

    text = pdf_text(render_pdf(DocumentKind.AGREEMENT, data))

    assert "申请人：张堃，男" in text
    assert "被申请人：李喆，男" in text


def test_control_characters_are_dropped_instead_of_breaking_the_docx():
    data = b.make_agreement(facts="申请人\x00与被申请人\x0b系邻居。\r\n两家共用排水沟。")

    docx = docx_text(render_docx(DocumentKind.AGREEMENT, data))
    pdf = pdf_text(render_pdf(DocumentKind.AGREEMENT, data))

    assert "申请人与被申请人系邻居。两家共用排水沟。" in docx
    assert "申请人与被申请人系邻居。两家共用排水沟。" in pdf


def test_pdf_embeds_only_the_bundled_font():
    reader = PdfReader(io.BytesIO(render_pdf(DocumentKind.AGREEMENT, b.make_agreement())))

    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }

    assert len(fonts) == 1
    assert fonts.pop().endswith("+YidiSerifSC")


def test_docx_styles_name_the_east_asian_fonts():
    document = Document(io.BytesIO(render_docx(DocumentKind.AGREEMENT, b.make_agreement())))

    def east_asian_font(style_name: str) -> str:
        return document.styles[style_name].element.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asian_font("文书正文") == "仿宋"
    assert east_asian_font("表格文字") == "仿宋"
    assert east_asian_font("文书标题") == "宋体"
    assert document.paragraphs[0].text == "人民调解协议书"
    assert document.paragraphs[0].style.name == "文书标题"


def test_register_forms_are_tables_in_docx():
    document = Document(io.BytesIO(render_docx(DocumentKind.CLOSING_REPORT, b.make_closing_report())))

    table = document.tables[0]
    first_row = [cell.text for cell in table.rows[0].cells]

    assert len(document.tables) == 1
    assert first_row == ["卷号", "（2026）枫人调卷第018号", "填表日期", "2026年6月16日"]


def test_session_record_without_an_end_time_prints_the_start_only():
    data = replace(b.make_session_record(), ended_at=None)

    text = docx_text(render_docx(DocumentKind.SESSION_RECORD, data))

    assert "时间：2026年5月20日9时30分地点" in text
