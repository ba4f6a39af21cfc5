"""The mapping and the row rules, without a database."""

from datetime import datetime

import pytest

from yidi.cases.domain import RequestType
from yidi.hotline.domain import (
    DEFAULT_MAPPING,
    FORMULA_WITHOUT_VALUE,
    MERGED_AWAY,
    SHANGHAI,
    FileError,
    MappingError,
    Place,
    RegionLookup,
    RowError,
    TicketDraft,
    load_mapping,
    match_columns,
    parse_row,
)
from yidi.hotline.tests.helpers import HEADER, ticket_row

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
LOOKUP = RegionLookup("诸暨市", [
    Place("330681109", "枫桥镇", "township"),
    Place("330681001", "暨阳街道", "township"),
    Place("330681109290", "枫源村", "village", "330681109"),
    Place("330681001001", "枫源村", "village", "330681001"),  # the same village name in another township
])


def _row(**overrides) -> dict:
    columns = match_columns(HEADER, DEFAULT_MAPPING)
    values = ticket_row(1, **overrides)
    return {name: values[index] for name, index in columns.items()}


def _parse(**overrides):
    return parse_row(_row(**overrides), DEFAULT_MAPPING, LOOKUP, now=NOW)


def test_a_typical_row_becomes_a_hotline_draft_in_its_village():
    result = _parse()

    assert isinstance(result, TicketDraft)
    assert result.ticket_number == "ZJ12345-20260610-0001"
    assert result.called_at == datetime(2026, 6, 10, 9, 15, tzinfo=SHANGHAI)
    assert result.handling_unit == "枫桥镇人民政府"
    draft = result.case
    assert (draft.channel_code, draft.request_type, draft.region_code, draft.external_ref) == (
        "hotline_12345", RequestType.COMPLAINT, "330681109290", "ZJ12345-20260610-0001")
    assert draft.title == "邻居在楼道堆放杂物堵塞通道，多次沟通无果（第1号）"
    assert [(p.role, p.name, p.phone) for p in draft.parties] == [("applicant", "王小明", "13905750001")]


def test_the_township_comes_from_the_address_when_the_region_column_is_blank():
    result = _parse(**{"所属区域": "", "详细地址": "暨阳街道某小区3幢"})

    assert result.case.region_code == "330681001"


def test_a_known_hotline_category_is_kept_as_a_label():
    assert _parse(**{"问题分类": "劳动和社会保障"}).case.labels == {"hotline_category": "labour_social_security"}
    assert _parse(**{"问题分类": "其他"}).case.labels == {}


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"工单编号": ""}, "缺少工单编号"),
    ({"诉求内容": "  "}, "诉求内容为空"),
    ({"诉求类型": ""}, "诉求类型为空"),
    ({"诉求类型": "催单"}, "无法识别的诉求类型“催单”（可用：咨询、求助、投诉、举报、意见建议）"),
    ({"诉求类型": "表扬"}, "表扬类工单不登记为事项"),
    ({"所属区域": "城关镇"}, "未知的乡镇（街道）“城关镇”：不在诸暨市辖区内"),
    ({"所属区域": "", "详细地址": "某小区"}, "无法确定所属乡镇（街道）：请填写所属区域或含乡镇名称的详细地址"),
    ({"来电号码": "12345"}, "来电号码格式不正确（手机号11位，座机请加区号）"),
    ({"来电时间": "昨天上午"}, "来电时间“昨天上午”无法识别（应为 2026-04-30 09:15 这样的格式）"),
    ({"来电时间": "2026-07-01 08:00"}, "来电时间“2026-07-01 08:00”晚于当前时间"),
    ({"来电人": ""}, "缺少来电人姓名（仅举报、意见建议可匿名）"),
    ({"诉求内容": FORMULA_WITHOUT_VALUE}, "诉求内容：单元格为公式且无计算结果"),
    ({"来电人": MERGED_AWAY}, "缺少来电人姓名（仅举报、意见建议可匿名）（该单元格属于合并单元格，值只在合并区域左上角）"),
])
def test_a_bad_row_gives_its_exact_reason(overrides, reason):
    assert _parse(**overrides) == RowError(reason)


def test_an_anonymous_report_is_accepted():
    result = _parse(**{"来电人": "", "来电号码": "", "诉求类型": "举报"})

    assert result.case.request_type == RequestType.REPORT
    assert result.case.parties == ()


def test_phones_and_times_in_the_usual_spellings_are_read():
    result = _parse(**{"来电号码": "+86 139 0575 0001", "来电时间": datetime(2026, 6, 10, 9, 15)})

    assert result.case.parties[0].phone == "13905750001"
    assert result.called_at == datetime(2026, 6, 10, 9, 15, tzinfo=SHANGHAI)
    assert _parse(**{"来电号码": "0575-87012345"}).case.parties[0].phone == "0575-87012345"
    assert _parse(**{"来电时间": "2026/6/10 9:15"}).called_at == datetime(2026, 6, 10, 9, 15, tzinfo=SHANGHAI)


def test_header_variants_are_matched_and_missing_mandatory_columns_are_named():
    columns = match_columns(["工单号", " 受理时间 ", "诉求人", "联系电话", "工单类型", "乡镇（街道）", "问题描述*"], DEFAULT_MAPPING)
    assert columns == {"ticket_number": 0, "called_at": 1, "caller_name": 2, "caller_phone": 3, "request_type": 4,
                       "township": 5, "content": 6}

    with pytest.raises(FileError) as error:
        match_columns(["来电时间", "来电人", "诉求内容"], DEFAULT_MAPPING)
    assert str(error.value) == (
        "缺少必需的列：工单编号（可用列名：工单编号、工单号、工单号码、受理编号）；"
        "诉求类型（可用列名：诉求类型、工单类型、诉求性质、来电类型）；所属乡镇（街道）或详细地址。未导入任何数据"
    )


def test_a_mapping_file_adds_headers_and_request_types():
    mapping = load_mapping('{"columns": {"流水号": "ticket_number"}, "request_types": {"求决类": "help"}}')

    assert match_columns(["流水号", "工单编号", "诉求类型", "诉求内容", "地址"], mapping)["ticket_number"] == 0
    assert mapping.request_type("求决类") == RequestType.HELP
    assert mapping.request_type("投诉") == RequestType.COMPLAINT


@pytest.mark.parametrize(("text", "message"), [
    ("{", "映射文件不是有效的 JSON（第 1 行第 2 列）"),
    ('{"columns": {"流水号": "serial"}}', "映射文件中“流水号”对应的字段“serial”不存在，可用：ticket_number、called_at、"
     "caller_name、caller_phone、request_type、category、township、village、address、title、content、handling_unit"),
    ('{"sheet": 2}', "映射文件只能包含 columns 和 request_types 两项"),
])
def test_a_bad_mapping_file_is_refused_clearly(text, message):
    with pytest.raises(MappingError) as error:
        load_mapping(text)
    assert str(error.value) == message
