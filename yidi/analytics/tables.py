"""The rows of every analytics table, shared by the pages and their CSV/Excel exports (same figures)."""

from urllib.parse import urlencode

from yidi.accounts.models import Unit
from yidi.analytics.domain import KpiValue, PeriodKind
from yidi.analytics.engine import Slice
from yidi.analytics.queries import Ranking, change_text
from yidi.core.masking import mask_in_text


def slice_params(s: Slice) -> dict[str, str]:
    """The slice as query parameters (region, unit, type, channel, period or from/to)."""
    params = {"region": s.region_code}
    if s.unit_id is not None:
        params["unit"] = Unit.objects.filter(pk=s.unit_id).values_list("code", flat=True).first() or ""
    if s.dispute_type_code:
        params["type"] = s.dispute_type_code
    if s.channel_code:
        params["channel"] = s.channel_code
    if s.period.kind == PeriodKind.CUSTOM:
        params["from"], params["to"] = s.period.starts_on.isoformat(), s.period.ends_on.isoformat()
    else:
        params["period"] = s.period.token
    return params


def slice_query(s: Slice, **extra) -> str:
    return urlencode({**slice_params(s), **extra})


def _number(value) -> str:
    return f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)


KPI_HEADER = ["指标", "分子", "分母", "值", "单位", "说明", "分子口径", "分母口径", "时间口径", "依据"]


def kpi_rows(values: list[KpiValue]) -> list[list]:
    rows: list[list] = [KPI_HEADER]
    for v in values:
        kpi = v.kpi
        rows.append([kpi.name, _number(v.numerator), _number(v.denominator), v.display, kpi.measure_unit, v.reason,
                     kpi.numerator, kpi.denominator, kpi.time_basis, kpi.source])
    return rows


MATTER_HEADER = ["事项编码", "标题", "发生地", "纠纷类型", "来源渠道", "状态", "主办单位", "登记时间"]


def matter_rows(cases) -> list[list]:
    from django.utils import timezone

    rows: list[list] = [MATTER_HEADER]
    for case in cases:
        rows.append([case.code, mask_in_text(case.title), case.region.name,
                     case.primary_type.name if case.primary_type_id else "待分类", case.channel.name,
                     case.get_status_display(), case.lead_unit.name if case.lead_unit_id else "",
                     timezone.localtime(case.registered_at).strftime("%Y-%m-%d %H:%M")])
    return rows


def ranking_rows(ranking: Ranking) -> list[list]:
    rows: list[list] = [["名次", "名称", f"{ranking.title}（{ranking.measure_unit}）", "样本量（件）", "上期",
                         "较上期", "说明"]]
    for row in ranking.rows:
        rows.append([row.rank if row.rank is not None else "", row.name,
                     "—" if row.value is None else _number(row.value), row.volume,
                     "—" if row.previous is None else _number(row.previous), change_text(row.change),
                     row.excluded_reason or "；".join(f"{line.label} {line.points}" for line in row.detail)])
    return rows
