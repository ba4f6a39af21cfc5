"""The implementation report (落实情况报告) for oversight bodies, as .docx and PDF.

    report = build_report(region_code="330681", period=Period(date(2026, 1, 1), date(2026, 3, 31)))
    pdf = render_pdf(report); docx = render_docx(report)

Contents: a cover; the overview figures of the region and period; charts (monthly volume, by dispute type, by
channel); the four problem areas the reform watches, each with the data that evidences it (思想认识, 力量配备,
基层网络, 系统融合); the per-township and per-department tables.

Rules:
- every rate comes from the KPI engine (`yidi.analytics.engine.compute`) with its own definitions; plain counts
  (volumes, shares, pool sizes) are SQL aggregates here, each stated with its basis in the text;
- a zero denominator prints "—" with the engine's reason; a period without matters prints zeros and "无数据";
- the same data gives the same text: nothing depends on the clock but the figures that are defined on it
  (e.g. a clock still running), and the files are dated at the period's last day;
- PDF: the bundled CJK font of `yidi.mediation.documents` (characters outside it print as 〓 and are logged);
  charts are drawn with fpdf2's primitives. .docx: 仿宋/宋体 named, charts embedded as PNGs drawn with Pillow.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import CharField, Count, F, Q, Value, When
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from yidi.accounts.domain import HANDLING_LEVEL_LABELS, UNIT_KIND_LABELS, Role, UnitKind
from yidi.accounts.models import Unit, User
from yidi.analytics import engine
from yidi.analytics.domain import InvalidSlice, KpiValue, Period
from yidi.analytics.engine import Slice
from yidi.analytics.queries import DEPARTMENT_KINDS
from yidi.audit.actions import record
from yidi.cases.models import Case, Channel
from yidi.core.models import TaxonomyLabel
from yidi.integrations.models import OutboxMessage
from yidi.mediation.documents.layout import printable
from yidi.mediation.documents.pdf_writer import FONT_PATH, MISSING_GLYPH, with_known_glyphs, wrap
from yidi.mediation.models import Mediator
from yidi.regions.domain import code_range
from yidi.regions.models import Region

logger = logging.getLogger(__name__)

NO_DATA = "无数据"
OVERVIEW_KPIS = ("accept_timely", "sign_timely", "handle_on_time", "resolution", "mediation_success",
                 "evaluation_participation", "satisfaction", "repeat_contact", "first_time_resolution",
                 "one_place", "zero_visit", "days_total")
TABLE_KPIS = ("resolution", "handle_on_time", "satisfaction")
# Channels through which matters arrive from another system rather than being keyed in at a window.
INTEGRATED_CHANNELS = ("hotline_12345", "online", "open311", "court_referral", "court_pre_filing",
                       "court_entrusted_ordinary", "court_entrusted_simplified", "petition_online", "police_110",
                       "higher_assignment", "department_transfer")
CENTRE_KINDS = (UnitKind.CENTRE, UnitKind.COMMAND_DESK)
TOWNSHIP_KINDS = (UnitKind.TOWNSHIP_CENTRE, UnitKind.TOWNSHIP_PLATFORM)
MAX_CHART_BARS = 12


class ReportError(ValueError):
    """Bad arguments (message in Chinese), naming the argument."""

    def __init__(self, argument: str, message: str):
        self.argument = argument
        super().__init__(message)


# --- the report as data --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """A bar chart: one or two series over the same labels."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]

    @property
    def is_empty(self) -> bool:
        return not self.labels or all(value == 0 for _name, values in self.series for value in values)


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    region_name: str
    period: Period
    author: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def dated_at(self) -> datetime:
        """The files' date: 00:00 (Asia/Shanghai) of the period's last day."""
        return timezone.make_aware(datetime.combine(self.period.ends_on, time.min))

    @property
    def cover_lines(self) -> tuple[str, ...]:
        return (f"统计区域：{self.region_name}", f"统计期间：{self.period.label}",
                f"数据截至：{self.period.ends_on:%Y年%m月%d日}", f"编制单位：{self.author}")

    def text(self) -> str:
        """Every line of the report as plain text (what both files print), for checks and previews."""
        lines = [self.title, *self.cover_lines]
        for section in self.sections:
            lines.extend(_section_text(section))
        return "\n".join(lines)


