"""Write a `Layout` as an A4 PDF with fpdf2, embedding a subset of the bundled CJK serif font.

Rules:
- The only font is `fonts/YidiSerifSC-Regular.ttf` (GB2312 and a few name characters; see fonts/SOURCE.md):
  output never depends on the fonts of the machine.
- A character the font lacks (e.g. 𠮷) is printed as 〓, the typesetters' mark for a missing character, and
  logged as a warning; generation never fails on it. The .docx keeps the real character.
- Lines are broken by this module, not by fpdf2: between any two CJK characters, never inside a run of
  Latin letters or digits (ID numbers, case codes), never before closing punctuation (，。、） …) and never
  after an opening one (（《 …). Body lines are justified by spreading the characters.
- Bold (titles, section labels) is drawn by stroking the glyph outline, as the font has no bold face.
- The output is the same bytes for the same layout: the creation date comes from `Layout.created_at`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextMode, WrapMode, XPos, YPos

from yidi.mediation.documents.layout import (
    Align,
    Form,
    FormRow,
    Layout,
    Paragraph,
    Signatures,
    Title,
    printable,
)

logger = logging.getLogger(__name__)
# fpdf2 subsets the font through fontTools, which logs every glyph list at INFO: keep it out of the site's logs.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "YidiSerifSC-Regular.ttf"
FONT_FAMILY = "YidiSerifSC"
MISSING_GLYPH = "〓"
MM_PER_POINT = 25.4 / 72
MARGIN_MM = 25
TITLE_SIZE = 18  # 小二
BODY_SIZE = 14  # 四号
FORM_SIZE = 12  # 小四
RUNNING_HEAD_SIZE = 9  # 小五
LINE_SPACING = 1.75  # line height as a multiple of the font size
FORM_LINE_SPACING = 1.4
CELL_PADDING_MM = 2.0
SIGNATURE_GAP = 0.6  # extra space around signature lines, in lines
MAX_JUSTIFY_SPACING = 0.15  # at most this fraction of the font size added between two characters
FORM_COLUMNS = (22, 28, 22, 28)  # label, value, label, value (fractions of the text width)
NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉”’…—·%,.;:?!)]}")
NO_LINE_END = frozenset("（《「『【〔〈“‘([{")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-./_:@][A-Za-z0-9]+)*|.")
_ALIGN = {Align.LEFT: "LEFT", Align.CENTER: "CENTER", Align.RIGHT: "RIGHT"}


@functools.cache
def font_code_points() -> frozenset[int]:
    return frozenset(TTFont(FONT_PATH, lazy=True).getBestCmap())


def with_known_glyphs(text: str, missing: set[str]) -> str:
    """`text` with every character the bundled font lacks replaced by 〓 (and added to `missing`)."""
    known = font_code_points()
    out = []
    for character in text:
        if character == "\n" or ord(character) in known:
            out.append(character)
        else:
            missing.add(character)
            out.append(MISSING_GLYPH)
    return "".join(out)


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Break `text` into lines no wider than `width` (see the module rules); explicit newlines are kept."""
    lines = []
    for source_line in text.split("\n"):
        current: list[str] = []
        current_width = 0.0
        for token in _tokens(source_line, width, measure):
            token_width = measure(token)
            if current and current_width + token_width > width:
                carried: list[str] = []
                if token[0] in NO_LINE_START and len(current) > 1:
                    carried.insert(0, current.pop())
                while len(current) > 1 and current[-1][-1] in NO_LINE_END:
                    carried.insert(0, current.pop())
                lines.append("".join(current).rstrip(" "))
                current = carried
                current_width = sum(measure(part) for part in current)
                if not current and token == " ":
                    continue
            current.append(token)
            current_width += token_width
        lines.append("".join(current).rstrip(" "))
    return lines


