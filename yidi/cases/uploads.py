"""Checking uploaded evidence by its content: the name and the browser's content type are not trusted."""

import io
import zipfile

from django.conf import settings

from yidi.cases.domain import InvalidInput

ALLOWED_DESCRIPTION = "JPG、PNG、PDF、Word（.docx）、Excel（.xlsx）"


def sniff_content_type(head: bytes, data: bytes) -> str | None:
    """The content type that the bytes really are, among the accepted ones; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def check_upload(upload) -> tuple[str, bytes]:
    """Return (content type, bytes) of an accepted upload, or raise `InvalidInput` saying what is wrong."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise InvalidInput("file", f"文件过大：上限为 {limit // (1024 * 1024)} MB")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput("file", f"文件过大：上限为 {limit // (1024 * 1024)} MB")
    if not data:
        raise InvalidInput("file", "文件为空")
    content_type = sniff_content_type(data[:16], data)
    if content_type is None:
        raise InvalidInput("file", f"不支持的文件类型（按内容识别），仅接受 {ALLOWED_DESCRIPTION}")
    return content_type, data