def _section_text(section: Section) -> list[str]:
    lines = [section.heading, *section.paragraphs]
    for chart in section.charts:
        lines.append(chart.title)
    for table in section.tables:
        lines.append(table.title)
        lines.append(" | ".join(table.header))
        lines.extend(" | ".join(row) for row in table.rows)
        if table.note:
            lines.append(table.note)
    for sub in section.subsections:
        lines.extend(_section_text(sub))
    return lines


# --- arguments -----------------------------------------------------------------------------------------------------


def parse_arguments(region_code: str, starts_on: str, ends_on: str) -> tuple[Region, Period]:
    """The region and period of a report, or `ReportError` naming what is wrong (in Chinese)."""
    region_code = (region_code or "").strip()
    if not region_code:
        raise ReportError("region", "请指定区划代码（--region），如 330681")
    region = Region.objects.filter(code=region_code, is_active=True).first()
    if region is None:
        raise ReportError("region", f"区划代码“{region_code[:20]}”不存在")
    if region.level not in ("county", "township"):
        raise ReportError("region", "实施情况报告按县（市、区）或乡镇（街道）编制，请使用县级或乡镇级区划代码")
    dates = []
    for argument, value, label in (("from", starts_on, "开始日期（--from）"), ("to", ends_on, "结束日期（--to）")):
        value = (value or "").strip()
        if not value:
            raise ReportError(argument, f"请指定{label}，格式 YYYY-MM-DD")
        try:
            dates.append(date.fromisoformat(value))
        except ValueError:
            raise ReportError(argument, f"{label}“{value[:20]}”格式不对，应为 YYYY-MM-DD") from None
    try:
        period = Period(dates[0], dates[1])
    except InvalidSlice as error:
        raise ReportError("to", str(error)) from None
    if (period.ends_on - period.starts_on).days > 3660:
        raise ReportError("to", "统计期间不能超过十年")
    return region, period


# --- figures ------------------------------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return f"{(Decimal(part) * 100 / Decimal(whole)).quantize(Decimal('0.01'))}%"


def _kpi_text(value: KpiValue) -> str:
    if value.value is None:
        return f"—（{value.reason}）"
    unit = "" if value.kpi.measure == "rate" else f" {value.kpi.measure_unit}"
    return f"{value.display}{unit}"


def _kpi_cell(value: KpiValue) -> str:
    return value.display


def _bounds(period: Period) -> tuple[datetime, datetime]:
    s = Slice("", period)
    return s.start_at, s.end_at


def _region_cases(region_code: str) -> Q:
    low, high = code_range(region_code)
    return Q(region_id__gte=low, region_id__lt=high)


def _counts(region_code: str, period: Period) -> dict[str, int]:
    start, end = _bounds(period)
    return Case.objects.filter(_region_cases(region_code)).aggregate(
        registered=Count("pk", filter=Q(registered_at__gte=start, registered_at__lt=end)),
        concluded=Count("pk", filter=Q(concluded_at__gte=start, concluded_at__lt=end)),
        closed=Count("pk", filter=Q(closed_at__gte=start, closed_at__lt=end)),
        open_at_end=Count("pk", filter=Q(registered_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))
                          & ~Q(status__in=["not_accepted"])),
    )


def _registered(region_code: str, period: Period):
    start, end = _bounds(period)
    return Case.objects.filter(_region_cases(region_code), registered_at__gte=start, registered_at__lt=end).order_by()


def _months(period: Period) -> list[date]:
    months, day = [], period.starts_on.replace(day=1)
    while day <= period.ends_on:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def _monthly_chart(region_code: str, period: Period) -> Chart:
    start, end = _bounds(period)
    zone = timezone.get_current_timezone()
    cases = Case.objects.filter(_region_cases(region_code)).order_by()

    def per_month(field_name: str) -> dict[date, int]:
        rows = (cases.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
                .annotate(month=TruncMonth(field_name, tzinfo=zone)).values("month").annotate(n=Count("pk"))
                .values_list("month", "n"))
        return {(timezone.localtime(m, zone).date() if isinstance(m, datetime) else m).replace(day=1): n
                for m, n in rows}

    registered, concluded = per_month("registered_at"), per_month("concluded_at")
    months = _months(period)[-24:]
    return Chart("图1 各月登记与出结果事项数（件）", tuple(f"{m.year % 100:02d}年{m.month}月" for m in months),
                 (("登记", tuple(registered.get(m, 0) for m in months)),
                  ("出结果", tuple(concluded.get(m, 0) for m in months))))


