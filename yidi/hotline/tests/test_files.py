"""Reading exports: encodings, merged and formula cells, file-level errors (no database)."""

import pytest

from yidi.hotline.domain import DEFAULT_MAPPING, FORMULA_WITHOUT_VALUE, MERGED_AWAY, FileError
from yidi.hotline.files import read_table, rejects_csv
from yidi.hotline.tests.helpers import HEADER, csv_bytes, ticket_row, xlsx_bytes


def test_a_gb18030_csv_is_read():
    table = read_table(csv_bytes([ticket_row(1)], encoding="gb18030"), "导出.csv", DEFAULT_MAPPING)

    assert table.header == HEADER
    assert table.rows == [(2, ticket_row(1))]


def test_a_utf8_csv_with_bom_is_read_and_blank_rows_are_skipped():
    table = read_table(csv_bytes([ticket_row(1), [""] * 10, ticket_row(2)]), "导出.csv", DEFAULT_MAPPING)

    assert [number for number, _ in table.rows] == [2, 4]


def test_undecodable_bytes_are_a_clear_encoding_error():
    with pytest.raises(FileError, match="无法识别 CSV 文件的编码"):
        read_table(b"\x81\x30\xff\xff,\xfe\n", "导出.csv", DEFAULT_MAPPING)


def test_merged_header_cells_are_a_file_error_naming_them():
    data = xlsx_bytes([ticket_row(1)], before=lambda sheet: sheet.merge_cells("B1:C1"))

    with pytest.raises(FileError) as error:
        read_table(data, "导出.xlsx", DEFAULT_MAPPING)
    assert str(error.value) == "表头含合并单元格（B1:C1），请取消合并、每列一个列名后再导入。未导入任何数据"


def test_a_merged_title_row_above_the_header_is_ignored():
    def add_title(sheet):
        sheet.insert_rows(1)
        sheet["A1"] = "诸暨市12345工单导出"
        sheet.merge_cells("A1:J1")

    table = read_table(xlsx_bytes([ticket_row(1)], before=add_title), "导出.xlsx", DEFAULT_MAPPING)

    assert table.header == HEADER
    assert [number for number, _ in table.rows] == [3]


def test_merged_data_cells_keep_the_value_only_top_left():
    data = xlsx_bytes([ticket_row(1), ticket_row(2)], before=lambda sheet: sheet.merge_cells("C2:C3"))

    rows = read_table(data, "导出.xlsx", DEFAULT_MAPPING).rows

    assert rows[0][1][2] == "王小明"
    assert rows[1][1][2] is MERGED_AWAY


def test_a_formula_without_a_cached_value_is_marked():
    data = xlsx_bytes([ticket_row(1, **{"诉求内容": "=CONCAT(A2,B2)"})])

    rows = read_table(data, "导出.xlsx", DEFAULT_MAPPING).rows

    assert rows[0][1][8] is FORMULA_WITHOUT_VALUE


def test_an_old_xls_file_is_refused():
    with pytest.raises(FileError, match=r"不支持旧版 Excel（\.xls）文件"):
        read_table(b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "导出.xls", DEFAULT_MAPPING)


def test_the_rejects_file_masks_personal_data_and_adds_row_number_and_reason():
    row = ticket_row(7, **{"诉求内容": "联系我 13812345678，身份证 330681198003150017", "来电号码": "13905750007"})
    columns = {"caller_name": 2, "caller_phone": 3, "address": 7}

    text = rejects_csv(HEADER, [(5, row, "缺少工单编号")], columns).decode("utf-8-sig")

    assert text.splitlines() == [
        ",".join([*HEADER, "行号", "原因"]),
        "ZJ12345-20260610-0007,2026-06-10 09:15,王**,139****0007,投诉,,诸暨市枫桥镇,枫桥镇***,"
        "联系我 138****5678，身份证 330***********0017,枫桥镇人民政府,5,缺少工单编号",
    ]
