"""Every analytics table as CSV (UTF-8 with BOM, for Excel) and .xlsx, with the same figures as the page.

Exports are audited (`analytics.export_*`): who exported which slice, in which format, how many rows.
"""

import csv
import io
from decimal import Decimal

from django.db import transaction
from openpyxl import Workbook

from yidi.audit.actions import record

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def to_csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[list], *, title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for row in rows:
        sheet.append([float(value) if isinstance(value, Decimal) else value for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@transaction.atomic
def do_export_table(rows: list[list], *, fmt: str, title: str, what: str, filters: dict, actor) -> tuple[bytes, str]:
    """The table as a file (content, content type); one audit row."""
    if fmt not in CONTENT_TYPES:
        raise ValueError(fmt)
    content = to_csv(rows) if fmt == "csv" else to_xlsx(rows, title=title)
    record(actor=actor, action=f"analytics.export_{what}", object_type="analytics_table", object_id=what,
           data={"format": fmt, "rows": max(len(rows) - 1, 0), "filters": filters})
    return content, CONTENT_TYPES[fmt]