def _top(rows: list[tuple[str, int]], limit: int = MAX_CHART_BARS) -> list[tuple[str, int]]:
    rows = sorted(rows, key=lambda row: (-row[1], row[0]))
    if len(rows) <= limit:
        return rows
    return [*rows[: limit - 1], ("其他", sum(n for _name, n in rows[limit - 1:]))]


def _by_type(region_code: str, period: Period) -> list[tuple[str, int]]:
    rows = dict(_registered(region_code, period).values("primary_type_id").annotate(n=Count("pk"))
                .values_list("primary_type_id", "n"))
    names = dict(TaxonomyLabel.objects.filter(pk__in=[pk for pk in rows if pk]).values_list("pk", "name"))
    return [(names.get(pk, "待分类"), n) for pk, n in rows.items()]


def _by_channel(region_code: str, period: Period) -> list[tuple[str, str, int]]:
    rows = dict(_registered(region_code, period).values("channel_id").annotate(n=Count("pk"))
                .values_list("channel_id", "n"))
    channels = {pk: (code, name) for pk, code, name in Channel.objects.filter(pk__in=rows).values_list(
        "pk", "code", "name")}
    return sorted(((*channels[pk], n) for pk, n in rows.items()), key=lambda row: (-row[2], row[0]))


def _share_rows(rows: list[tuple[str, int]], total: int) -> tuple[tuple[str, ...], ...]:
    return tuple((name, str(n), _pct(n, total)) for name, n in rows)


# --- sections -----------------------------------------------------------------------------------------------------


def _overview(region: Region, period: Period, counts: dict, kpis: dict[str, KpiValue], charts: list[Chart]) -> Section:
    if counts["registered"] == 0 and counts["concluded"] == 0 and counts["closed"] == 0:
        lead = f"{period.label}，{region.name}{NO_DATA}：本期没有登记、出结果或办结的事项，各项比率无法计算。"
    else:
        lead = (f"{period.label}，{region.name}共登记矛盾纠纷事项 {counts['registered']} 件，出结果 "
                f"{counts['concluded']} 件，办结 {counts['closed']} 件；期末尚未办结 {counts['open_at_end']} 件。"
                f"化解率 {_kpi_text(kpis['resolution'])}，按期办结率 {_kpi_text(kpis['handle_on_time'])}，"
                f"群众满意率 {_kpi_text(kpis['satisfaction'])}。")
    table = Table(
        "表2 主要指标", ("指标", "数值", "分子", "分母", "口径"),
        tuple((value.kpi.name, value.display, _number(value.numerator), _number(value.denominator),
               value.reason or f"{value.kpi.numerator} ÷ {value.kpi.denominator}") for value in kpis.values()),
        note="注：比率由考核指标引擎按统一口径计算；分母为 0 时显示“—”并注明原因。",
    )
    counts_table = Table("表1 事项总量", ("项目", "件数"), (
        ("本期登记", str(counts["registered"])), ("本期出结果", str(counts["concluded"])),
        ("本期办结", str(counts["closed"])), ("期末未办结", str(counts["open_at_end"]))))
    return Section("一、总体情况", (lead,), (counts_table, table), tuple(charts))


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value}"


