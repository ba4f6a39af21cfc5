"""The KPIs (考核指标), periods and the assessment score, as pure definitions (no Django, no clock, no I/O).

Every KPI is defined once, here, with its numerator, denominator, time basis (which event's timestamp places a
matter in a period) and the responsible unit at that moment; `yidi.analytics.engine` turns each definition into
SQL aggregates and into the drill-down lists, and `docs/kpis.md` explains every choice. All KPIs count matters
(一件事), never rows of other tables: a matter counts at most once in a numerator and once in a denominator.
"""

import calendar as month_calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Measure(StrEnum):
    RATE = "rate"  # numerator ÷ denominator, shown as a percentage
    AVERAGE_WORKDAYS = "average_workdays"  # total working days ÷ matters, shown in working days
    PER_10K = "per_10k"  # numerator ÷ resident population × 10,000


MEASURE_UNITS = {Measure.RATE: "%", Measure.AVERAGE_WORKDAYS: "工作日", Measure.PER_10K: "件/万人"}


class UnitBasis(StrEnum):
    """Which unit a matter's figure is attributed to when the slice names a unit."""

    REGISTERING = "registering"  # the unit that registered the matter (and had to accept it)
    LEAD = "lead"  # the lead unit (主办) that produced the result: kept on the matter after conclusion
    CLOCK = "clock"  # the lead unit whose assignment was active when the stage clock ended (met or fell due)
    EVALUATED = "evaluated"  # the lead unit recorded on the evaluation (群众评价) at the time it was made
    NONE = "none"  # a regional measure: a unit slice does not apply


@dataclass(frozen=True)
class KpiDefinition:
    code: str
    name: str
    numerator: str  # what the numerator counts (Chinese, shown in tables and exports)
    denominator: str
    time_basis: str  # the event whose timestamp places a matter in the period (Chinese)
    unit_basis: UnitBasis
    measure: Measure
    higher_is_better: bool
    source: str  # citation: china-rules.md §4 / SPEC §8, and [I] where the definition is ours
    empty_reason: str  # the reason shown when the denominator is zero

    @property
    def measure_unit(self) -> str:
        return MEASURE_UNITS[self.measure]


