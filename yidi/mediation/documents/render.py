"""Check, lay out and write a document: the two entry points `render_docx` and `render_pdf`."""

from __future__ import annotations

from datetime import datetime

from yidi.mediation.documents.compose import compose
from yidi.mediation.documents.docx_writer import write_docx
from yidi.mediation.documents.domain import Document, DocumentKind, MissingFieldsError, validate
from yidi.mediation.documents.layout import Layout
from yidi.mediation.documents.pdf_writer import write_pdf


def render_docx(kind: DocumentKind, data: Document, *, created_at: datetime | None = None) -> bytes:
    """The document as .docx bytes; raises `MissingFieldsError` naming every empty required field.

    `created_at` is the file's metadata date; by default 00:00 (Asia/Shanghai) of the document's own date, so
    the same data always gives the same bytes.
    """
    return write_docx(_layout(kind, data, created_at))


def render_pdf(kind: DocumentKind, data: Document, *, created_at: datetime | None = None) -> bytes:
    """The document as PDF bytes (bundled font embedded); same checks and `created_at` as `render_docx`."""
    return write_pdf(_layout(kind, data, created_at))


def _layout(kind: DocumentKind, data: Document, created_at: datetime | None) -> Layout:
    kind = DocumentKind(kind)
    missing = validate(kind, data)
    if missing:
        raise MissingFieldsError(kind, missing)
    return compose(kind, data, created_at=created_at)