def _understanding(region_code: str, period: Period, kpis: dict[str, KpiValue], total: int) -> Section:
    rows = (_registered(region_code, period).values("registering_unit__kind").annotate(n=Count("pk"))
            .values_list("registering_unit__kind", "n"))
    by_group: dict[str, int] = {}
    for kind, n in rows:
        if kind in CENTRE_KINDS:
            group = "县级矛调中心（含指挥调度室）"
        elif kind in TOWNSHIP_KINDS:
            group = "乡镇（街道）矛调中心、基层治理平台"
        elif kind == UnitKind.VILLAGE_COMMITTEE:
            group = "村（社区）调委会"
        else:
            group = UNIT_KIND_LABELS.get(kind, "其他单位")
        by_group[group] = by_group.get(group, 0) + n
    centre = by_group.get("县级矛调中心（含指挥调度室）", 0)
    if total:
        text = (f"本期登记的 {total} 件事项中，由县级矛调中心登记 {centre} 件，占 {_pct(centre, total)}；"
                f"登记后又有来访、来电等重复反映的事项占 {_kpi_text(kpis['repeat_contact'])}，"
                f"一次性化解率 {_kpi_text(kpis['first_time_resolution'])}。重复反映的比例越高、一次性化解率越低，"
                "中心越是在充当“中转站”，而不是矛盾纠纷化解的“终点站”。")
    else:
        text = f"本期{NO_DATA}：没有登记事项，无法评价。"
    table = Table("表3 事项登记单位分布", ("登记单位", "件数", "占比"),
                  _share_rows(sorted(by_group.items(), key=lambda row: (-row[1], row[0])), total))
    return Section("（一）思想认识：中心是否成为化解的“终点站”", (text,), (table,))


def _staffing(region_code: str, period: Period, counts: dict) -> Section:
    low, high = code_range(region_code)
    in_region = Q(unit__region_id__gte=low, unit__region_id__lt=high, is_active=True)
    handlers = User.objects.filter(in_region, roles__role=Role.HANDLER).distinct().count()
    mediator_accounts = User.objects.filter(in_region, roles__role=Role.MEDIATOR).distinct().count()
    pool = Mediator.objects.filter(region_id__gte=region_code[:6], region_id__lt=code_range(region_code[:6])[1],
                                   is_active=True)
    pool = pool.filter(Q(region_id__gte=low, region_id__lt=high) | Q(region_id=region_code[:6]))
    pool_size = pool.count()
    pool_by_type = dict(pool.values("organisation_type").annotate(n=Count("pk"))
                        .values_list("organisation_type", "n"))
    concluded = counts["concluded"]
    per_handler = f"{Decimal(concluded) / handlers:.2f}" if handlers else "—"
    per_mediator = f"{Decimal(concluded) / pool_size:.2f}" if pool_size else "—"
    text = (f"辖区内承办人账号 {handlers} 个，调解员账号 {mediator_accounts} 个，调解专家库在库调解员 {pool_size} 名。"
            f"本期出结果 {concluded} 件，人均（承办人）{per_handler} 件，人均（在库调解员）{per_mediator} 件。")
    if not handlers or not pool_size:
        text += "承办或调解力量为零的，应核实人员是否已建账号、入库。"
    from yidi.mediation.domain import ORGANISATION_TYPE_LABELS

    rows = tuple((ORGANISATION_TYPE_LABELS.get(kind, kind), str(n), _pct(n, pool_size))
                 for kind, n in sorted(pool_by_type.items(), key=lambda row: (-row[1], row[0])))
    table = Table("表5 调解专家库构成", ("调解组织类型", "人数", "占比"), rows or (("无数据", "0", "—"),))
    staff = Table("表4 办理力量", ("项目", "数值"), (
        ("承办人账号", str(handlers)), ("调解员账号", str(mediator_accounts)), ("在库调解员", str(pool_size)),
        ("本期出结果（件）", str(concluded)), ("人均出结果（承办人）", per_handler),
        ("人均出结果（在库调解员）", per_mediator)))
    return Section("（二）力量配备：承办和调解力量是否与事项量相适应", (text,), (staff, table))


