"""Chinese and Arabic numerals as exact `Decimal` values.

Handles the forms found in complaints: 三十, 两千五百, 十二万, 一万二 (= 12,000), 1.2万, 3,000, 二〇二六,
financial digits (壹贰叁…), and the vague forms 十几, 几十, 数百, 上百 (returned with `approximate=True`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

DIGITS = {
    "零": 0, "〇": 0, "○": 0, "Ｏ": 0,
    "一": 1, "壹": 1, "幺": 1,
    "二": 2, "两": 2, "贰": 2, "俩": 2,
    "三": 3, "叁": 3, "仨": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
VAGUE = {"几", "数", "上"}  # 几十, 数百, 上百: some tens / hundreds

_RANGE = re.compile("([一二两三四五六七八])[二三四五六七八九](?=[十百千万])")

# Character class of everything `parse_number` understands, for building regular expressions.
NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(BIG_UNITS) + "".join(VAGUE)


def _parse_section(text: str) -> tuple[int, bool]:
    """A number below 万 written with 十/百/千 (and digits); returns (value, approximate).

    Vague forms are lower bounds: 几十/数十 = 20, 上百 = 100, 十几 = 10.
    """
    total = 0
    current: int | None = None
    approximate = False
    last_unit = 1
    zero_seen = False
    for char in text:
        if char in DIGITS or char.isdigit():
            digit = DIGITS[char] if char in DIGITS else int(char)
            if digit == 0 and total:
                zero_seen = True
            current = digit if current is None else current * 10 + digit
        elif char in VAGUE:
            approximate = True
            # 十几 (after a unit) adds nothing certain; 几十 / 数百 ≈ 2 units; 上百 = 1 unit.
            current = None if total else (1 if char == "上" else 2)
            if total:
                return total, approximate
        elif char in SMALL_UNITS:
            unit = SMALL_UNITS[char]
            total += (1 if current is None else current) * unit
            current = None
            last_unit = unit
            zero_seen = False
        else:
            raise ValueError(char)
    if current is not None:
        # 两千五 = 2500 (an elided unit one step below the last one); 三十五 = 35; 一百零五 = 105.
        if last_unit >= 100 and current < 10 and total and not zero_seen:
            total += current * (last_unit // 10)
        else:
            total += current
    return total, approximate


def parse_number(text: str) -> tuple[Decimal, bool] | None:
    """The value of a numeral written in Chinese, Arabic digits or a mix ("1.2万", "十二万", "3,000").

    Returns (value, approximate) or None when `text` is not a number.
    """
    text = text.replace(",", "").replace("，", "").strip()
    if not text:
        return None
    ranged = _RANGE.match(text)  # 二三十 = "twenty or thirty": keep the lower bound
    if ranged:
        parsed = parse_number(ranged.group(1) + text[ranged.end() :])
        return (parsed[0], True) if parsed else None
    try:
        if all(char.isdigit() or char == "." for char in text) and any(c.isdigit() for c in text):
            return Decimal(text), False
    except InvalidOperation:
        return None
    # Arabic digits followed by big units: 1.2万, 3亿, 12万5千 is rare and handled by the general path.
    head = 0
    while head < len(text) and (text[head].isdigit() or text[head] == "."):
        head += 1
    if head and head < len(text) and text[head] in BIG_UNITS and head + 1 == len(text):
        try:
            return Decimal(text[:head]) * BIG_UNITS[text[head]], False
        except InvalidOperation:
            return None
    # Pure digit strings such as 二〇二六 (years).
    if all(char in DIGITS for char in text) and len(text) > 1:
        return Decimal("".join(str(DIGITS[char]) for char in text)), False
    total = 0
    approximate = False
    section = ""
    last_big = None
    for char in text:
        if char in BIG_UNITS:
            try:
                value, vague = _parse_section(section) if section else (1, False)
            except ValueError:
                return None
            approximate = approximate or vague
            total = (
                (total + value) * BIG_UNITS[char]
                if BIG_UNITS[char] > 10_000
                else total + value * BIG_UNITS[char]
            )
            section = ""
            last_big = BIG_UNITS[char]
        else:
            section += char
    if section:
        try:
            value, vague = _parse_section(section)
        except ValueError:
            return None
        approximate = approximate or vague
        # 一万二 = 12,000: a lone digit after a big unit is the next place down.
        if last_big and len(section) == 1 and section in DIGITS:
            value = value * last_big // 10
        total += value
    return Decimal(total), approximate
