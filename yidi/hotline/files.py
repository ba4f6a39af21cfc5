"""Reading a 12345 export (.xlsx or .csv) into a header and rows, and writing the rejects file.

Rules:
- the kind is found by content: a zip with `xl/workbook.xml` is .xlsx; an old binary .xls is refused; anything
  else must be a .csv in UTF-8 (with or without BOM) or GB18030 (which covers GBK and GB2312);
- .xlsx: the first sheet, read-only, cached values (`data_only`). A formula cell without a cached value becomes
  `FORMULA_WITHOUT_VALUE` (the row is rejected, saying so); the header row must not touch a merged range (file
  error naming the ranges); inside a merged range of data rows only the top-left cell keeps the value, the others
  become `MERGED_AWAY`;
- the header is the first row (of the first ten) holding a recognised ticket-number header, else the first
  non-empty row; rows with no value at all are skipped; row numbers are the ones Excel shows.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass

import yaml
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from yidi.core.masking import PersonalKind, mask, mask_in_text
from yidi.hotline.domain import (
    FORMULA_WITHOUT_VALUE,
    MERGED_AWAY,
    FileError,
    Mapping,
    MappingError,
    load_mapping,
    mapping_from_data,
    normalise_header,
)

XLSX = "xlsx"
CSV = "csv"
ACCEPTED = ".xlsx、.csv（UTF-8 或 GB18030/GBK 编码）"


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list]]  # (row number as shown in Excel, cell values in header order)


def kind_of(data: bytes, filename: str) -> str:
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise FileError("文件已损坏，无法作为 .xlsx 打开") from None
        if "xl/workbook.xml" in names:
            return XLSX
        raise FileError(f"不支持的文件类型，仅接受 {ACCEPTED}")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileError("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入")
    if filename.lower().endswith(".csv"):
        return CSV
    raise FileError(f"不支持的文件类型，仅接受 {ACCEPTED}")


def read_table(data: bytes, filename: str, mapping: Mapping) -> Table:
    if not data:
        raise FileError("文件为空")
    if kind_of(data, filename) == XLSX:
        return _read_xlsx(data, mapping)
    return _read_csv(data, mapping)


def _header_index(rows: list[list], mapping: Mapping) -> int:
    tickets = {normalise_header(text) for text in mapping.headers["ticket_number"]}
    first = None
    for index, values in enumerate(rows[:10]):
        if any(normalise_header(value) in tickets for value in values if value is not None):
            return index
        if first is None and any(_filled(value) for value in values):
            first = index
    if first is None:
        raise FileError("文件中没有数据")
    return first


def _filled(value) -> bool:
    return value is not None and value is not MERGED_AWAY and str(value).strip() != ""


def _table(raw: list[tuple[int, list]], mapping: Mapping, *, merged_header: list[str] | None = None) -> Table:
    index = _header_index([values for _, values in raw], mapping)
    header_number, header_values = raw[index]
    if merged_header is not None:
        touching = [ref for ref, (_, top, _, bottom) in merged_header if top <= header_number <= bottom]
        if touching:
            raise FileError(f"表头含合并单元格（{'、'.join(touching)}），请取消合并、每列一个列名后再导入。未导入任何数据")
    header = [str(value).strip() if value is not None else "" for value in header_values]
    width = len(header)
    rows = []
    for number, values in raw[index + 1:]:
        values = (list(values) + [None] * width)[:width]
        if any(_filled(value) for value in values):
            rows.append((number, values))
    return Table(header=header, rows=rows)


_FORMULA = re.compile(rb"<f[ >/]")
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _read_xlsx(data: bytes, mapping: Mapping) -> Table:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise FileError(f"无法读取 .xlsx 文件：{type(error).__name__}") from None
    try:
        sheet = book.worksheets[0]
        xml = zipfile.ZipFile(io.BytesIO(data)).read(sheet._worksheet_path)
        merged = []
        for ref in _MERGE.findall(xml):
            text = ref.decode()
            merged.append((text, range_boundaries(text)))
        raw = [(number, [cell.value for cell in row]) for number, row in enumerate(sheet.iter_rows(min_row=1), start=1)]
    finally:
        book.close()
    if _FORMULA.search(xml):
        _mark_formulas_without_value(data, raw)
    _mark_merged(raw, merged)
    return _table(raw, mapping, merged_header=merged)


def _mark_formulas_without_value(data: bytes, raw: list[tuple[int, list]]) -> None:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        by_number = {number: values for number, values in raw}
        for number, row in enumerate(book.worksheets[0].iter_rows(min_row=1), start=1):
            values = by_number.get(number)
            for position, cell in enumerate(row):
                formula = isinstance(cell.value, str) and cell.value.startswith("=")
                if formula and values is not None and position < len(values) and values[position] is None:
                    values[position] = FORMULA_WITHOUT_VALUE
    finally:
        book.close()


def _mark_merged(raw: list[tuple[int, list]], merged: list) -> None:
    by_number = {number: values for number, values in raw}
    for _, (left, top, right, bottom) in merged:
        for number in range(top, bottom + 1):
            values = by_number.get(number)
            if values is None:
                continue
            for column in range(left, right + 1):
                if (number, column) != (top, left) and column - 1 < len(values):
                    values[column - 1] = MERGED_AWAY


def _read_csv(data: bytes, mapping: Mapping) -> Table:
    if b"\x00" in data[:4096]:
        raise FileError(f"不支持的文件类型，仅接受 {ACCEPTED}")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileError("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK（GB18030）编码后再导入")
    try:
        raw = [(number, list(values)) for number, values in enumerate(csv.reader(io.StringIO(text)), start=1)]
    except csv.Error as error:
        raise FileError(f"CSV 文件格式有误：{error}") from None
    if not raw:
        raise FileError("文件中没有数据")
    return _table(raw, mapping)


# --- the rejects file ------------------------------------------------------------------------------------------

REJECT_COLUMNS = ("行号", "原因")


def _cell(value) -> str:
    if value is None or value is MERGED_AWAY or value is FORMULA_WITHOUT_VALUE:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    # A value that Excel would run as a formula is written as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def rejects_csv(header: list[str], rejects: list[tuple[int, list, str]], columns: dict[str, int]) -> bytes:
    """The rejected rows (UTF-8 with BOM, for Excel): original columns, then 行号 and 原因.

    Personal data is masked (the file is downloaded, like the masked exports of `yidi.privacy`): the caller's
    name, phone and address columns by their rules, and ID and mobile numbers inside every other cell. The row
    number points at the row to correct in the original file.
    """
    kinds = {columns[name]: kind for name, kind in (("caller_name", PersonalKind.NAME),
                                                    ("caller_phone", PersonalKind.PHONE),
                                                    ("address", PersonalKind.ADDRESS)) if name in columns}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*header, *REJECT_COLUMNS])
    for number, values, reason in rejects:
        cells = []
        for index, value in enumerate(values):
            text = _cell(value)
            cells.append(mask(text, kinds[index]) if index in kinds else mask_in_text(text))
        writer.writerow([*cells, number, reason])
    return buffer.getvalue().encode("utf-8-sig")


def load_mapping_file(text: str) -> Mapping:
    """A column-mapping file: YAML (see `mapping.example.yaml`), or JSON (a text starting with “{”)."""
    if text.lstrip().startswith("{"):
        return load_mapping(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark is not None else ""
        raise MappingError(f"映射文件不是有效的 YAML{where}") from None
    return mapping_from_data(data)