def _township_network(region_code: str, period: Period, kpis: dict[str, KpiValue]) -> Section:
    start, end = _bounds(period)
    # the handling level set at routing; where none was set, the level of the unit that produced the result
    level = DbCase(
        When(~Q(handling_level=""), then=F("handling_level")),
        When(lead_unit__kind__in=TOWNSHIP_KINDS, then=Value("township")),
        When(lead_unit__kind=UnitKind.VILLAGE_COMMITTEE, then=Value("village")),
        When(lead_unit__isnull=False, then=Value("county")),
        default=Value(""), output_field=CharField(),
    )
    rows = dict(Case.objects.filter(_region_cases(region_code), concluded_at__gte=start, concluded_at__lt=end)
                .order_by().annotate(level=level).values("level").annotate(n=Count("pk")).values_list("level", "n"))
    total = sum(rows.values())
    local = rows.get("village", 0) + rows.get("township", 0)
    if total:
        text = (f"本期出结果的 {total} 件事项中，在村（社区）、乡镇（街道）层级处置 {local} 件，占 "
                f"{_pct(local, total)}（“小事不出村、大事不出镇”）。群众最多跑一地率 "
                f"{_kpi_text(kpis['one_place'])}，零跑率 {_kpi_text(kpis['zero_visit'])}（按登记的来访地点计）。")
    else:
        text = f"本期{NO_DATA}：没有出结果的事项。跑一地率 {_kpi_text(kpis['one_place'])}。"
    labels = {**{key.value: label for key, label in HANDLING_LEVEL_LABELS.items()}, "": "未定层级"}
    table = Table("表6 出结果事项的处置层级", ("处置层级", "件数", "占比"), tuple(
        (labels.get(level, level), str(rows.get(level, 0)), _pct(rows.get(level, 0), total))
        for level in ("village", "township", "county", "") if level in rows or level != ""))
    return Section("（三）基层网络：矛盾纠纷是否就地化解", (text,), (table,))


def _integration(region_code: str, period: Period, total: int) -> Section:
    channels = _by_channel(region_code, period)
    integrated = sum(n for code, _name, n in channels if code in INTEGRATED_CHANNELS)
    start, end = _bounds(period)
    region_codes = Case.objects.filter(_region_cases(region_code)).values("code")
    outbox = OutboxMessage.objects.filter(subject_type="case", subject_id__in=region_codes,
                                          created_at__gte=start, created_at__lt=end)
    outbox_counts = outbox.aggregate(total=Count("pk"), failed=Count("pk", filter=Q(status="failed")),
                                     retried=Count("pk", filter=Q(attempts__gt=1)))
    if total:
        text = (f"本期登记事项中，经 12345 热线、网上平台、法院、公安等系统对接进入的 {integrated} 件，占 "
                f"{_pct(integrated, total)}；其余由窗口、来电、网格等人工录入。")
    else:
        text = f"本期{NO_DATA}：没有登记事项。"
    text += (f"本期与事项有关的对外消息 {outbox_counts['total']} 条，投递失败 {outbox_counts['failed']} 条，"
             f"经重试投递 {outbox_counts['retried']} 条。")
    table = Table("表7 事项来源渠道", ("渠道", "件数", "占比", "系统对接"), tuple(
        (name, str(n), _pct(n, total), "是" if code in INTEGRATED_CHANNELS else "否") for code, name, n in channels
    ) or (("无数据", "0", "—", "—"),))
    return Section("（四）系统融合：信息是否互通共享", (text,), (table,))


def _township_table(region: Region, period: Period) -> Table:
    level = "村（社区）" if region.level == "township" else "乡镇（街道）"
    children = list(Region.objects.filter(parent_id=region.code, is_active=True).order_by("code"))
    if region.level == "county":
        children = [child for child in children if child.level == "township"]
    start, end = _bounds(period)
    registered = dict(Case.objects.filter(_region_cases(region.code), registered_at__gte=start, registered_at__lt=end)
                      .order_by().annotate(child=Substr("region_id", 1, len(region.code) + 3)).values("child")
                      .annotate(n=Count("pk")).values_list("child", "n"))
    rows = []
    for child in children:
        values = engine.compute(TABLE_KPIS, Slice(child.code, period))
        rows.append((child.name, str(registered.get(child.code, 0)), _number(values[0].denominator),
                     *(_kpi_cell(value) for value in values)))
    return Table(f"表8 各{level}情况", (level, "登记", "出结果", "化解率", "按期办结率", "满意率"),
                 tuple(rows) or (("无数据", "0", "0", "—", "—", "—"),),
                 note="注：按事项发生地统计；“—”表示本期无可计算的事项。")


