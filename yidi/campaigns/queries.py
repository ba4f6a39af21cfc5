"""Reading campaigns: who sees which (the chokepoint for this app), their matters and their figures.

Figures use the KPI engine's own definitions (`yidi.analytics.engine.parts`) applied to the campaign's matters,
so a campaign's 化解率 or 满意率 is computed exactly as everywhere else; only the set of matters differs.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Substr, TruncWeek
from django.http import Http404
from django.utils import timezone

from yidi.accounts.models import Unit
from yidi.analytics.domain import KPI_BY_CODE, KpiValue, Period, kpi_value
from yidi.analytics.engine import Slice, parts
from yidi.campaigns.domain import MANAGER_ROLES, can_manage
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.cases.domain import OPEN_STATUSES
from yidi.cases.models import Case
from yidi.core import clock
from yidi.regions.models import Region

FIGURE_KPIS = ("resolution", "handle_on_time", "satisfaction")
_OPEN = sorted(status.value for status in OPEN_STATUSES)


class CampaignNotFound(Http404):
    pass


def _user_region(user) -> str:
    return user.unit.region_id if getattr(user, "unit_id", None) else ""


def campaign_scope(user) -> Q:
    """The campaigns `user` may see:

    - leaders, supervisors and dispatchers: those owned by a region containing or contained in their unit's
      region (a county's campaigns are seen by the township's oversight staff, read-only);
    - anyone in a campaign's lead unit or member units.
    """
    if user is None or not user.is_authenticated or not user.is_active or not user.unit_id:
        return Q(pk__in=[])
    roles = frozenset(user.role_codes)
    if not roles - {"citizen", "auditor", "security_admin", "system_admin"}:
        return Q(pk__in=[])
    scope = Q(lead_unit_id=user.unit_id) | Q(member_units=user.unit_id)
    if roles & MANAGER_ROLES:
        region = _user_region(user)
        ancestors = [region[:length] for length in (2, 4, 6, 9, 12) if length <= len(region)]
        scope |= Q(scope_region__code__startswith=region) | Q(scope_region_id__in=ancestors)
    return scope


def may_manage(user, campaign: Campaign) -> bool:
    return can_manage(roles=frozenset(user.role_codes), user_region=_user_region(user), user_unit_id=user.unit_id,
                      campaign_region=campaign.scope_region_id, lead_unit_id=campaign.lead_unit_id)


def may_create(user) -> bool:
    return bool(user.is_authenticated and user.unit_id and frozenset(user.role_codes) & MANAGER_ROLES)


def list_campaigns(user) -> QuerySet:
    return (Campaign.objects.filter(campaign_scope(user)).distinct()
            .select_related("lead_unit", "scope_region").order_by("-starts_on", "-id"))


def get_campaign_for_user(user, campaign_id: int, *, manage: bool = False, for_update: bool = False) -> Campaign:
    """The campaign if `user` may see it (and manage it, with `manage`); else `CampaignNotFound` (404) when it is
    not visible, `access.ActionDenied` when it is visible but not manageable."""
    from yidi.accounts.access import ActionDenied

    visible = Campaign.objects.filter(campaign_scope(user)).filter(pk=campaign_id).values("pk")
    queryset = Campaign.objects.filter(pk__in=visible).select_related("lead_unit", "scope_region", "created_by")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    campaign = queryset.first()
    if campaign is None:
        raise CampaignNotFound("专项不存在或无权查看")
    if manage and not may_manage(user, campaign):
        raise ActionDenied("只有本辖区的领导、督查员、指挥调度员或牵头单位可以管理该专项")
    return campaign


def current_links(campaign: Campaign) -> QuerySet:
    return CampaignMatter.objects.filter(campaign=campaign, removed_at__isnull=True)


def campaign_matters(campaign: Campaign) -> QuerySet:
    """Every matter currently in the campaign (for figures: counts, no personal data)."""
    return Case.objects.filter(pk__in=current_links(campaign).values("case_id"))


def visible_matters(user, campaign: Campaign) -> QuerySet:
    """The campaign's matters that `user` may read (`accounts.access`), newest first, ready for the case table."""
    from yidi.accounts.access import visible_cases

    return (visible_cases(user).filter(pk__in=current_links(campaign).values("case_id"))
            .select_related("region", "region__parent", "primary_type", "lead_unit", "channel")
            .order_by("-registered_at", "-id"))


def removed_links(campaign: Campaign) -> QuerySet:
    return (CampaignMatter.objects.filter(campaign=campaign, removed_at__isnull=False)
            .select_related("case", "removed_by").order_by("-removed_at", "-id"))


# --- figures ------------------------------------------------------------------------------------------------------


def figure_period(campaign: Campaign, *, today: date) -> Period:
    """The period the campaign's rates count over: from its start to its end or today, whichever is later
    (matters registered in the campaign keep producing results after it ends)."""
    return Period(campaign.starts_on, max(campaign.ends_on, today))


