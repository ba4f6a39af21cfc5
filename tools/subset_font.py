"""Regenerate the CJK font bundled with the mediation documents: `yidi/mediation/documents/fonts/YidiSerifSC-Regular.ttf`.

Usage (needs Debian's `fonts-noto-cjk` package, i.e. `apt-get install fonts-noto-cjk`, and `fonttools`, which
`fpdf2` already brings into the venv):

    python tools/subset_font.py            # write the font
    python tools/subset_font.py --check    # exit 1 if the committed font's character set differs from a fresh build

Rules:
- The source is the Simplified Chinese face of Noto Serif CJK Regular (SIL OFL 1.1), read from Debian's TTC.
- The kept characters are GB2312 (all 682 symbols and the 6,763 hanzi of levels 1 and 2), printable ASCII,
  the CJK and general punctuation blocks, full-width forms, `EXTRA_CHARACTERS` (frequent name characters
  outside GB2312) and every character of the bundled place names (`yidi/regions/data/*.csv`).
- Layout features and hinting are dropped (documents are set horizontally, without shaping).
- The cubic CFF outlines are converted to quadratic TrueType (`glyf`) outlines, the format every PDF reader
  and fpdf2 handle best.
- The family is renamed "Yidi Serif SC": a modified version keeps the licence but not the original name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
SOURCE_FAMILY = "Noto Serif CJK SC"
OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "yidi"
    / "mediation"
    / "documents"
    / "fonts"
    / "YidiSerifSC-Regular.ttf"
)
FAMILY = "Yidi Serif SC"
POSTSCRIPT_NAME = "YidiSerifSC-Regular"
# Maximum distance, in font units (1000 per em), between a cubic curve and its quadratic approximation.
MAX_CURVE_ERROR = 1.0
# Frequent characters of personal and place names that GB2312 lacks.
EXTRA_CHARACTERS = "〇堃喆赟昇玥珺琤璟镕垚犇祎彧玙瑀婍棽翀甦旻昉暘曌瑄瑢淏琇珣堉焜晞珅婳玹"
RANGES = (
    (0x0020, 0x007E),  # printable ASCII
    (0x00A0, 0x00FF),  # Latin-1 punctuation and signs (°, ±, ×, ·)
    (0x2010, 0x205E),  # general punctuation (—, …, ‰, ※)
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF01, 0xFF5E),  # full-width forms
    (0xFFE0, 0xFFE6),  # full-width signs (￥)
)


def gb2312_characters() -> set[str]:
    characters = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                characters.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return characters


REGION_DATA = Path(__file__).resolve().parent.parent / "yidi" / "regions" / "data"


def place_name_characters() -> set[str]:
    """Every CJK character of the bundled administrative divisions (provinces to villages): a report or a
    document names townships and villages such as 浬浦镇 or 詹家峧村, whose characters GB2312 lacks."""
    text = "".join(path.read_text(encoding="utf-8") for path in sorted(REGION_DATA.glob("*.csv")))
    return {c for c in text if ord(c) >= 0x3000}


def wanted_characters() -> set[str]:
    characters = gb2312_characters() | set(EXTRA_CHARACTERS) | place_name_characters()
    for first, last in RANGES:
        characters.update(chr(code) for code in range(first, last + 1))
    return characters


def load_source() -> TTFont:
    collection = TTCollection(SOURCE)
    for font in collection.fonts:
        if font["name"].getDebugName(1) == SOURCE_FAMILY:
            return font
    raise SystemExit(f"{SOURCE} has no face named {SOURCE_FAMILY!r}")


def subset_font(font: TTFont, characters: set[str]) -> None:
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    subsetter = subset.Subsetter(options=options)
    present = set(font.getBestCmap())
    subsetter.populate(unicodes=sorted(ord(c) for c in characters if ord(c) in present))
    subsetter.subset(font)
    for tag in ("VORG", "vhea", "vmtx", "BASE", "GDEF", "GPOS", "GSUB"):
        if tag in font:
            del font[tag]


def convert_to_truetype(font: TTFont) -> None:
    """Replace the CFF table by `glyf`/`loca` outlines (cubic curves approximated by quadratic ones)."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_CURVE_ERROR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    del font["CFF "]
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attribute in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    font["head"].glyphDataFormat = 0
    # Format 3 stores no glyph names: PDF embedding addresses glyphs by index.
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


def rename(font: TTFont) -> None:
    name = font["name"]
    # Drop the Mac and localised records so that no original family name survives.
    name.names = [record for record in name.names if record.platformID == 3 and record.langID == 0x409]
    name.setName(FAMILY, 1, 3, 1, 0x409)
    name.setName("Regular", 2, 3, 1, 0x409)
    name.setName(f"{FAMILY};{POSTSCRIPT_NAME};subset of Noto Serif CJK SC 2.001", 3, 3, 1, 0x409)
    name.setName(FAMILY, 4, 3, 1, 0x409)
    name.setName(POSTSCRIPT_NAME, 6, 3, 1, 0x409)
    for name_id in (16, 17, 21, 22):
        name.removeNames(nameID=name_id)


def build() -> TTFont:
    font = load_source()
    subset_font(font, wanted_characters())
    convert_to_truetype(font)
    rename(font)
    return font


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare the character set with the committed font"
    )
    arguments = parser.parse_args()
    font = build()
    if arguments.check:
        committed = set(TTFont(OUTPUT).getBestCmap())
        fresh = set(font.getBestCmap())
        if committed != fresh:
            print(f"{OUTPUT} is out of date: {len(fresh ^ committed)} code points differ", file=sys.stderr)
            return 1
        print(f"{OUTPUT} is up to date ({len(fresh)} code points)")
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    font.recalcTimestamp = False  # keep the source's dates, so that a rebuild is byte-for-byte identical
    font.save(OUTPUT)
    print(f"wrote {OUTPUT}: {len(font.getBestCmap())} code points, {OUTPUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
