"""The 卷宗 (case file) of a closed matter: assembled in the order of the published 卷内目录 (cover, catalogue,
then `domain.CATALOGUE`, 封底), exported as one PDF plus a zip of the originals, with the retention period of
the matter's type. One transaction: the archive is kept and the matter is archived through
`yidi.cases.actions.do_archive_case` (its one event and audit row carry the catalogue).

Rules:
- only a closed matter with a mediation is archived (the lifecycle allows closed → archived);
- a required item that is absent refuses the archive, naming every one, unless it is waived with a reason;
- the documents are the latest generated version of each; evidence and receipts are the matter's attachments;
- downloading the PDF or the zip is audited as personal-data access (they print full identity data).
"""

import hashlib
import io
import zipfile
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from yidi.accounts import access
from yidi.audit.actions import record
from yidi.cases.actions import do_archive_case
from yidi.cases.domain import CaseAction, Outcome, RuleViolation, next_status
from yidi.cases.models import Attachment, Case
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.mediation import queries
from yidi.mediation.documents.pdf_writer import FONT_PATH
from yidi.mediation.domain import (
    CATALOGUE,
    DEFAULT_RETENTION,
    CatalogueItem,
    chinese_date,
    is_required,
    missing_items,
    retention_label,
)
from yidi.mediation.handoffs import _latest_documents
from yidi.mediation.models import (
    ArchiveRetention,
    CaseArchive,
    GeneratedDocument,
    Mediation,
    PerformanceRecord,
)

DOCUMENT_ITEMS = {
    "application": "application", "acceptance_register": "application", "rights_notice": "rights_notice",
    "session_record": "session_record", "agreement": "agreement", "oral_agreement_register": "agreement",
    "return_visit_record": "return_visit", "closing_report": "closing_report",
}


@dataclass(frozen=True)
class Piece:
    """One thing filed under a catalogue item: a generated document or an attachment."""

    item: str
    title: str
    document: GeneratedDocument | None = None
    attachment: Attachment | None = None


class ArchiveIncomplete(RuleViolation):
    def __init__(self, missing: list[CatalogueItem]):
        self.missing = tuple(missing)
        super().__init__("卷宗缺少必备材料，不能归档：" + "、".join(item.title for item in missing)
                         + "。请补齐，或逐项说明不能提供的理由")


def retention_for(case: Case) -> str:
    setting = ArchiveRetention.objects.filter(dispute_type_id=case.primary_type_id).first()
    if setting is None:
        return retention_label(DEFAULT_RETENTION, None)
    return retention_label(setting.period, setting.years)


def _attachment_item(attachment: Attachment, receipts: set[int]) -> str:
    """The catalogue item of a file: a performance receipt, or what the uploader said it is."""
    if attachment.pk in receipts:
        return "performance"
    return {"identity": "identity", "power_of_attorney": "power_of_attorney"}.get(attachment.kind, "evidence")


def list_pieces(case: Case, mediation: Mediation) -> list[Piece]:
    """What the file holds, in catalogue order."""
    pieces = [Piece(DOCUMENT_ITEMS[d.kind], d.title, document=d) for d in _latest_documents(case)]
    receipts = set(PerformanceRecord.objects.filter(obligation__agreement__mediation=mediation)
                   .exclude(receipt=None).values_list("receipt_id", flat=True))
    pieces += [Piece(_attachment_item(a, receipts), a.original_name, attachment=a) for a in case.attachments.order_by("id")]
    agreement = getattr(mediation, "agreement", None)
    if agreement is not None and getattr(agreement, "judicial_confirmation", None) is not None:
        confirmation = agreement.judicial_confirmation
        pieces.append(Piece("judicial_confirmation",
                            f"司法确认（{confirmation.court}{'，' + confirmation.number if confirmation.number else ''}）"))
    order = {item.key: index for index, item in enumerate(CATALOGUE)}
    return sorted(pieces, key=lambda piece: order[piece.item])