K = KpiDefinition
U = UnitBasis
M = Measure
KPIS: tuple[KpiDefinition, ...] = (
    K("accept_timely", "及时受理率", "期限内作出受理决定（受理或不予受理）的事项", "本期登记且已作出受理决定或已超受理期限的事项",
      "登记时间", U.REGISTERING, M.RATE, True,
      "china-rules §4 [P:dachuan] 信访事项及时受理率；受理期限为设置项（工作日）[I]", "本期无应受理事项"),
    K("sign_timely", "及时签收率", "签收时限内签收的事项", "签收时限本期届满未签收或本期签收的事项",
      "签收时间（未签收的按签收期限）", U.CLOCK, M.RATE, True,
      "china-rules §4 [P:lyg-2020] 12345 及时签收率；时限取事项的签收时钟（时限规则）", "本期无应签收事项"),
    K("handle_on_time", "按期办结率", "办理时限内出结果的事项", "办理时限本期届满未出结果或本期出结果的事项",
      "出结果时间（未出结果的按办理期限）", U.CLOCK, M.RATE, True,
      "china-rules §4 [P:dachuan] 按期办结率 = 按期办结 ÷ 应办结；时限取事项的办理时钟", "本期无应办结事项"),
    K("resolution", "化解率", "办理结果为化解的事项（协议、支持、解释说明、分流后办结）", "本期出结果的事项",
      "出结果时间", U.LEAD, M.RATE, True,
      "china-rules §4 [P:zj-2020stats] 化解件 ÷ 受理件；分母取本期出结果的事项 [I]", "本期无出结果的事项"),
    K("mediation_success", "调解成功率", "达成调解协议（书面或口头）的事项", "本期以调解方式出结果的事项",
      "出结果时间", U.LEAD, M.RATE, True,
      "china-rules §4 [P:county-report] 调解成功件 ÷ 调解件", "本期无调解出结果的事项"),
    K("evaluation_participation", "参评率", "已有群众评价的事项", "本期办结的事项",
      "办结时间", U.LEAD, M.RATE, True,
      "china-rules §4 [P:dachuan] 参评率 = 参评 ÷ 应参评", "本期无办结事项"),
    K("satisfaction", "满意率", "本期评价均为满意或基本满意的事项", "本期有群众评价的事项",
      "评价时间", U.EVALUATED, M.RATE, True,
      "china-rules §4 [P:dachuan] 满意率只计参评事项；基本满意计为满意 [I]", "本期无参评事项"),
    K("repeat_contact", "重复来访/来电率", "登记后又有反映记录（来访、来电等）的事项", "本期登记的事项",
      "登记时间", U.LEAD, M.RATE, False,
      "china-rules §4 [P:dachuan] 重复信访；SPEC §8 重复信访率；以反映记录计 [I]", "本期无登记事项"),
    K("first_time_resolution", "一次性化解率", "首次办理即化解的事项（无回退、上报、转办、重办、复查复核、重复反映）",
      "本期办结的事项", "办结时间", U.LEAD, M.RATE, True,
      "china-rules §4 [U][I] 一次性化解率 = 首办单位化解且无复查、重复、上交 ÷ 办结件", "本期无办结事项"),
    K("pre_litigation_resolution", "诉前化解率", "化解的法院诉前委派事项", "本期出结果的法院诉前委派事项",
      "出结果时间", U.LEAD, M.RATE, True,
      "china-rules §4 [U][I] 诉前化解件 ÷ 诉前分流件（法院诉前委派渠道）", "本期无诉前委派事项出结果"),
    K("litigation_per_10k", "万人成讼率", "本期分流至诉讼的事项", "辖区常住人口（万人）",
      "分流时间", U.NONE, M.PER_10K, False,
      "china-rules §4 [P:wanren-chengsong] 成讼件 ÷ 常住人口 × 10,000；成讼件以本平台分流至诉讼计 [I]",
      "缺少该区划本年度的常住人口数据"),
    K("one_place", "跑一地率", "群众最多到一个地点的事项", "本期办结的事项",
      "办结时间", U.LEAD, M.RATE, True, "SPEC §8 跑一地率（按登记的来访地点）", "本期无办结事项"),
    K("zero_visit", "零跑率", "群众未到现场的事项", "本期办结的事项",
      "办结时间", U.LEAD, M.RATE, True, "SPEC §8 零跑率（无任何来访记录）", "本期无办结事项"),
    K("days_accept", "平均受理用时", "登记至受理的工作日合计", "本期受理的事项",
      "受理时间", U.REGISTERING, M.AVERAGE_WORKDAYS, False, "china-rules §4 计算说明 [I]；工作日按全国工作日历",
      "本期无受理事项"),
    K("days_handle", "平均办理用时", "受理至出结果的工作日合计", "本期出结果的事项",
      "出结果时间", U.LEAD, M.AVERAGE_WORKDAYS, False, "china-rules §4 计算说明 [I]；工作日按全国工作日历",
      "本期无出结果的事项"),
    K("days_close", "平均验证办结用时", "出结果至办结的工作日合计", "本期办结的事项",
      "办结时间", U.LEAD, M.AVERAGE_WORKDAYS, False, "china-rules §4 计算说明 [I]；工作日按全国工作日历",
      "本期无办结事项"),
    K("days_total", "平均全流程用时", "登记至办结的工作日合计", "本期办结的事项",
      "办结时间", U.LEAD, M.AVERAGE_WORKDAYS, False, "china-rules §4 计算说明 [I]；工作日按全国工作日历",
      "本期无办结事项"),
)
del K, U, M
KPI_BY_CODE = {kpi.code: kpi for kpi in KPIS}
RATE_KPIS = tuple(kpi.code for kpi in KPIS if kpi.measure == Measure.RATE)


class Part(StrEnum):
    NUMERATOR = "numerator"
    DENOMINATOR = "denominator"


PART_LABELS = {Part.NUMERATOR: "分子", Part.DENOMINATOR: "分母"}


