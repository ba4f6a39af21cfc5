"""A small page-independent description of a document, rendered the same way to .docx and to PDF.

`compose` builds one `Layout` per document; `docx_writer` and `pdf_writer` only know these blocks, so both
formats always carry the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Paragraph:
    """Body text. `indent` indents the first line by two characters; `bold` marks a section label."""

    text: str
    indent: bool = True
    align: Align = Align.LEFT
    bold: bool = False


@dataclass(frozen=True)
class FormCell:
    label: str
    value: str


@dataclass(frozen=True)
class FormRow:
    """One or two label/value pairs; a single pair's value spans the row, a single unlabelled cell spans all.

    `min_lines` keeps room for handwriting (signatures) or long text; `align` places an unlabelled cell's text.
    """

    cells: tuple[FormCell, ...]
    min_lines: int = 1
    align: Align = Align.LEFT


@dataclass(frozen=True)
class Form:
    """A register form: a four-column table (label, value, label, value)."""

    rows: tuple[FormRow, ...]


@dataclass(frozen=True)
class Signatures:
    """Signature, seal and date lines, kept together on one page."""

    lines: tuple[Paragraph, ...]


Block = Title | Paragraph | Form | Signatures


@dataclass(frozen=True)
class Layout:
    title: str
    case_code: str
    committee: str
    created_at: datetime
    blocks: tuple[Block, ...]

    @property
    def running_head(self) -> str:
        """Printed in every page header: the case code that tracks the matter (一案一码)."""
        return f"事项编码：{self.case_code}"


_CONTROL = {code: None for code in range(0x20) if code not in (0x09, 0x0A)} | {0x09: " ", 0x7F: None}


def printable(text: str) -> str:
    """`text` without control characters (which .docx XML cannot hold); tabs become spaces."""
    return text.translate(_CONTROL)
