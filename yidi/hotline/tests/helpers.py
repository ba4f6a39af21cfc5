"""Builders of small 12345 exports, written in the test (deterministic values, no random data)."""

import csv
import io
from pathlib import Path

from openpyxl import Workbook

HEADER = ["工单编号", "来电时间", "来电人", "来电号码", "诉求类型", "问题分类", "所属区域", "详细地址", "诉求内容", "承办单位"]


def ticket_row(number: int, **overrides) -> list:
    """A 投诉 about a blocked corridor in 枫源村, 枫桥镇; override any column by its header."""
    values = {
        "工单编号": f"ZJ12345-20260610-{number:04d}",
        "来电时间": "2026-06-10 09:15",
        "来电人": "王小明",
        "来电号码": f"1390575{number:04d}",
        "诉求类型": "投诉",
        "问题分类": "",
        "所属区域": "诸暨市枫桥镇",
        "详细地址": "枫桥镇枫源村5组12号",
        "诉求内容": f"邻居在楼道堆放杂物堵塞通道，多次沟通无果（第{number}号）",
        "承办单位": "枫桥镇人民政府",
    }
    values.update(overrides)
    return [values[name] for name in HEADER]


def xlsx_bytes(rows: list[list], *, header: list[str] | None = None, before=None) -> bytes:
    """An .xlsx workbook with the header in row 1 and `rows` below; `before(sheet)` may edit the sheet."""
    book = Workbook()
    sheet = book.active
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    if before:
        before(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, header: list[str] | None = None, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header or HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def swap_import_run():
    """A queued import of 枫桥镇's township centre, for the object-swap tests (the same run on every call)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yidi.accounts.domain import Role
    from yidi.accounts.models import Unit
    from yidi.cases.builders import make_user
    from yidi.hotline.actions import do_start_hotline_import
    from yidi.hotline.models import ImportRun

    run = ImportRun.objects.filter(file_name="枫桥镇工单.csv").first()
    if run is not None:
        return run
    clerk = make_user("fq-import-clerk", Role.REGISTRAR, unit=Unit.objects.get(code="fq-centre"))
    upload = SimpleUploadedFile("枫桥镇工单.csv", csv_bytes([ticket_row(1)]))
    return do_start_hotline_import(upload, actor=clerk, max_bytes=1024 * 1024)
