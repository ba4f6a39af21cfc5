"""The special-campaign (专项治理) part of the native API (/api/v1/): mounted in `yidi/api.py`.

- `GET /campaigns` (scope `campaigns:read`): the campaigns the client's service account may see
  (`campaigns.queries.list_campaigns`: those whose lead or member units include the client's unit), paginated
  (`page`, `page_size` ≤ 100), filter `status`;
- `GET /campaigns/{id}`: the definition (period, types, regions, lead and member units), its figures (every number
  with its label, rates by the KPI engine's definitions), the rows per lead unit and per township, the weekly
  trend, and the codes of the campaign's matters the client may see (the others are counted); out of scope → 404
  `not_found`, exactly like one that does not exist.
The name and the description pass through `mask_in_text`, as the alert texts do.
"""

from django.db.models import Count
from django.http import HttpRequest
from ninja import Query, Router

from yidi.accounts.api_auth import client_auth
from yidi.accounts.models import ApiScope, Unit
from yidi.analytics.domain import KpiValue
from yidi.campaigns import queries
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.campaigns.schemas import CampaignListQuery, CampaignOut, CampaignPage
from yidi.cases.schemas import ErrorOut
from yidi.core.api_errors import register_error
from yidi.core.masking import mask_in_text

register_error(queries.CampaignNotFound, 404, "not_found", "专项不存在或无权查看")

router = Router(tags=["风险预警与专项治理"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
COUNT_LABELS = {"volume": "纳入事项", "in_progress": "在办", "concluded": "已出结果", "overdue": "已超期"}


def _code_name(obj) -> dict:
    return {"code": str(obj.code), "name": obj.name}


def _summary(campaign: Campaign, matter_count: int) -> dict:
    return {
        "id": campaign.pk, "name": mask_in_text(campaign.name), "status": campaign.status,
        "status_label": campaign.get_status_display(), "starts_on": campaign.starts_on, "ends_on": campaign.ends_on,
        "scope_region": _code_name(campaign.scope_region), "lead_unit": _code_name(campaign.lead_unit),
        "matter_count": matter_count, "created_at": campaign.created_at, "activated_at": campaign.activated_at,
        "ended_at": campaign.ended_at,
    }


def _matter_counts(campaign_ids: list[int]) -> dict[int, int]:
    return dict(CampaignMatter.objects.filter(campaign_id__in=campaign_ids, removed_at__isnull=True)
                .values("campaign_id").annotate(n=Count("pk")).values_list("campaign_id", "n"))


def _number(value) -> str | None:
    return None if value is None else str(value)


def _kpi(value: KpiValue) -> dict:
    return {"code": value.code, "label": value.kpi.name, "numerator": str(value.numerator),
            "denominator": str(value.denominator), "value": _number(value.value), "unit": value.kpi.measure_unit,
            "reason": value.reason}


def _group_rows(rows, codes: dict[str, str] | None = None) -> list[dict]:
    """Rows per unit (keyed by the unit's code, `codes`) or per township (keyed by the region code)."""
    return [
        {"code": (codes.get(row.key) if codes is not None else row.key) or None, "name": row.name,
         "volume": row.volume, "in_progress": row.in_progress, "concluded": row.concluded, "overdue": row.overdue,
         "resolution": _kpi(row.resolution)}
        for row in rows
    ]


@router.get("/campaigns", response={200: CampaignPage, **ERRORS}, auth=client_auth(ApiScope.CAMPAIGNS_READ),
            url_name="api_campaigns", summary="专项治理列表（分页）")
def list_campaigns(request: HttpRequest, filters: Query[CampaignListQuery]):
    campaigns = queries.list_campaigns(request.auth.user)
    if filters.status:
        campaigns = campaigns.filter(status=filters.status)
    start = (filters.page - 1) * filters.page_size
    page = list(campaigns[start:start + filters.page_size])
    counts = _matter_counts([campaign.pk for campaign in page])
    return {"count": campaigns.count(), "page": filters.page, "page_size": filters.page_size,
            "results": [_summary(campaign, counts.get(campaign.pk, 0)) for campaign in page]}


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS},
            auth=client_auth(ApiScope.CAMPAIGNS_READ), url_name="api_campaign",
            summary="专项治理详情（范围、专项数据、按单位和乡镇、按周趋势、关联事项）")
def get_campaign(request: HttpRequest, campaign_id: int):
    user = request.auth.user
    campaign = queries.get_campaign_for_user(user, campaign_id)
    figures = queries.get_figures(campaign)
    units = queries.per_unit(campaign)
    unit_codes = dict(Unit.objects.filter(pk__in=[row.key for row in units if row.key])
                      .values_list("pk", "code"))
    visible = list(queries.visible_matters(user, campaign).values_list("code", flat=True))
    return {
        **_summary(campaign, figures.volume),
        "description": mask_in_text(campaign.description),
        "dispute_types": [_code_name(t) for t in campaign.dispute_types.order_by("position", "code")],
        "regions": [_code_name(r) for r in campaign.regions.order_by("code")],
        "member_units": [_code_name(u) for u in campaign.member_units.order_by("code")],
        "figures": {
            "period_start_on": figures.period.starts_on, "period_end_on": figures.period.ends_on,
            "period_label": figures.period.label,
            "counts": [{"code": code, "label": label, "value": getattr(figures, code), "unit": "件"}
                       for code, label in COUNT_LABELS.items()],
            "kpis": [_kpi(figures.kpis[code]) for code in queries.FIGURE_KPIS],
        },
        "per_unit": _group_rows(units, {str(pk): code for pk, code in unit_codes.items()}),
        "per_township": _group_rows(queries.per_township(campaign)),
        "weeks": [{"week_on": w.week_on, "registered": w.registered, "concluded": w.concluded}
                  for w in queries.weekly_trend(campaign)],
        "case_codes": visible,
        "hidden_case_count": max(0, figures.volume - len(visible)),
    }
