"""Fact extraction: people counts, amounts, dates, places, ID-card and mobile numbers, with their spans.

Every fact carries (start, end, text) into the caller's original text, so callers can mask personal data and
show the evidence. Patterns run on a length-preserving fold of the text (full-width digits as ASCII) and are
linear in the text length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from yidi.triage.engine.numerals import parse_number
from yidi.triage.engine.places import PlaceMention, load_gazetteer
from yidi.triage.engine.resources import lunar_new_year_dates
from yidi.triage.engine.text import fold

_CN_NUM = "零〇○一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
# A numeral: Arabic (with thousands separators, decimals and a trailing 万/千/亿) or Chinese (几十, 数百, 上百 …).
_NUMBER = (
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?[万亿]?"
    r"|\d+(?:\.\d+)?[万千百亿]?"
    rf"|[{_CN_NUM}几数]*[{_CN_NUM}]|上[百千万])"
)


def _format_decimal(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.01")).normalize(), "f")
    return text


@dataclass(frozen=True)
class PeopleCount:
    start: int
    end: int
    text: str
    value: int
    approximate: bool  # 三十多名, 20余户, 十几个: the value is a lower bound
    unit: str  # "人" (persons) or "户" (households)

    def to_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "text": self.text,
            "value": self.value, "approximate": self.approximate, "unit": self.unit,
        }  # fmt: skip


@dataclass(frozen=True)
class Amount:
    start: int
    end: int
    text: str
    value: Decimal  # in yuan
    approximate: bool

    def to_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "text": self.text,
            "value": _format_decimal(self.value), "approximate": self.approximate, "currency": "CNY",
        }  # fmt: skip


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    start_on: date | None  # None when the text gives no year and no reference date was passed
    end_on: date | None
    precision: str  # "day", "month", "year" or "range"
    relative: bool  # resolved against the reference date
    approximate: bool = False  # 腊月, 春节前, 前几天: a calendar estimate

    def to_dict(self) -> dict:
        return {
            "start": self.start, "end": self.end, "text": self.text,
            "start_on": self.start_on.isoformat() if self.start_on else None,
            "end_on": self.end_on.isoformat() if self.end_on else None,
            "precision": self.precision, "relative": self.relative, "approximate": self.approximate,
        }  # fmt: skip


@dataclass(frozen=True)
class Identifier:
    """An ID-card or mobile number as it appears in the text (for masking and for the person index)."""

    start: int
    end: int
    text: str
    value: str  # digits only (ID: 17 digits + check character, upper case)

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text, "value": self.value}


@dataclass(frozen=True)
class Facts:
    people: tuple[PeopleCount, ...] = ()
    amounts: tuple[Amount, ...] = ()
    dates: tuple[DateMention, ...] = ()
    places: tuple[PlaceMention, ...] = ()
    id_numbers: tuple[Identifier, ...] = ()
    mobiles: tuple[Identifier, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def people_involved(self) -> int | None:
        """The largest people count mentioned (a household counts as one party)."""
        return max((p.value for p in self.people), default=None)

    @property
    def amount_involved(self) -> Decimal | None:
        return max((a.value for a in self.amounts), default=None)

    @property
    def occurred_on(self) -> date | None:
        """The earliest day-precise date mentioned, a guess for when the matter happened."""
        return min((d.start_on for d in self.dates if d.precision == "day" and d.start_on), default=None)

    def sensitive_spans(self) -> list[tuple[int, int, str]]:
        """(start, end, kind) of every personal number, for masking."""
        spans = [(i.start, i.end, "id_number") for i in self.id_numbers]
        spans += [(m.start, m.end, "mobile") for m in self.mobiles]
        return sorted(spans)

    def to_dict(self) -> dict:
        amount = self.amount_involved
        return {
            "people_involved": self.people_involved,
            "amount_involved": _format_decimal(amount) if amount is not None else None,
            "occurred_on": self.occurred_on.isoformat() if self.occurred_on else None,
            "people": [p.to_dict() for p in self.people],
            "amounts": [a.to_dict() for a in self.amounts],
            "dates": [d.to_dict() for d in self.dates],
            "places": [p.to_dict() for p in self.places],
            "id_numbers": [i.to_dict() for i in self.id_numbers],
            "mobiles": [m.to_dict() for m in self.mobiles],
        }


# ---------------------------------------------------------------- people
_PERSON_NOUNS = (
    "农民工|民工|工人|工友|村民|居民|业主|住户|商户|租户|摊贩|员工|职工|群众|家长|学生|老人|孩子|小孩|儿童|"
    "患者|病人|乘客|司机|家属|亲属|访民|上访人员|上访人|债权人|股东|会员|学员|代表|人员|同事|邻居|村干部|人"
)
_PEOPLE = re.compile(
    rf"(?<!第)(?P<num>{_NUMBER})(?P<qual>多|余|来|几)?"
    rf"(?:(?P<unit>人|户)(?!民币|民法院|民政府|民调解|民医院)|(?P<clf>名|个|位|家)(?P<noun>{_PERSON_NOUNS}))"
)


def find_people(text: str) -> list[PeopleCount]:
    """People counts: 5人, 三十多名工人, 20余户, 十几个村民, 上百名群众, 二三十人."""
    found = []
    for match in _PEOPLE.finditer(text):
        parsed = parse_number(match.group("num"))
        if parsed is None or parsed[0] <= 0 or parsed[0] != parsed[0].to_integral_value():
            continue
        if match.group("clf") == "家" and match.group("noun") not in ("住户", "商户", "租户"):
            continue
        value, approximate = parsed
        unit = (
            "户" if match.group("unit") == "户" or match.group("noun") in ("住户", "商户", "租户") else "人"
        )
        found.append(
            PeopleCount(
                match.start(), match.end(), match.group(0), int(value),
                approximate or bool(match.group("qual")), unit,
            )
        )  # fmt: skip
    return found


# ---------------------------------------------------------------- amounts
_AMOUNT = re.compile(
    rf"(?P<prefix>人民币|¥|￥)?(?P<num>{_NUMBER})(?P<qual>多|余|来|几)?(?P<big>万|亿)?(?P<qual2>多|余)?"
    r"(?P<cur>块钱|元|块|圆)?"
)
# After a number with 万 but no currency word, these characters mean it counts something else (十二万人, 3万平方米).
_NOT_MONEY_AFTER = set("人名户个位家平亩方吨斤公米里次件辆台套间栋层岁年月天日号条只头棵株字多张份本册")
_NOT_MONEY_AFTER_KUAI = set("地田砖石板玻牌屏肉木山空区菜去儿走来住吃做玩")


def find_amounts(text: str) -> list[Amount]:
    """Amounts of money in yuan: 12万元, 十二万, 1.2万, 3000块, 两千五百元, 5万余元, 人民币8000."""
    found = []
    for match in _AMOUNT.finditer(text):
        num, big, cur = match.group("num"), match.group("big"), match.group("cur")
        has_big = bool(big) or num[-1] in "万亿"
        if not (cur or match.group("prefix") or has_big):
            continue
        following = text[match.end() : match.end() + 1]
        if not cur and (following in _NOT_MONEY_AFTER or (not match.group("prefix") and following == "元")):
            continue
        parsed = parse_number(num)
        if parsed is None or parsed[0] <= 0:
            continue
        value, approximate = parsed
        if big:
            value *= 10_000 if big == "万" else 100_000_000
        if cur == "块" and (following in _NOT_MONEY_AFTER_KUAI or value < 10):
            continue  # 一块地, 一块去: not money
        if num.isdigit() and len(num) >= 7 and not big and not cur and not match.group("prefix"):
            continue
        approximate = approximate or bool(match.group("qual") or match.group("qual2"))
        found.append(Amount(match.start(), match.end(), match.group(0), value, approximate))
    return found


# ---------------------------------------------------------------- ID and mobile numbers
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9]\d(?:\d{8}|[- ]\d{4}[- ]\d{4}))(?![0-9])")


def is_valid_id_number(value: str) -> bool:
    """A mainland resident ID (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def find_id_numbers(text: str) -> list[Identifier]:
    return [
        Identifier(m.start(), m.end(), m.group(0), m.group(0).upper())
        for m in _ID.finditer(text)
        if is_valid_id_number(m.group(0))
    ]


def find_mobiles(text: str) -> list[Identifier]:
    """Mainland mobile numbers 1[3-9]x-xxxx-xxxx, not inside a longer run of digits."""
    found = []
    for match in _MOBILE.finditer(text):
        digits = re.sub(r"\D", "", match.group(1))
        found.append(Identifier(match.start(1), match.end(1), match.group(1), digits))
    return found


# ---------------------------------------------------------------- dates
_CN_SMALL = "一二三四五六七八九十"
_Y = r"(?P<y>(?:19|20)\d{2}|[〇零一二][〇零一二三四五六七八九]{3})"
_M = rf"(?P<m>1[0-2]|0?[1-9]|十[一二]?|[{_CN_SMALL[:9]}])"
_D = rf"(?P<d>3[01]|[12]\d|0?[1-9]|三十一?|二?十[{_CN_SMALL[:9]}]?|[{_CN_SMALL[:9]}])"
_REL_YEAR = r"(?P<ry>去年|今年|前年|明年)"
_DATE_PATTERNS = [
    ("ymd", re.compile(rf"(?<!\d){_Y}年{_M}月(?:{_D}[日号])?")),
    ("iso", re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/.](?P<m>1[0-2]|0?[1-9])[-/.](?P<d>3[01]|[12]\d|0?[1-9])(?!\d)")),
    ("rel_md", re.compile(rf"{_REL_YEAR}(?:{_M}月(?:{_D}[日号])?|(?P<lunar>腊月|正月|年底|年初|春节前|春节后|春节))?")),
    ("md", re.compile(rf"(?<![\d年]){_M}月{_D}[日号]")),
    ("y", re.compile(rf"(?<!\d){_Y}年(?![\d{_CN_SMALL}]{{1,2}}月)")),
    ("lunar", re.compile(r"(?P<lunar>腊月|正月|春节前|春节后|年底|年初)")),
    ("days_ago", re.compile(rf"(?P<n>\d{{1,3}}|[{_CN_SMALL}两]{{1,3}})(?P<unit>天|日|个月|个星期|周)前")),
    ("word", re.compile(r"(?P<w>大前天|前天|昨天|昨日|昨晚|今天|今日|今早|今晚|明天|后天|前几天|近日|这几天|"
                        r"上个?(?:星期|礼拜|周)[一二三四五六日天]?|上周[一二三四五六日天]?|本周|这周|这个星期|"
                        r"上个?月|本月|这个月|月初|月底)")),
]  # fmt: skip


def _small_int(text: str) -> int:
    parsed = parse_number(text)
    return int(parsed[0]) if parsed else 0


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_range(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _lunar_range(word: str, lunar_year: int) -> tuple[date, date] | None:
    """Calendar estimate of a lunar period of lunar year `lunar_year` (腊月 = the 30 days before next 春节)."""
    festivals = lunar_new_year_dates()
    if word == "腊月":
        festival = festivals.get(lunar_year + 1)
        return (festival - timedelta(days=30), festival - timedelta(days=1)) if festival else None
    festival = festivals.get(lunar_year)
    if festival is None:
        return None
    if word == "正月":
        return festival, festival + timedelta(days=29)
    if word == "春节前":
        return festival - timedelta(days=30), festival - timedelta(days=1)
    if word == "春节后":
        return festival, festival + timedelta(days=15)
    return festival, festival  # 春节


def _lunar_year_of(day: date) -> int:
    festival = lunar_new_year_dates().get(day.year)
    return day.year - 1 if festival and day < festival else day.year


def _resolve(
    kind: str, match: re.Match, reference: date | None
) -> tuple[date | None, date | None, str, bool, bool]:
    """(start_on, end_on, precision, relative, approximate) of one date match."""
    groups = match.groupdict()
    if kind in ("ymd", "iso", "y"):
        year = _small_int(groups["y"]) if not groups["y"].isdigit() else int(groups["y"])
        if kind == "y":
            return date(year, 1, 1), date(year, 12, 31), "year", False, False
        month = _small_int(groups["m"]) if not groups["m"].isdigit() else int(groups["m"])
        if groups.get("d"):
            day = _small_int(groups["d"]) if not groups["d"].isdigit() else int(groups["d"])
            value = _safe_date(year, month, day)
            return value, value, "day", False, False
        if not 1 <= month <= 12:
            return None, None, "month", False, False
        first, last = _month_range(year, month)
        return first, last, "month", False, False
    if kind == "md":
        month = _small_int(groups["m"]) if not groups["m"].isdigit() else int(groups["m"])
        day = _small_int(groups["d"]) if not groups["d"].isdigit() else int(groups["d"])
        if reference is None:
            return None, None, "day", False, False
        value = _safe_date(reference.year, month, day)
        if value and value > reference + timedelta(days=31):  # a complaint about "12月3日" made in January
            value = _safe_date(reference.year - 1, month, day)
        return value, value, "day", True, False
    if reference is None:
        return None, None, "range", True, kind in ("lunar", "rel_md")
    if kind == "rel_md":
        offset = {"去年": -1, "今年": 0, "前年": -2, "明年": 1}[groups["ry"]]
        year = reference.year + offset
        if groups.get("lunar"):
            return _resolve_lunar(groups["lunar"], reference, _lunar_year_of(reference) + offset, year)
        if groups.get("m"):
            month = _small_int(groups["m"]) if not groups["m"].isdigit() else int(groups["m"])
            if groups.get("d"):
                day = _small_int(groups["d"]) if not groups["d"].isdigit() else int(groups["d"])
                value = _safe_date(year, month, day)
                return value, value, "day", True, False
            if 1 <= month <= 12:
                first, last = _month_range(year, month)
                return first, last, "month", True, False
            return None, None, "month", True, False
        return date(year, 1, 1), date(year, 12, 31), "year", True, False
    if kind == "lunar":
        return _resolve_lunar(groups["lunar"], reference, None, None)
    if kind == "days_ago":
        count = _small_int(groups["n"])
        unit = groups["unit"]
        if unit in ("天", "日"):
            value = reference - timedelta(days=count)
        elif unit in ("周", "个星期"):
            value = reference - timedelta(days=7 * count)
        else:
            value = reference - timedelta(days=30 * count)
            return value, value, "day", True, True
        return value, value, "day", True, False
    return _resolve_word(groups["w"], reference)


def _resolve_lunar(word: str, reference: date, lunar_year: int | None, year: int | None):
    if word in ("年底", "年初"):
        base = (
            year
            if year is not None
            else (reference.year - 1 if word == "年底" and reference.month <= 6 else reference.year)
        )
        if word == "年底":
            return date(base, 12, 1), date(base, 12, 31), "range", True, True
        return date(base, 1, 1), date(base, 2, 28), "range", True, True
    if lunar_year is None:
        # 腊月 / 春节前 alone: the most recent one that has started by the reference date.
        lunar_year = _lunar_year_of(reference)
        if word in ("腊月", "春节前"):
            span = _lunar_range(word, lunar_year if word == "腊月" else lunar_year + 1)
            if span and span[0] > reference:
                span = _lunar_range(word, lunar_year - 1 if word == "腊月" else lunar_year)
            return (*span, "range", True, True) if span else (None, None, "range", True, True)
    span = _lunar_range(word, lunar_year)
    return (*span, "range", True, True) if span else (None, None, "range", True, True)


def _resolve_word(word: str, reference: date):
    days = {"大前天": 3, "前天": 2, "昨天": 1, "昨日": 1, "昨晚": 1, "今天": 0, "今日": 0, "今早": 0, "今晚": 0,
            "明天": -1, "后天": -2}  # fmt: skip
    if word in days:
        value = reference - timedelta(days=days[word])
        return value, value, "day", True, False
    if word in ("前几天", "近日", "这几天"):
        return reference - timedelta(days=7), reference, "range", True, True
    monday = reference - timedelta(days=reference.weekday())
    if word.startswith("上"):
        if word.endswith("月"):
            last_month_end = reference.replace(day=1) - timedelta(days=1)
            first, last = _month_range(last_month_end.year, last_month_end.month)
            return first, last, "month", True, False
        weekday = "一二三四五六日天".find(word[-1])
        last_monday = monday - timedelta(days=7)
        if weekday >= 0:
            value = last_monday + timedelta(days=min(weekday, 6))
            return value, value, "day", True, False
        return last_monday, last_monday + timedelta(days=6), "range", True, False
    if word in ("本周", "这周", "这个星期"):
        return monday, monday + timedelta(days=6), "range", True, False
    first, last = _month_range(reference.year, reference.month)
    if word == "月初":
        return first, first + timedelta(days=9), "range", True, True
    if word == "月底":
        return last - timedelta(days=9), last, "range", True, True
    return first, last, "month", True, False  # 本月, 这个月


def find_dates(text: str, *, reference_on: date | None = None) -> list[DateMention]:
    """Absolute dates (2026年3月5日, 2026-03-05, 二〇二六年三月), month-day dates and relative ones
    (昨天, 上周三, 3天前, 去年腊月, 春节前) resolved against `reference_on`; overlapping matches keep the first,
    longest pattern."""
    candidates = []
    for priority, (kind, pattern) in enumerate(_DATE_PATTERNS):
        for match in pattern.finditer(text):
            if match.end() > match.start():
                candidates.append((match.start(), -(match.end() - match.start()), priority, kind, match))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    found = []
    covered_until = -1
    for start, _, _, kind, match in candidates:
        if start < covered_until:
            continue
        start_on, end_on, precision, relative, approximate = _resolve(kind, match, reference_on)
        found.append(
            DateMention(
                start, match.end(), match.group(0), start_on, end_on, precision, relative, approximate
            )
        )
        covered_until = match.end()
    return found


def _drop_overlaps(items: list, taken: list[tuple[int, int]]) -> list:
    kept = []
    for item in items:
        if not any(item.start < end and start < item.end for start, end in taken):
            kept.append(item)
    return kept


def extract(text: str, *, county_code: str | None = None, reference_on: date | None = None) -> Facts:
    """All facts of `text`; places only when the county is known (its 6-digit code)."""
    folded = fold(text)
    id_numbers = find_id_numbers(folded)
    mobiles = _drop_overlaps(find_mobiles(folded), [(i.start, i.end) for i in id_numbers])
    numbers = [(i.start, i.end) for i in id_numbers] + [(m.start, m.end) for m in mobiles]
    dates = find_dates(folded, reference_on=reference_on)
    date_spans = [(d.start, d.end) for d in dates]
    people = _drop_overlaps(find_people(folded), numbers + date_spans)
    amounts = _drop_overlaps(find_amounts(folded), numbers + date_spans + [(p.start, p.end) for p in people])
    places = tuple(load_gazetteer(county_code).find(text)) if county_code else ()
    restore = (
        (lambda items: tuple(items))
        if folded == text
        else (lambda items: tuple(_with_text(i, text) for i in items))
    )
    return Facts(
        people=restore(people),
        amounts=restore(amounts),
        dates=restore(dates),
        places=places,
        id_numbers=restore(id_numbers),
        mobiles=restore(mobiles),
    )


def _with_text(item, text: str):
    """The same fact with `text` taken from the caller's original (unfolded) text."""
    from dataclasses import replace

    return replace(item, text=text[item.start : item.end])