def _department_table(region: Region, period: Period) -> Table:
    low, high = code_range(region.code[:6])
    units = Unit.objects.filter(kind__in=DEPARTMENT_KINDS, region_id__gte=low, region_id__lt=high,
                                is_active=True).order_by("code")
    start, end = _bounds(period)
    led = dict(Case.objects.filter(_region_cases(region.code), concluded_at__gte=start, concluded_at__lt=end)
               .order_by().values("lead_unit_id").annotate(n=Count("pk")).values_list("lead_unit_id", "n"))
    rows = []
    for unit in units:
        values = engine.compute(TABLE_KPIS, Slice(region.code, period, unit_id=unit.pk))
        rows.append((unit.name, str(led.get(unit.pk, 0)), *(_kpi_cell(value) for value in values)))
    return Table("表9 各部门情况", ("部门", "主办出结果", "化解率", "按期办结率", "满意率"),
                 tuple(rows) or (("无数据", "0", "—", "—", "—"),),
                 note="注：按主办单位统计（化解率按出结果时的主办单位，按期办结率按时限届满时的主办单位）。")


def build_report(region: Region, period: Period, *, author: str = "") -> Report:
    """The report's contents for one region (county or township) and period."""
    s = Slice(region.code, period)
    values = engine.compute(OVERVIEW_KPIS, s)
    kpis = {value.code: value for value in values}
    counts = _counts(region.code, period)
    total = counts["registered"]
    charts = [
        _monthly_chart(region.code, period),
        Chart("图2 本期登记事项的纠纷类型（件）", *_single(_top(_by_type(region.code, period)), "登记")),
        Chart("图3 本期登记事项的来源渠道（件）",
              *_single(_top([(name, n) for _code, name, n in _by_channel(region.code, period)]), "登记")),
    ]
    problems = Section("二、改革关注的四个方面", (
        "对照矛调中心建设中常见的四类问题，用本期数据逐项检视：",), subsections=(
        _understanding(region.code, period, kpis, total),
        _staffing(region.code, period, counts),
        _township_network(region.code, period, kpis),
        _integration(region.code, period, total),
    ))
    tables = Section("三、分乡镇（街道）和部门情况", tables=(_township_table(region, period),
                                                      _department_table(region, period)))
    return Report(
        title=f"{region.name}社会矛盾纠纷调处化解工作实施情况报告", region_name=region.name, period=period,
        author=author or f"{region.name}社会矛盾纠纷调处化解中心",
        sections=(_overview(region, period, counts, kpis, charts), problems, tables),
    )


def _single(rows: list[tuple[str, int]], name: str) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[int, ...]], ...]]:
    return tuple(label for label, _n in rows), ((name, tuple(n for _label, n in rows)),)


# --- PDF ----------------------------------------------------------------------------------------------------------

SERIES_COLOURS = ((47, 111, 222), (58, 168, 100))


