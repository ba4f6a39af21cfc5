"""Mediation documents (人民调解文书) as .docx and PDF, from plain data: no database, no Django, no network.

    from yidi.mediation.documents import Agreement, DocumentKind, render_pdf, validate

    missing = validate(DocumentKind.AGREEMENT, agreement)   # [] when complete
    pdf = render_pdf(DocumentKind.AGREEMENT, agreement)     # raises MissingFieldsError when not

The eight kinds: 人民调解申请书, 受理登记表, 权利义务告知书, 调解笔录, 调解协议书, 口头协议登记表, 回访记录,
结案报告表. Each has one frozen dataclass; `validate` enforces the contents the law asks for (人民调解法
Arts 28–29, 人民调解工作若干规定 Arts 34–35 and 39, and the case-file forms in common use). Every page carries
the case code (事项编码) in its header. `builders` has complete example data for each kind.

Personal data: documents print parties' full names, and their ID numbers, phone numbers and addresses exactly
as the caller passes them. This package never masks anything: the caller decides, for each document and
purpose, whether to pass full values (the agreement the parties sign needs them) or masked ones
(`yidi.core.masking.mask`), and is responsible for logging who generated which document.

The PDF embeds a subset of Noto Serif CJK SC (SIL OFL 1.1; see `fonts/SOURCE.md`); characters outside it are
printed as 〓 and logged, never dropped silently and never a crash. The .docx names 仿宋/宋体 and embeds no font.
"""

from yidi.mediation.documents.domain import (
    AcceptanceRegister,
    AcceptanceSource,
    Agreement,
    Application,
    ClosingReport,
    Document,
    DocumentKind,
    MissingField,
    MissingFieldsError,
    OralAgreementRegister,
    Party,
    PartyKind,
    PartyRole,
    ReturnVisitRecord,
    RightsNotice,
    SessionRecord,
    Statement,
    validate,
)
from yidi.mediation.documents.render import render_docx, render_pdf

__all__ = [
    "AcceptanceRegister",
    "AcceptanceSource",
    "Agreement",
    "Application",
    "ClosingReport",
    "Document",
    "DocumentKind",
    "MissingField",
    "MissingFieldsError",
    "OralAgreementRegister",
    "Party",
    "PartyKind",
    "PartyRole",
    "ReturnVisitRecord",
    "RightsNotice",
    "SessionRecord",
    "Statement",
    "render_docx",
    "render_pdf",
    "validate",
]