@dataclass(frozen=True)
class GroupRow:
    key: str
    name: str
    volume: int
    in_progress: int
    concluded: int
    overdue: int
    resolution: KpiValue


@dataclass(frozen=True)
class Figures:
    period: Period
    volume: int
    in_progress: int
    concluded: int
    overdue: int
    kpis: dict[str, KpiValue]

    @property
    def is_empty(self) -> bool:
        return self.volume == 0


def _counts(s: Slice, now: datetime, kpi_codes=FIGURE_KPIS) -> dict:
    aggregates = {
        "volume": Count("pk"),
        "in_progress": Count("pk", filter=Q(status__in=_OPEN, concluded_at__isnull=True)),
        "concluded": Count("pk", filter=Q(concluded_at__isnull=False)),
        "overdue": Count("pk", filter=Q(status__in=_OPEN, deadline_state="overdue")),
    }
    for code in kpi_codes:
        denominator, numerator = parts(code, s, now=now)
        aggregates[f"{code}__n"] = Count("pk", filter=numerator)
        aggregates[f"{code}__d"] = Count("pk", filter=denominator)
    return aggregates


def _slice(campaign: Campaign, now: datetime) -> Slice:
    return Slice(region_code=campaign.scope_region_id, period=figure_period(campaign, today=timezone.localdate(now)))


def get_figures(campaign: Campaign, *, now: datetime | None = None) -> Figures:
    now = now or clock.now()
    s = _slice(campaign, now)
    totals = campaign_matters(campaign).aggregate(**_counts(s, now))
    kpis = {code: kpi_value(KPI_BY_CODE[code], totals[f"{code}__n"], totals[f"{code}__d"]) for code in FIGURE_KPIS}
    return Figures(s.period, totals["volume"], totals["in_progress"], totals["concluded"], totals["overdue"], kpis)


def _group(campaign: Campaign, key, *, now: datetime) -> list[GroupRow]:
    s = _slice(campaign, now)
    rows = (campaign_matters(campaign).order_by().annotate(group=key).values("group")
            .annotate(**_counts(s, now, ("resolution",))))
    return [
        GroupRow(key=row["group"], name="", volume=row["volume"], in_progress=row["in_progress"],
                 concluded=row["concluded"], overdue=row["overdue"],
                 resolution=kpi_value(KPI_BY_CODE["resolution"], row["resolution__n"], row["resolution__d"]))
        for row in rows
    ]


def _named(rows: list[GroupRow], names: dict, missing: str) -> list[GroupRow]:
    named = [replace(row, key=str(row.key or ""), name=names.get(row.key, missing)) for row in rows]
    return sorted(named, key=lambda row: (-row.volume, row.key))


def per_unit(campaign: Campaign, *, now: datetime | None = None) -> list[GroupRow]:
    """By the matter's current lead unit (主办单位); matters not yet assigned form one row."""
    rows = _group(campaign, F("lead_unit_id"), now=now or clock.now())
    names = dict(Unit.objects.filter(pk__in=[row.key for row in rows if row.key]).values_list("pk", "name"))
    return _named(rows, names, "尚未交办")


def per_township(campaign: Campaign, *, now: datetime | None = None) -> list[GroupRow]:
    """By the township (乡镇/街道) where the matter is located; a matter placed at county level forms its own row."""
    rows = _group(campaign, Substr("region_id", 1, 9), now=now or clock.now())
    names = dict(Region.objects.filter(code__in=[row.key for row in rows]).values_list("code", "name"))
    return _named(rows, names, "县级（未到乡镇）")


@dataclass(frozen=True)
class WeekRow:
    week_on: date
    registered: int
    concluded: int


def weekly_trend(campaign: Campaign) -> list[WeekRow]:
    """Matters registered and concluded per week (Monday, Asia/Shanghai), every week of the span, gaps as 0."""
    zone = timezone.get_current_timezone()
    matters = campaign_matters(campaign).order_by()
    registered = dict(matters.annotate(week=TruncWeek("registered_at", tzinfo=zone)).values("week")
                      .annotate(n=Count("pk")).values_list("week", "n"))
    concluded = dict(matters.filter(concluded_at__isnull=False)
                     .annotate(week=TruncWeek("concluded_at", tzinfo=zone)).values("week")
                     .annotate(n=Count("pk")).values_list("week", "n"))
    by_day: dict[date, list[int]] = {}
    for source, index in ((registered, 0), (concluded, 1)):
        for week, n in source.items():
            day = timezone.localtime(week, zone).date() if isinstance(week, datetime) else week
            by_day.setdefault(day, [0, 0])[index] += n
    if not by_day:
        return []
    first, last = min(by_day), max(by_day)
    weeks = []
    day = first
    while day <= last:
        registered_n, concluded_n = by_day.get(day, [0, 0])
        weeks.append(WeekRow(day, registered_n, concluded_n))
        day += timedelta(days=7)
    return weeks