def render_pdf(report: Report) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import WrapMode, XPos, YPos
    from fpdf.fonts import FontFace

    family = "YidiSerifSC"
    missing: set[str] = set()

    def clean(text: str) -> str:
        return with_known_glyphs(printable(text), missing)

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_font(family, size=9)
            self.set_y(-15)
            self.cell(0, 5, f"第 {self.page_no()} 页 共 {{nb}} 页", align="C")

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(family, "", str(FONT_PATH))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_creation_date(report.dated_at)
    pdf.set_title(report.title)
    pdf.set_author(report.author)
    pdf.set_creator("yidi")
    pdf.set_lang("zh-CN")
    measure = pdf.get_string_width

    def paragraph(text: str, *, size: float = 12, indent: bool = True, align: str = "L") -> None:
        pdf.set_font(family, size=size)
        for line in wrap(("\u3000\u3000" if indent else "") + clean(text), pdf.epw, measure):
            pdf.cell(pdf.epw, size * 0.35 * 1.7, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # cover
    pdf.add_page()
    pdf.ln(60)
    paragraph(report.title, size=22, indent=False, align="C")
    pdf.ln(30)
    for line in report.cover_lines:
        paragraph(line, size=14, indent=False, align="C")
    pdf.add_page()

    def table(block: Table) -> None:
        paragraph(block.title, size=11, indent=False, align="C")
        pdf.set_font(family, size=9)
        with pdf.table(text_align="CENTER", line_height=5, first_row_as_headings=True, wrapmode=WrapMode.CHAR,
                       headings_style=FontFace(emphasis="", fill_color=(235, 239, 243)),
                       col_widths=_column_widths(block)) as grid:
            for row in (block.header, *block.rows):
                cells = grid.row()
                for value in row:
                    cells.cell(clean(value))
        if block.note:
            paragraph(block.note, size=9, indent=False)
        pdf.ln(3)

    def chart(block: Chart) -> None:
        height = 60
        if pdf.get_y() + height + 20 > pdf.page_break_trigger:
            pdf.add_page()
        paragraph(block.title, size=11, indent=False, align="C")
        if block.is_empty:
            paragraph(NO_DATA, size=10, indent=False, align="C")
            pdf.ln(3)
            return
        left, top = pdf.l_margin + 10, pdf.get_y() + 2
        width = pdf.epw - 10
        peak = max(max(values) for _name, values in block.series) or 1
        slot = width / len(block.labels)
        bar = min(8.0, slot / (len(block.series) + 1))
        pdf.set_draw_color(160)
        pdf.line(left, top + height, left + width, top + height)
        pdf.set_font(family, size=7)
        pdf.set_xy(pdf.l_margin, top - 1)
        pdf.cell(10, 3, str(peak))
        for index, label in enumerate(block.labels):
            x = left + index * slot + (slot - bar * len(block.series)) / 2
            for number, (_name, values) in enumerate(block.series):
                value = values[index]
                bar_height = height * value / peak
                pdf.set_fill_color(*SERIES_COLOURS[number % len(SERIES_COLOURS)])
                if bar_height:
                    pdf.rect(x + number * bar, top + height - bar_height, bar, bar_height, style="F")
                pdf.set_xy(x + number * bar - 2, top + height - bar_height - 3.5)
                pdf.cell(bar + 4, 3, str(value), align="C")
            pdf.set_xy(left + index * slot, top + height + 1)
            pdf.multi_cell(slot, 3, clean(label), align="C")
        pdf.set_y(top + height + 10)
        legend = "　".join(f"■{name}" for name, _values in block.series) if len(block.series) > 1 else ""
        if legend:
            pdf.set_font(family, size=8)
            pdf.cell(pdf.epw, 4, clean(legend), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)

    def section(block: Section, level: int) -> None:
        paragraph(block.heading, size=15 if level == 0 else 13, indent=False)
        for text in block.paragraphs:
            paragraph(text)
        for item in block.charts:
            chart(item)
        for item in block.tables:
            table(item)
        for sub in block.subsections:
            section(sub, level + 1)

    for block in report.sections:
        section(block, 0)
    if missing:
        logger.warning("%s: characters outside the bundled font printed as %s: %s", report.title, MISSING_GLYPH,
                       "".join(sorted(missing)))
    return bytes(pdf.output())


def _column_widths(block: Table) -> tuple[int, ...]:
    widths = [max(len(value) for value in column) for column in zip(block.header, *block.rows, strict=True)]
    return tuple(max(4, min(width, 24)) for width in widths)


# --- .docx --------------------------------------------------------------------------------------------------------


def _chart_png(block: Chart) -> bytes:
    """A bar chart as PNG (Pillow), labelled with the bundled font: the same data gives the same bytes."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, left, bottom, top = 1200, 520, 70, 90, 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT_PATH), 20)
    small = ImageFont.truetype(str(FONT_PATH), 16)
    plot_height = height - bottom - top
    peak = max(max(values) for _name, values in block.series) or 1
    draw.line((left, height - bottom, width - 20, height - bottom), fill=(160, 160, 160), width=2)
    draw.text((8, top - 10), str(peak), fill=(90, 90, 90), font=small)
    slot = (width - left - 20) / len(block.labels)
    bar = min(50.0, slot / (len(block.series) + 1))
    for index, label in enumerate(block.labels):
        x = left + index * slot + (slot - bar * len(block.series)) / 2
        for number, (_name, values) in enumerate(block.series):
            value = values[index]
            bar_height = plot_height * value / peak
            x0 = x + number * bar
            if bar_height:
                draw.rectangle((x0, height - bottom - bar_height, x0 + bar - 2, height - bottom),
                               fill=SERIES_COLOURS[number % len(SERIES_COLOURS)])
            draw.text((x0 + bar / 2, height - bottom - bar_height - 4), str(value), fill=(40, 40, 40), font=small,
                      anchor="mb")
        draw.text((left + index * slot + slot / 2, height - bottom + 8), label[:8], fill=(40, 40, 40), font=small,
                  anchor="ma")
    if len(block.series) > 1:
        x = left
        for number, (name, _values) in enumerate(block.series):
            draw.rectangle((x, height - 30, x + 18, height - 12), fill=SERIES_COLOURS[number])
            draw.text((x + 24, height - 32), name, fill=(40, 40, 40), font=font)
            x += 140
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def render_docx(report: Report) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(25))
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋")
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        style = document.styles[name]
        style.font.name = "Times New Roman"
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")

    def text_paragraph(text: str, *, size: int | None = None, align=None, indent: bool = True):
        paragraph = document.add_paragraph()
        run = paragraph.add_run(printable(text))
        if size:
            run.font.size = Pt(size)
        if align is not None:
            paragraph.alignment = align
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(24)
        return paragraph

    for _ in range(6):
        document.add_paragraph()
    title = text_paragraph(report.title, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    title.runs[0].bold = True
    for _ in range(4):
        document.add_paragraph()
    for line in report.cover_lines:
        text_paragraph(line, size=14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def add_table(block: Table) -> None:
        text_paragraph(block.title, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False).runs[0].bold = True
        grid = document.add_table(rows=0, cols=len(block.header))
        grid.style = document.styles["Table Grid"]
        grid.alignment = WD_TABLE_ALIGNMENT.CENTER
        for number, row in enumerate((block.header, *block.rows)):
            cells = grid.add_row().cells
            for cell, value in zip(cells, row, strict=True):
                paragraph = cell.paragraphs[0]
                run = paragraph.add_run(printable(value))
                run.font.size = Pt(10)
                run.bold = number == 0
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if block.note:
            text_paragraph(block.note, size=10, indent=False)
        document.add_paragraph()

    def add_chart(block: Chart) -> None:
        text_paragraph(block.title, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False).runs[0].bold = True
        if block.is_empty:
            text_paragraph(NO_DATA, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
            return
        document.add_picture(io.BytesIO(_chart_png(block)), width=Mm(160))
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER

    def add_section(block: Section, level: int) -> None:
        document.add_heading(printable(block.heading), level=level + 1)
        for text in block.paragraphs:
            text_paragraph(text)
        for item in block.charts:
            add_chart(item)
        for item in block.tables:
            add_table(item)
        for sub in block.subsections:
            add_section(sub, level + 1)

    for block in report.sections:
        add_section(block, 0)

    properties = document.core_properties
    moment = report.dated_at.astimezone(UTC).replace(tzinfo=None)
    properties.title, properties.author, properties.last_modified_by = report.title, report.author, report.author
    properties.category, properties.language, properties.comments = "实施情况报告", "zh-CN", ""
    properties.created = properties.modified = moment
    properties.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip_dates(buffer.getvalue(), report.dated_at)


def _fixed_zip_dates(data: bytes, moment: datetime) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=moment.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry.filename))
    return output.getvalue()


FORMATS = {
    "docx": (render_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": (render_pdf, "application/pdf"),
}


def generate(region_code: str, starts_on: str, ends_on: str, fmt: str) -> tuple[Report, bytes, str, str]:
    """Parse the arguments, build and render: (report, file bytes, content type, file name)."""
    if fmt not in FORMATS:
        raise ReportError("format", f"格式“{fmt[:10]}”不支持，只能是 docx 或 pdf")
    region, period = parse_arguments(region_code, starts_on, ends_on)
    report = build_report(region, period)
    render, content_type = FORMATS[fmt]
    filename = f"{region.name}实施情况报告-{period.starts_on:%Y%m%d}-{period.ends_on:%Y%m%d}.{fmt}"
    return report, render(report), content_type, filename


@transaction.atomic
def do_generate_report(*, actor, region_code: str, starts_on: str, ends_on: str, fmt: str,
                       via: str = "page") -> tuple[bytes, str, str]:
    """Generate the report and write its audit row (who, which region and period, format, where from)."""
    report, content, content_type, filename = generate(region_code, starts_on, ends_on, fmt)
    record(actor=actor, action="analytics.generate_implementation_report", object_type="implementation_report",
           object_id=f"{region_code.strip()}:{report.period.starts_on:%Y-%m-%d}~{report.period.ends_on:%Y-%m-%d}",
           data={"format": fmt, "via": via, "bytes": len(content)})
    return content, content_type, filename