class InvalidSlice(ValueError):
    """A filter value that cannot be used (message in Chinese), tied to the parameter it came from."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# --- periods ----------------------------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Period:
    """Whole days from `starts_on` to `ends_on`, both included (Asia/Shanghai dates)."""

    starts_on: date
    ends_on: date
    kind: PeriodKind = PeriodKind.CUSTOM

    def __post_init__(self) -> None:
        if self.ends_on < self.starts_on:
            raise InvalidSlice("to", "结束日期不能早于开始日期")

    @property
    def label(self) -> str:
        s, e = self.starts_on, self.ends_on
        if self.kind == PeriodKind.YEAR:
            return f"{s.year}年"
        if self.kind == PeriodKind.QUARTER:
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        if self.kind == PeriodKind.MONTH:
            return f"{s.year}年{s.month}月"
        return f"{s:%Y-%m-%d}至{e:%Y-%m-%d}"

    @property
    def token(self) -> str:
        """The period as one query value: 2026, 2026-Q1, 2026-03, or 2026-01-01~2026-02-15."""
        s = self.starts_on
        if self.kind == PeriodKind.YEAR:
            return f"{s.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        if self.kind == PeriodKind.MONTH:
            return f"{s:%Y-%m}"
        return f"{s:%Y-%m-%d}~{self.ends_on:%Y-%m-%d}"

    def previous(self) -> "Period":
        """The period just before, of the same kind and length (for period-over-period change)."""
        s = self.starts_on
        if self.kind == PeriodKind.YEAR:
            return year_period(s.year - 1)
        if self.kind == PeriodKind.QUARTER:
            quarter = (s.month - 1) // 3 + 1
            return quarter_period(s.year - 1, 4) if quarter == 1 else quarter_period(s.year, quarter - 1)
        if self.kind == PeriodKind.MONTH:
            return month_period(s.year - 1, 12) if s.month == 1 else month_period(s.year, s.month - 1)
        length = (self.ends_on - s).days + 1
        return Period(s - timedelta(days=length), s - timedelta(days=1))


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), PeriodKind.YEAR)


def quarter_period(year: int, quarter: int) -> Period:
    first = 3 * (quarter - 1) + 1
    return Period(date(year, first, 1), date(year, first + 2, month_calendar.monthrange(year, first + 2)[1]),
                  PeriodKind.QUARTER)


def month_period(year: int, month: int) -> Period:
    return Period(date(year, month, 1), date(year, month, month_calendar.monthrange(year, month)[1]), PeriodKind.MONTH)


_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_CUSTOM_DAYS = 3660


def parse_period(token: str = "", *, starts_on: str = "", ends_on: str = "", today: date) -> Period:
    """A period from `period` (2026, 2026-Q1, 2026-03) or from `from`/`to` dates (YYYY-MM-DD).

    - nothing given: the current year;
    - dates win over the token; one date alone runs to/from the other end of its year;
    - malformed values raise `InvalidSlice` naming the parameter, never a guess.
    """
    if starts_on or ends_on:
        start = _date("from", starts_on) if starts_on else None
        end = _date("to", ends_on) if ends_on else None
        start = start or date((end or today).year, 1, 1)
        end = end or date(start.year, 12, 31)
        if end < start:
            raise InvalidSlice("to", "结束日期不能早于开始日期")
        if (end - start).days > MAX_CUSTOM_DAYS:
            raise InvalidSlice("to", "统计区间不能超过十年")
        return Period(start, end)
    token = token.strip()
    if not token:
        return year_period(today.year)
    for pattern, build in ((_YEAR, lambda m: year_period(int(m[1]))),
                           (_QUARTER, lambda m: quarter_period(int(m[1]), int(m[2]))),
                           (_MONTH, lambda m: month_period(int(m[1]), int(m[2])))):
        match = pattern.match(token)
        if match:
            try:
                period = build(match)
            except ValueError:
                break
            if not 2000 <= period.starts_on.year <= 2100:
                break
            return period
    raise InvalidSlice("period", f"统计期间“{token[:20]}”格式不对，应为 2026、2026-Q1 或 2026-03")


def _date(name: str, value: str) -> date:
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidSlice(name, f"日期“{value[:20]}”格式不对，应为 YYYY-MM-DD") from None
    if not 2000 <= parsed.year <= 2100:
        raise InvalidSlice(name, f"日期“{value[:20]}”超出可统计的范围")
    return parsed


# --- values -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiValue:
    """One KPI for one slice: numerator, denominator, value (None when undefined) and why it is undefined."""

    kpi: KpiDefinition
    numerator: Decimal
    denominator: Decimal
    value: Decimal | None
    reason: str = ""

    @property
    def code(self) -> str:
        return self.kpi.code

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.kpi.measure == Measure.RATE:
            return f"{self.value}%"
        return f"{self.value}"


def _round(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def kpi_value(kpi: KpiDefinition, numerator, denominator, *, reason: str = "") -> KpiValue:
    """The value of `kpi` from its parts. Rates in percent with 2 decimals; averages and per-10k with 2 decimals.

    - a zero (or missing) denominator gives no value ("—") with the KPI's reason, never a division error;
    - `reason` overrides it (e.g. a unit slice on a regional measure).
    """
    numerator = Decimal(numerator or 0)
    denominator = Decimal(denominator or 0)
    if reason or denominator == 0:
        return KpiValue(kpi, numerator, denominator, None, reason or kpi.empty_reason)
    if kpi.measure == Measure.RATE:
        value = numerator * 100 / denominator
    elif kpi.measure == Measure.PER_10K:
        value = numerator * 10000 / denominator
    else:
        value = numerator / denominator
    return KpiValue(kpi, numerator, denominator, _round(value, "0.01"))


# --- assessment score (考核) ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightItem:
    kpi_code: str
    points: Decimal  # the item's full marks: score = rate × points (a rate of 100% earns all of them)


@dataclass(frozen=True)
class DeductionItem:
    kind: str
    label: str
    points_per_item: Decimal
    cap: Decimal | None  # the most this deduction may take off (None: no cap)


@dataclass(frozen=True)
class ScoreLine:
    label: str
    detail: str
    points: Decimal  # earned (positive) or deducted (negative)


@dataclass(frozen=True)
class Score:
    total: Decimal
    lines: tuple[ScoreLine, ...] = field(default_factory=tuple)


def assessment_score(weights: list[WeightItem], values: dict[str, KpiValue], deductions: list[DeductionItem],
                     counts: dict[str, int]) -> Score:
    """The assessment score of one unit for one period, with its breakdown.

    - each weighted KPI earns `rate × points` (a rate above 100% is not possible; lower-is-better KPIs earn
      `(100% − rate) × points`);
    - a KPI without a value this period (zero denominator) earns nothing and is left out of the full marks;
      the earned points are then rescaled to the full marks of all items (按实际考核项折算), so that a unit is
      neither rewarded nor punished for a measure it had no matters for;
    - each deduction takes `points_per_item × count`, at most its cap; the total never goes below zero.
    """
    lines: list[ScoreLine] = []
    earned = Decimal(0)
    counted = Decimal(0)
    full = sum((w.points for w in weights), Decimal(0))
    for weight in weights:
        value = values.get(weight.kpi_code)
        kpi = KPI_BY_CODE[weight.kpi_code]
        if value is None or value.value is None:
            lines.append(ScoreLine(kpi.name, f"{value.reason if value else '未计算'}，不计分（满分 {weight.points}）",
                                   Decimal(0)))
            continue
        rate = value.value / 100
        if not kpi.higher_is_better:
            rate = 1 - rate
        points = _round(rate * weight.points, "0.01")
        earned += points
        counted += weight.points
        lines.append(ScoreLine(kpi.name, f"{value.display} × {weight.points} 分", points))
    base = _round(earned * full / counted, "0.01") if counted else Decimal(0)
    if counted and counted != full:
        lines.append(ScoreLine("折算", f"得分 {earned} ÷ 参与计分的满分 {counted} × 总满分 {full}", base - earned))
    total = base
    for deduction in deductions:
        count = counts.get(deduction.kind, 0)
        taken = deduction.points_per_item * count
        if deduction.cap is not None:
            taken = min(taken, deduction.cap)
        if count:
            lines.append(ScoreLine(deduction.label, f"{count} 件 × {deduction.points_per_item} 分", -taken))
        total -= taken
    return Score(max(_round(total, "0.01"), Decimal(0)), tuple(lines))


# --- rankings ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingRow:
    key: str
    name: str
    value: Decimal | None
    volume: int
    previous: Decimal | None
    rank: int | None = None
    excluded_reason: str = ""
    detail: tuple[ScoreLine, ...] = ()

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


INSUFFICIENT_SAMPLE = "样本不足，不参与排名"


def rank(rows: list[RankingRow], *, higher_is_better: bool, minimum_volume: int) -> list[RankingRow]:
    """Order rows best first and number them; ties share a rank (1, 2, 2, 4).

    - a row whose volume is below `minimum_volume` is listed after the ranked ones as "样本不足，不参与排名";
    - a row without a value (zero denominator) is listed last with its reason, unranked.
    """
    from dataclasses import replace

    ranked = [r for r in rows if r.value is not None and r.volume >= minimum_volume]
    small = [replace(r, excluded_reason=INSUFFICIENT_SAMPLE) for r in rows
             if r.volume < minimum_volume and r not in ranked]
    empty = [r for r in rows if r.value is None and r.volume >= minimum_volume]
    ranked.sort(key=lambda r: (-r.value if higher_is_better else r.value, r.key))
    result: list[RankingRow] = []
    for index, row in enumerate(ranked):
        number = result[-1].rank if index and row.value == ranked[index - 1].value else index + 1
        result.append(replace(row, rank=number))
    return result + sorted(small, key=lambda r: r.key) + sorted(empty, key=lambda r: r.key)
