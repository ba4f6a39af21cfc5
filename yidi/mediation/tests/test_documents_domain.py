"""Completeness rules of the mediation documents: every missing field is named, nothing incomplete is rendered."""

import pytest

from yidi.mediation.documents import (
    Agreement,
    Application,
    DocumentKind,
    MissingField,
    MissingFieldsError,
    Party,
    PartyKind,
    PartyRole,
    Statement,
    render_docx,
    render_pdf,
    validate,
)
from yidi.mediation.documents import builders as b
from yidi.mediation.documents.compose import chinese_number
from yidi.mediation.tests.documents_support import MAKERS


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_example_data_of_every_kind_is_complete(kind):
    assert validate(kind, MAKERS[kind]()) == []


def test_an_empty_agreement_names_every_required_field_in_print_order():
    missing = validate(DocumentKind.AGREEMENT, Agreement())

    assert [item.message for item in missing] == [
        "缺少必填项：事项编码",
        "缺少必填项：人民调解委员会名称",
        "缺少必填项：协议编号",
        "缺少必填项：当事人",
        "缺少必填项：纠纷主要事实",
        "缺少必填项：争议事项",
        "缺少必填项：各方当事人的责任",
        "缺少必填项：协议内容",
        "缺少必填项：履行方式",
        "缺少必填项：履行地点",
        "缺少必填项：履行期限",
        "缺少必填项：人民调解员",
        "缺少必填项：签订日期",
    ]


def test_a_missing_performance_period_is_named_with_its_chinese_label():
    missing = validate(DocumentKind.AGREEMENT, b.make_agreement(performance_period=""))

    assert missing == [MissingField("performance_period", "履行期限")]
    assert str(missing[0]) == "缺少必填项：履行期限"


def test_whitespace_and_blank_list_items_count_as_missing():
    data = b.make_agreement(performance_place=" \u3000\n", agreed_terms=("", "  "), recorder="")

    missing = validate(DocumentKind.AGREEMENT, data)

    assert [item.label for item in missing] == ["协议内容", "履行地点"]


def test_rendering_refuses_and_lists_every_missing_field():
    data = b.make_agreement(performance_place="", performance_period="")

    for render in (render_docx, render_pdf):
        with pytest.raises(MissingFieldsError) as raised:
            render(DocumentKind.AGREEMENT, data)
        assert raised.value.kind is DocumentKind.AGREEMENT
        assert [item.path for item in raised.value.missing] == ["performance_place", "performance_period"]
        assert str(raised.value) == "人民调解协议书缺少必填项：履行地点、履行期限"


def test_each_missing_identity_detail_of_a_party_is_named_with_the_party():
    respondent = b.make_respondent(id_number="", address="")
    data = b.make_agreement(parties=(b.make_applicant(), respondent))

    missing = validate(DocumentKind.AGREEMENT, data)

    assert [item.message for item in missing] == [
        "缺少必填项：被申请人李根水的公民身份号码",
        "缺少必填项：被申请人李根水的住址",
    ]
    assert [item.path for item in missing] == ["parties[1].id_number", "parties[1].address"]


def test_a_party_without_a_name_is_named_by_position_and_role():
    data = b.make_agreement(parties=(b.make_applicant(), b.make_respondent(name="")))

    missing = validate(DocumentKind.AGREEMENT, data)

    assert [item.message for item in missing] == ["缺少必填项：第2位被申请人的姓名"]


def test_an_organisation_needs_its_credit_code_and_representative_instead_of_sex():
    village = Party(
        role=PartyRole.RESPONDENT, kind=PartyKind.ORGANISATION, name="枫溪村股份经济合作社", address="枫溪村"
    )
    data = b.make_agreement(parties=(b.make_applicant(), village))

    missing = validate(DocumentKind.AGREEMENT, data)

    assert [item.message for item in missing] == [
        "缺少必填项：被申请人枫溪村股份经济合作社的法定代表人（负责人）",
        "缺少必填项：被申请人枫溪村股份经济合作社的统一社会信用代码",
    ]


def test_an_agreement_needs_two_parties_and_an_agent_is_not_one():
    agent = Party(role=PartyRole.AGENT, name="赵敏")
    data = b.make_agreement(parties=(b.make_applicant(), agent))

    missing = validate(DocumentKind.AGREEMENT, data)

    assert [item.message for item in missing] == ["缺少必填项：另一方当事人"]


def test_an_application_needs_an_applicant_and_a_respondent():
    missing = validate(DocumentKind.APPLICATION, b.make_application(parties=(b.make_applicant(),)))

    assert [item.message for item in missing] == ["缺少必填项：被申请人"]


def test_an_application_needs_the_age_the_agreement_does_not():
    parties = (b.make_applicant(age=None), b.make_respondent())

    application_missing = validate(DocumentKind.APPLICATION, b.make_application(parties=parties))
    agreement_missing = validate(DocumentKind.AGREEMENT, b.make_agreement(parties=parties))

    assert [item.message for item in application_missing] == ["缺少必填项：申请人张建国的年龄"]
    assert agreement_missing == []


def test_a_session_record_names_each_incomplete_statement():
    statements = (
        Statement(speaker="调解员", text="双方是否清楚权利义务？"),
        Statement(speaker="", text="清楚。"),
    )

    missing = validate(DocumentKind.SESSION_RECORD, b.make_session_record(statements=statements))

    assert missing == [MissingField("statements[1].speaker", "第2段记录的发言人")]


def test_a_return_visit_needs_the_agreement_number_and_the_visitors():
    data = b.make_return_visit_record(agreement_number="", visitors=())

    missing = validate(DocumentKind.RETURN_VISIT_RECORD, data)

    assert [item.label for item in missing] == ["协议编号", "回访人"]


def test_a_closing_report_needs_the_source_and_the_party_phone():
    data = b.make_closing_report(source=None, parties=(b.make_applicant(phone=""), b.make_respondent()))

    missing = validate(DocumentKind.CLOSING_REPORT, data)

    assert [item.label for item in missing] == ["案件来源", "申请人张建国的联系电话"]


def test_data_of_another_kind_is_a_programming_error():
    with pytest.raises(TypeError):
        validate(DocumentKind.AGREEMENT, Application())


def test_document_kinds_carry_their_chinese_titles():
    assert [kind.label for kind in DocumentKind] == [
        "人民调解申请书",
        "人民调解受理登记表",
        "人民调解当事人权利义务告知书",
        "人民调解笔录",
        "人民调解协议书",
        "口头调解协议登记表",
        "人民调解回访记录",
        "人民调解案件结案报告表",
    ]
    assert DocumentKind("agreement") is DocumentKind.AGREEMENT
    assert validate("agreement", b.make_agreement()) == []


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "一"), (3, "三"), (10, "十"), (13, "十三"), (20, "二十"), (25, "二十五"), (120, "120")],
)
def test_numbers_are_written_in_chinese(number, text):
    assert chinese_number(number) == text