def _tokens(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    tokens = []
    for token in _TOKEN.findall(text):
        if len(token) > 1 and measure(token) > width:
            tokens.extend(token)  # a run longer than a line is broken anywhere
        else:
            tokens.append(token)
    return tokens


class _DocumentPdf(FPDF):
    def __init__(self, layout: Layout) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.layout = layout
        self.missing: set[str] = set()
        self.add_font(FONT_FAMILY, "", str(FONT_PATH))
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=20)
        self.c_margin = 0
        self.set_creation_date(layout.created_at)
        self.set_title(layout.title)
        self.set_subject(layout.running_head)
        self.set_author(layout.committee)
        self.set_keywords(layout.case_code)
        self.set_creator("yidi")
        self.set_lang("zh-CN")

    def header(self) -> None:
        self.set_font(FONT_FAMILY, size=RUNNING_HEAD_SIZE)
        self.set_text_color(80)
        self.set_y(12)
        self.cell(0, 5, self.clean(self.layout.running_head), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(150)
        self.set_line_width(0.2)
        self.line(self.l_margin, 17.5, self.w - self.r_margin, 17.5)
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_y(MARGIN_MM)

    def footer(self) -> None:
        self.set_font(FONT_FAMILY, size=RUNNING_HEAD_SIZE)
        self.set_text_color(80)
        self.set_y(-15)
        self.cell(0, 5, f"第 {self.page_no()} 页 共 {{nb}} 页", align="C")
        self.set_text_color(0)

    def clean(self, value: str) -> str:
        return with_known_glyphs(printable(value), self.missing)

    def measure(self, value: str) -> float:
        return float(self.get_string_width(value))

    def render(self) -> bytes:
        self.add_page()
        blocks = self.layout.blocks
        for index, block in enumerate(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if isinstance(block, Title):
                self.write_title(block)
            elif isinstance(block, Paragraph):
                if isinstance(following, Signatures):
                    self.keep_together(self.paragraph_height(block) + self.signatures_height(following))
                self.write_paragraph(block)
            elif isinstance(block, Form):
                self.write_form(block)
            elif isinstance(block, Signatures):
                self.write_signatures(block)
        if self.missing:
            logger.warning(
                "%s %s: characters outside the bundled font printed as %s: %s",
                self.layout.title,
                self.layout.case_code,
                MISSING_GLYPH,
                "".join(sorted(self.missing)),
            )
        return bytes(self.output())

    def write_title(self, block: Title) -> None:
        self.set_font(FONT_FAMILY, size=TITLE_SIZE)
        with self.bold(TITLE_SIZE):
            self.set_char_spacing(2)
            self.cell(0, TITLE_SIZE * MM_PER_POINT * 1.6, self.clean(block.text), align="C")
            self.set_char_spacing(0)
        self.ln(TITLE_SIZE * MM_PER_POINT * 1.9)

    def write_paragraph(self, block: Paragraph, *, size: int = BODY_SIZE) -> None:
        self.set_font(FONT_FAMILY, size=size)
        line_height = size * MM_PER_POINT * LINE_SPACING
        text = ("\u3000\u3000" if block.indent else "") + self.clean(block.text)
        width = self.epw
        lines = wrap(text, width, self.measure)
        with self.bold(size) if block.bold else nullcontext():
            for number, line in enumerate(lines):
                is_last = number == len(lines) - 1
                spacing = 0.0
                if block.align is Align.LEFT and not is_last and len(line) > 1:
                    spacing = max(0.0, (width - self.measure(line)) / (len(line) - 1) / MM_PER_POINT)
                    if spacing > size * MAX_JUSTIFY_SPACING:
                        spacing = 0.0  # a line cut short before a long number stays ragged
                self.set_char_spacing(spacing)
                self.cell(
                    width, line_height, line, align=_ALIGN[block.align], new_x=XPos.LMARGIN, new_y=YPos.NEXT
                )
                self.set_char_spacing(0)

    def write_form(self, block: Form) -> None:
        self.set_font(FONT_FAMILY, size=FORM_SIZE)
        line_height = FORM_SIZE * MM_PER_POINT * FORM_LINE_SPACING
        total = sum(FORM_COLUMNS)
        column_widths = [self.epw * part / total for part in FORM_COLUMNS]
        self.set_draw_color(0)
        self.set_line_width(0.3)
        with self.table(
            col_widths=FORM_COLUMNS,
            first_row_as_headings=False,
            line_height=line_height,
            padding=(1.5, CELL_PADDING_MM),
            text_align="LEFT",
            v_align="MIDDLE",
            wrapmode=WrapMode.CHAR,
        ) as table:
            for form_row in block.rows:
                row = table.row(min_height=form_row.min_lines * line_height + 3)
                column = 0
                for text, span, align in self.form_cells(form_row):
                    inner = sum(column_widths[column : column + span]) - 2 * CELL_PADDING_MM - 0.1
                    row.cell(
                        "\n".join(wrap(self.clean(text), inner, self.measure)), colspan=span, align=align
                    )
                    column += span
        self.ln(2)

    @staticmethod
    def form_cells(form_row: FormRow) -> list[tuple[str, int, str]]:
        """(text, columns spanned, alignment) for each cell of the row."""
        cells = form_row.cells
        if len(cells) == 1 and not cells[0].label:
            return [(cells[0].value, 4, _ALIGN[form_row.align])]
        if len(cells) == 1:
            return [(cells[0].label, 1, "CENTER"), (cells[0].value, 3, "LEFT")]
        return [
            (text, 1, align)
            for cell in cells
            for text, align in ((cell.label, "CENTER"), (cell.value, "LEFT"))
        ]

    def write_signatures(self, block: Signatures) -> None:
        self.keep_together(self.signatures_height(block))
        line_height = BODY_SIZE * MM_PER_POINT * LINE_SPACING
        self.ln(line_height * SIGNATURE_GAP)
        for line in block.lines:
            self.write_paragraph(line)
            self.ln(line_height * SIGNATURE_GAP / 2)

    def keep_together(self, height: float) -> None:
        """Start a new page unless `height` millimetres still fit on this one (or would fit on no page)."""
        page_room = self.page_break_trigger - self.t_margin
        if self.get_y() + height > self.page_break_trigger and height < page_room:
            self.add_page()

    def paragraph_height(self, block: Paragraph) -> float:
        self.set_font(FONT_FAMILY, size=BODY_SIZE)
        text = ("\u3000\u3000" if block.indent else "") + self.clean(block.text)
        return len(wrap(text, self.epw, self.measure)) * BODY_SIZE * MM_PER_POINT * LINE_SPACING

    def signatures_height(self, block: Signatures) -> float:
        line_height = BODY_SIZE * MM_PER_POINT * LINE_SPACING
        lines = sum(self.paragraph_height(line) / line_height for line in block.lines)
        return (lines * (1 + SIGNATURE_GAP / 2) + SIGNATURE_GAP) * line_height

    def bold(self, size: int) -> AbstractContextManager[None]:
        """Fake bold: fill and stroke the glyphs with a hairline proportional to the font size."""
        return self.local_context(text_mode=TextMode.FILL_STROKE, line_width=size * 0.012)


def write_pdf(layout: Layout) -> bytes:
    return _DocumentPdf(layout).render()
