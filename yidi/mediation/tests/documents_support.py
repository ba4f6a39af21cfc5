"""Read generated documents back as text, the way a person would see them (no database)."""

import io
import re

from docx import Document
from pypdf import PdfReader

from yidi.mediation.documents import DocumentKind
from yidi.mediation.documents import builders as b

_RUNNING_HEAD = re.compile(r"^事项编码：\d{6}-\d{4}-\d{6}")
_PAGE_NUMBER = re.compile(r"第\d+页共\d+页$")
MAKERS = {
    DocumentKind.APPLICATION: b.make_application,
    DocumentKind.ACCEPTANCE_REGISTER: b.make_acceptance_register,
    DocumentKind.RIGHTS_NOTICE: b.make_rights_notice,
    DocumentKind.SESSION_RECORD: b.make_session_record,
    DocumentKind.AGREEMENT: b.make_agreement,
    DocumentKind.ORAL_AGREEMENT_REGISTER: b.make_oral_agreement_register,
    DocumentKind.RETURN_VISIT_RECORD: b.make_return_visit_record,
    DocumentKind.CLOSING_REPORT: b.make_closing_report,
}


def squeeze(text: str) -> str:
    """Text without any whitespace: line breaks fall in different places in .docx and PDF."""
    return "".join(text.split())


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in document.sections:
        parts += [paragraph.text for paragraph in section.header.paragraphs]
    return squeeze("\n".join(parts))


def docx_header(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return squeeze("".join(paragraph.text for paragraph in document.sections[0].header.paragraphs))


def pdf_pages(data: bytes) -> list[str]:
    return [squeeze(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def pdf_text(data: bytes) -> str:
    """The body text of all pages, without the running head and page numbers that interrupt it."""
    return "".join(_RUNNING_HEAD.sub("", _PAGE_NUMBER.sub("", page)) for page in pdf_pages(data))