def catalogue(case: Case, mediation: Mediation, *, waivers: dict[str, str] | None = None) -> list[dict]:
    """The 卷内目录 rows: each item with whether it is required, what is present, and a waiver reason."""
    waivers = waivers or {}
    pieces = list_pieces(case, mediation)
    has_agreement = case.outcome in {Outcome.WRITTEN_AGREEMENT, Outcome.ORAL_AGREEMENT} or bool(
        getattr(mediation, "agreement", None) and mediation.agreement.effective_at)
    rows = []
    for item in CATALOGUE:
        found = [p.title for p in pieces if p.item == item.key]
        rows.append({"key": item.key, "title": item.title, "required": is_required(item, has_agreement=has_agreement),
                     "pieces": found, "count": len(found), "waiver": (waivers.get(item.key) or "").strip()})
    return rows


def _pdf_page(pdf: FPDF, title: str, lines: list[str]) -> None:
    pdf.add_page()
    pdf.set_font("serif", size=22)
    pdf.cell(0, 20, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", size=12)
    for line in lines:
        pdf.multi_cell(0, 9, line, new_x="LMARGIN", new_y="NEXT")


def _front_and_back(case: Case, mediation: Mediation, rows: list[dict], *, retention: str, filer: str,
                    today) -> tuple[bytes, bytes]:
    mediators = "、".join(str(d.mediator) for d in mediation.designations.select_related("mediator__user"))
    front = FPDF(format="A4")
    front.add_font("serif", fname=str(FONT_PATH))
    ended = local_date(mediation.ended_at) if mediation.ended_at else today
    _pdf_page(front, "人民调解卷宗", [
        f"卷名：{case.title}", f"卷号：{mediation.number}", f"人民调解委员会：{mediation.committee}",
        f"人民调解员：{mediators}",
        f"调解日期：{chinese_date(local_date(mediation.opened_at))}至{chinese_date(ended)}",
        f"立卷人：{filer}", f"立卷日期：{chinese_date(today)}", f"保管期限：{retention}", f"事项编码：{case.code}",
    ])
    lines = []
    for number, row in enumerate(rows, 1):
        state = "、".join(row["pieces"]) if row["pieces"] else (f"缺（{row['waiver']}）" if row["waiver"] else "无")
        lines.append(f"{number}. {row['title']}{'（必备）' if row['required'] else ''}：{state}")
    lines.append(f"{len(rows) + 1}. 封底")
    _pdf_page(front, "卷内目录", lines)
    back = FPDF(format="A4")
    back.add_font("serif", fname=str(FONT_PATH))
    _pdf_page(back, "封底", [f"卷号：{mediation.number}", "本卷共计文书材料如卷内目录所列。",
                            f"立卷人：{filer}　　{chinese_date(today)}"])
    return bytes(front.output()), bytes(back.output())


IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


def _image_page(attachment: Attachment) -> bytes:
    """One A4 page with the photo or scan fitted under its name; a file that cannot be drawn gets a page that
    says so (the original is in the zip either way)."""
    pdf = FPDF(format="A4")
    pdf.add_font("serif", fname=str(FONT_PATH))
    pdf.add_page()
    pdf.set_font("serif", size=12)
    caption = f"{attachment.original_name}{'：' + attachment.description if attachment.description else ''}"
    pdf.multi_cell(0, 8, caption, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 4
    with attachment.file.open("rb") as file:
        data = file.read()
    try:
        pdf.image(io.BytesIO(data), x=pdf.l_margin, y=top, w=pdf.epw, h=pdf.eph - top + pdf.t_margin,
                  keep_aspect_ratio=True)
    except (OSError, ValueError):  # an undecodable image: the page says so, the original stays in the zip
        pdf.multi_cell(0, 8, "（图片无法在此显示，原件见卷宗压缩包）", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def build_files(case: Case, mediation: Mediation, rows: list[dict], *, retention: str, filer: str) -> tuple[bytes, bytes]:
    """The one PDF (cover, catalogue, each document's PDF and each PDF or image file in catalogue order, 封底) and
    the zip of originals."""
    today = local_date(clock.now())
    front, back = _front_and_back(case, mediation, rows, retention=retention, filer=filer, today=today)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)))
    pieces = list_pieces(case, mediation)
    for piece in pieces:
        if piece.document is not None:
            with piece.document.pdf_file.open("rb") as file:
                writer.append(PdfReader(io.BytesIO(file.read())))
        elif piece.attachment is not None and piece.attachment.content_type == "application/pdf":
            with piece.attachment.file.open("rb") as file:
                writer.append(PdfReader(io.BytesIO(file.read())))
        elif piece.attachment is not None and piece.attachment.content_type in IMAGE_TYPES:
            writer.append(PdfReader(io.BytesIO(_image_page(piece.attachment))))
    writer.append(PdfReader(io.BytesIO(back)))
    pdf = io.BytesIO()
    writer.write(pdf)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for number, piece in enumerate(pieces, 1):
            if piece.document is not None:
                for field_name, suffix in (("docx_file", "docx"), ("pdf_file", "pdf")):
                    with getattr(piece.document, field_name).open("rb") as file:
                        package.writestr(f"{number:02d}-{piece.title}.{suffix}", file.read())
            elif piece.attachment is not None:
                with piece.attachment.file.open("rb") as file:
                    package.writestr(f"{number:02d}-{piece.attachment.original_name}", file.read())
    return pdf.getvalue(), buffer.getvalue()


