"""Reads for the analytics pages and API: who may see which slice, rankings and the assessment score.

Scoping rules (all access goes through `yidi.accounts.access`):
- pages: leaders, supervisors and dispatchers (the roles that oversee a region) of an active unit see the figures
  of their unit's region and of any region, unit, type or channel inside it; a region outside it is "not found";
- API clients (`analytics:read`): a region-wide unit's client sees its region; any other unit's client sees only
  its own unit's figures (the unit filter is forced to its unit) within its region;
- the drill-down lists hold only matters the user may read (`access.visible_cases`), which for these roles is a
  superset of the region's matters, so a drill-down holds exactly the matters counted.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from yidi.accounts import access
from yidi.accounts.domain import REGION_OVERSIGHT_ROLES, REGION_WIDE_KINDS, UnitKind
from yidi.accounts.models import Unit
from yidi.analytics import engine
from yidi.analytics.domain import (
    KPI_BY_CODE,
    DeductionItem,
    InvalidSlice,
    KpiValue,
    RankingRow,
    Score,
    WeightItem,
    assessment_score,
    parse_period,
    rank,
)
from yidi.analytics.engine import Slice
from yidi.analytics.models import AssessmentScheme, DeductionKind
from yidi.cases.models import Channel, Urging
from yidi.core.models import TaxonomyLabel
from yidi.core.taxonomies import MEDIATION_TYPE
from yidi.evaluation.models import Evaluation
from yidi.regions.domain import code_range, is_within
from yidi.regions.models import Region

DEPARTMENT_KINDS = (UnitKind.DEPARTMENT, UnitKind.PETITION_BUREAU)
SCORE = "score"


class OutOfScope(access.CaseNotFound):
    """A region or unit outside what the user may see: reported as not found."""


def can_view_analytics(user) -> bool:
    return access.can_read_cases(user) and bool(user.role_set & REGION_OVERSIGHT_ROLES)


@dataclass(frozen=True)
class SliceRequest:
    """The raw filter values of a page or API request (strings, as typed)."""

    region: str = ""
    unit: str = ""
    dispute_type: str = ""
    channel: str = ""
    period: str = ""
    starts_on: str = ""
    ends_on: str = ""


def _slice(request: SliceRequest, *, scope_region: str, forced_unit: Unit | None, today: date) -> Slice:
    period = parse_period(request.period, starts_on=request.starts_on, ends_on=request.ends_on, today=today)
    region_code = request.region.strip() or scope_region
    if not region_code.isdigit() or len(region_code) not in (6, 9, 12):
        raise InvalidSlice("region", f"区划代码“{region_code[:15]}”不正确，应为6、9或12位数字")
    if not is_within(region_code, scope_region):
        raise OutOfScope("该区划不在您的查看范围内")
    if not Region.objects.filter(code=region_code).exists():
        raise InvalidSlice("region", f"没有区划“{region_code}”")
    unit_id = forced_unit.pk if forced_unit is not None else None
    if request.unit.strip():
        unit = Unit.objects.filter(code=request.unit.strip()).first()
        if unit is None:
            raise InvalidSlice("unit", f"没有单位“{request.unit.strip()[:60]}”")
        if forced_unit is not None and unit.pk != forced_unit.pk:
            raise OutOfScope("该单位不在您的查看范围内")
        unit_id = unit.pk
    if request.dispute_type.strip() and not TaxonomyLabel.objects.filter(code=request.dispute_type.strip()).exists():
        raise InvalidSlice("type", f"没有纠纷类型“{request.dispute_type.strip()[:40]}”")
    if request.channel.strip() and not Channel.objects.filter(code=request.channel.strip()).exists():
        raise InvalidSlice("channel", f"没有来源渠道“{request.channel.strip()[:40]}”")
    return Slice(region_code, period, unit_id, request.dispute_type.strip(), request.channel.strip())


def slice_for_user(user, request: SliceRequest, *, today: date) -> Slice:
    """The slice a page user asked for, within their region; `OutOfScope` (404) or `InvalidSlice` (400)."""
    if not can_view_analytics(user):
        raise OutOfScope("页面不存在")
    return _slice(request, scope_region=user.unit.region_id, forced_unit=None, today=today)


def slice_for_client(client, request: SliceRequest, *, today: date) -> Slice:
    unit = client.unit
    forced = None if UnitKind(unit.kind) in REGION_WIDE_KINDS else unit
    return _slice(request, scope_region=unit.region_id, forced_unit=forced, today=today)


def list_matters(user, kpi_code: str, part: str, s: Slice):
    """The drill-down: the matters behind one part of one KPI, only those the user may read."""
    return engine.matters(kpi_code, part, s).filter(access.case_scope(user)).select_related(
        "region", "region__parent", "primary_type", "lead_unit", "channel")


# --- filter choices -------------------------------------------------------------------------------------------------


def region_choices(scope_region: str) -> list[tuple[str, str]]:
    """The scope region and the regions one and two levels below it (county → townships → villages)."""
    low, high = code_range(scope_region)
    regions = Region.objects.filter(code__gte=low, code__lt=high, level__in=["county", "township", "village"])
    regions = regions.filter(Q(code=scope_region) | Q(parent_id=scope_region) | Q(parent__parent_id=scope_region))
    return [(r.code, ("　" * ((len(r.code) - len(scope_region)) // 3)) + r.name)
            for r in regions.order_by("code").only("code", "name")]


def unit_choices(scope_region: str) -> list[tuple[str, str]]:
    low, high = code_range(scope_region[:6])
    return list(Unit.objects.filter(region_id__gte=low, region_id__lt=high, is_active=True)
                .order_by("kind", "code").values_list("code", "name"))


def type_choices() -> list[tuple[str, str]]:
    return list(TaxonomyLabel.objects.filter(taxonomy__code=MEDIATION_TYPE.code, is_active=True)
                .order_by("position").values_list("code", "name"))


def channel_choices() -> list[tuple[str, str]]:
    return list(Channel.objects.filter(is_active=True).order_by("position").values_list("code", "name"))


# --- assessment score and rankings --------------------------------------------------------------------------------


def active_scheme() -> AssessmentScheme | None:
    return AssessmentScheme.objects.filter(is_active=True).prefetch_related("weights", "deductions").order_by(
        "code").first()


def _deduction_counts(s: Slice, values: dict[str, KpiValue]) -> dict[str, int]:
    def missed(code: str) -> int:
        value = values[code]
        return int(value.denominator - value.numerator)

    cases = engine.base_cases(s).values("pk")
    verified = Evaluation.objects.filter(
        case_id__in=cases, result="dissatisfied", review_state__in=["auto_reopened", "reopened"],
        recorded_at__gte=s.start_at, recorded_at__lt=s.end_at)
    urgings = Urging.objects.filter(case_id__in=cases, level="red", issued_at__gte=s.start_at, issued_at__lt=s.end_at)
    if s.unit_id is not None:
        verified = verified.filter(unit_id=s.unit_id)
        urgings = urgings.filter(unit_id=s.unit_id)
    return {
        DeductionKind.OVERDUE_MATTER: missed("handle_on_time"),
        DeductionKind.LATE_SIGN: missed("sign_timely"),
        DeductionKind.REPEAT_CONTACT: int(values["repeat_contact"].numerator),
        DeductionKind.VERIFIED_COMPLAINT: verified.values("case_id").distinct().count(),
        DeductionKind.RED_URGING: urgings.count(),
    }


SCORE_KPIS = ("handle_on_time", "sign_timely", "repeat_contact", "resolution")


def score(scheme: AssessmentScheme, s: Slice) -> tuple[Score, int]:
    """The assessment score of the slice (a unit or region, one period) and its volume (matters concluded)."""
    weights = [WeightItem(w.kpi_code, w.points) for w in scheme.weights.all()]
    codes = list(dict.fromkeys([w.kpi_code for w in weights] + list(SCORE_KPIS)))
    values = {value.code: value for value in engine.compute(codes, s)}
    deductions = [DeductionItem(d.kind, d.get_kind_display(), d.points_per_item, d.cap)
                  for d in scheme.deductions.all()]
    result = assessment_score(weights, values, deductions, _deduction_counts(s, values))
    return result, int(values["resolution"].denominator)


@dataclass(frozen=True)
class Ranking:
    group: str  # "township" or "department"
    by: str  # a KPI code or "score"
    title: str
    higher_is_better: bool
    minimum_volume: int
    rows: list[RankingRow]
    measure_unit: str


def _members(group: str, s: Slice) -> list[tuple[str, str, Slice]]:
    if group == "township":
        regions = Region.objects.filter(parent_id=s.region_code).order_by("code")
        return [(r.code, r.name, s.with_region(r.code).with_unit(None)) for r in regions]
    low, high = code_range(s.region_code[:6])
    units = Unit.objects.filter(kind__in=DEPARTMENT_KINDS, region_id__gte=low, region_id__lt=high,
                                is_active=True).order_by("code")
    return [(u.code, u.name, s.with_unit(u.pk)) for u in units]


def ranking(s: Slice, *, group: str, by: str, minimum_volume: int | None = None) -> Ranking:
    """Townships (the slice region's children) or departments ranked by a KPI or the assessment score, with the
    change against the previous period of the same kind."""
    if group not in ("township", "department"):
        raise InvalidSlice("group", "排名对象只能是 township（乡镇街道）或 department（部门）")
    scheme = active_scheme() if by == SCORE else None
    if by == SCORE and scheme is None:
        raise InvalidSlice("by", "没有启用的考核办法，请系统管理员在后台设置")
    if by != SCORE and by not in KPI_BY_CODE:
        raise InvalidSlice("by", f"没有指标“{by[:40]}”")
    if minimum_volume is None:
        minimum_volume = scheme.minimum_volume if scheme else (active_scheme() or AssessmentScheme()).minimum_volume
    previous_period = s.period.previous()
    rows = []
    for key, name, member in _members(group, s):
        if by == SCORE:
            current, volume = score(scheme, member)
            before, _volume = score(scheme, member.with_period(previous_period))
            rows.append(RankingRow(key, name, current.total, volume, before.total, detail=current.lines))
        else:
            value = engine.compute([by], member)[0]
            before = engine.compute([by], member.with_period(previous_period))[0]
            volume = int(value.denominator) if value.kpi.measure != "per_10k" else int(value.numerator)
            rows.append(RankingRow(key, name, value.value, volume, before.value,
                                   excluded_reason=value.reason if value.value is None else ""))
    if by == SCORE:
        title, higher, unit = f"{scheme.name}得分", True, "分"
    else:
        kpi = KPI_BY_CODE[by]
        title, higher, unit = kpi.name, kpi.higher_is_better, kpi.measure_unit
    return Ranking(group, by, title, higher, minimum_volume, rank(rows, higher_is_better=higher,
                                                                  minimum_volume=minimum_volume), unit)


def change_text(change: Decimal | None) -> str:
    if change is None:
        return "—"
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "持平"