@transaction.atomic
def do_archive_file(code: str, *, actor, waivers: dict[str, str] | None = None) -> CaseArchive:
    """Assemble and keep the 卷宗 of a closed matter and archive the matter (see the module's rules)."""
    case = access.get_case_for_user(actor, code, for_update=True)
    access.require_action(actor, case, CaseAction.ARCHIVE)
    next_status(case.status_enum, CaseAction.ARCHIVE)
    mediation = Mediation.objects.filter(case=case).order_by("-opened_at", "-id").first()
    if mediation is None:
        raise RuleViolation("本事项没有调解，不需要组卷")
    rows = catalogue(case, mediation, waivers=waivers)
    present = {row["key"]: row["count"] for row in rows}
    has_agreement = next(row["required"] for row in rows if row["key"] == "agreement")
    missing = missing_items(present, has_agreement=has_agreement, waivers=waivers or {})
    if missing:
        raise ArchiveIncomplete(missing)
    retention = retention_for(case)
    pdf, package = build_files(case, mediation, rows, retention=retention, filer=str(actor))
    archive = CaseArchive(
        case=case, file_number=mediation.number, retention=retention, items=[
            {key: row[key] for key in ("key", "title", "required", "count", "waiver")} for row in rows],
        pdf_sha256=hashlib.sha256(pdf).hexdigest(), zip_sha256=hashlib.sha256(package).hexdigest(),
        archived_at=clock.now(), archived_by=actor,
    )
    archive.pdf_file.save(f"juanzong-{archive.pdf_sha256[:12]}.pdf", ContentFile(pdf), save=False)
    archive.zip_file.save(f"juanzong-{archive.zip_sha256[:12]}.zip", ContentFile(package), save=False)
    archive.save()
    do_archive_case(case.code, actor=actor, data={
        "file_number": archive.file_number, "retention": retention, "pdf_sha256": archive.pdf_sha256,
        "zip_sha256": archive.zip_sha256, "waived": {row["title"]: row["waiver"] for row in rows if row["waiver"]},
    })
    return archive


ARCHIVE_FORMATS = {"pdf": ("pdf_file", "application/pdf"), "zip": ("zip_file", "application/zip")}


def get_archive_file(code: str, *, actor, fmt: str) -> tuple[CaseArchive, str, str]:
    """The archive's PDF or zip for download (those who may download the documents); audited."""
    case = access.get_case_for_user(actor, code)
    archive = CaseArchive.objects.filter(case=case).first()
    if archive is None or fmt not in ARCHIVE_FORMATS:
        raise access.CaseNotFound("卷宗不存在")
    if not queries.may_download_documents(actor, case, Mediation.objects.filter(case=case).first()):
        raise access.ActionDenied("卷宗载有当事人完整身份信息，只有本事项调解员、主办单位或有权查看个人信息的人员可以下载")
    record(actor=actor, action="mediation.export_archive", object_type="case", object_id=case.code,
           fields=["id_number", "phone", "address"], data={
               "format": fmt, "sha256": archive.pdf_sha256 if fmt == "pdf" else archive.zip_sha256})
    field_name, content_type = ARCHIVE_FORMATS[fmt]
    return archive, field_name, content_type
