"""Every write to a campaign. Each `do_*` is one use case in one transaction with its audit row; linking or
unlinking a matter by hand also writes the matter's timeline event.

The automatic link (`on_case_event`, an `EVENT_LISTENERS` entry of `yidi.cases.actions`) runs in the
transaction of the registration or reclassification that triggers it; the back-fill on activation is one
`INSERT … SELECT` statement.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, OuterRef, Value
from django.db.models import IntegerField as IntegerField_
from django.utils import timezone

from yidi.accounts import access
from yidi.accounts.models import Unit
from yidi.audit.actions import record
from yidi.campaigns import queries
from yidi.campaigns.domain import (
    CampaignError,
    CampaignRule,
    CampaignStatus,
    LinkSource,
    can_create,
    check_definition,
    check_reason,
    next_status,
)
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.cases.actions import add_event
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.core.models import TaxonomyLabel
from yidi.core.taxonomies import MEDIATION_TYPE
from yidi.regions.models import Region

# The timeline rows of a hand link and unlink.
LINK_EVENT, UNLINK_EVENT = "link_campaign", "unlink_campaign"
# Timeline actions after which a matter's type, place or date may have changed: the rule is checked again.
RULE_EVENTS = frozenset({"register", "set_labels", "update_facts"})


def _audit(campaign: Campaign, action: str, *, actor, fields=(), reason: str = "", data=None) -> None:
    record(actor=actor, action=f"campaign.{action}", object_type="campaign", object_id=campaign.pk,
           fields=fields, reason=reason, data=data)


# --- definition ---------------------------------------------------------------------------------------------------


def _resolve(*, actor, name: str, starts_on: date | None, ends_on: date | None, type_codes, region_codes,
             lead_unit_code: str, member_unit_codes, scope_code: str):
    types = list(TaxonomyLabel.objects.filter(taxonomy__code=MEDIATION_TYPE.code, code__in=set(type_codes),
                                              is_active=True))
    unknown_types = set(type_codes) - {label.code for label in types}
    if unknown_types:
        raise CampaignError("dispute_types", f"纠纷类型“{sorted(unknown_types)[0][:40]}”不存在")
    region_codes = sorted(set(region_codes))
    name = check_definition(name=name, starts_on=starts_on, ends_on=ends_on, type_count=len(types),
                            region_codes=region_codes, scope_code=scope_code)
    regions = list(Region.objects.filter(code__in=region_codes, is_active=True))
    if len(regions) != len(region_codes):
        missing = sorted(set(region_codes) - {region.code for region in regions})
        raise CampaignError("regions", f"区域“{missing[0][:20]}”不存在")
    lead = Unit.objects.filter(code=lead_unit_code, is_active=True).first()
    if lead is None:
        raise CampaignError("lead_unit", "请选择牵头单位")
    members = list(Unit.objects.filter(code__in=set(member_unit_codes), is_active=True).exclude(pk=lead.pk))
    if len({code for code in member_unit_codes if code != lead.code}) != len(members):
        raise CampaignError("member_units", "成员单位中有不存在或已停用的单位")
    return name, types, regions, lead, members


@transaction.atomic
def do_create_campaign(*, actor, name: str, description: str = "", starts_on: date | None, ends_on: date | None,
                       type_codes, region_codes, lead_unit_code: str, member_unit_codes=()) -> Campaign:
    """A new campaign in draft, owned by the region of the actor's unit (leaders, supervisors, dispatchers)."""
    if not can_create(roles=frozenset(actor.role_codes)) or not actor.unit_id:
        raise access.ActionDenied("只有领导、督查员和指挥调度员可以设立专项")
    scope = actor.unit.region_id
    name, types, regions, lead, members = _resolve(
        actor=actor, name=name, starts_on=starts_on, ends_on=ends_on, type_codes=type_codes,
        region_codes=region_codes, lead_unit_code=lead_unit_code, member_unit_codes=member_unit_codes,
        scope_code=scope)
    campaign = Campaign.objects.create(
        name=name, description=description.strip(), scope_region_id=scope, starts_on=starts_on, ends_on=ends_on,
        lead_unit=lead, created_by=actor, created_at=clock.now(),
    )
    campaign.dispute_types.set(types)
    campaign.regions.set(regions)
    campaign.member_units.set(members)
    _audit(campaign, "create", actor=actor, fields=["name", "dispute_types", "regions", "period", "units"],
           data=_definition_data(campaign))
    return campaign


@transaction.atomic
def do_update_campaign(campaign_id: int, *, actor, name: str, description: str = "", starts_on: date | None,
                       ends_on: date | None, type_codes, region_codes, lead_unit_code: str,
                       member_unit_codes=()) -> Campaign:
    """Change a draft campaign's definition (an active one keeps its rule: end it and set up a new one)."""
    campaign = queries.get_campaign_for_user(actor, campaign_id, manage=True, for_update=True)
    if campaign.status_enum is not CampaignStatus.DRAFT:
        raise CampaignError("status", "只有草稿状态的专项可以修改")
    name, types, regions, lead, members = _resolve(
        actor=actor, name=name, starts_on=starts_on, ends_on=ends_on, type_codes=type_codes,
        region_codes=region_codes, lead_unit_code=lead_unit_code, member_unit_codes=member_unit_codes,
        scope_code=campaign.scope_region_id)
    campaign.name, campaign.description = name, description.strip()
    campaign.starts_on, campaign.ends_on, campaign.lead_unit = starts_on, ends_on, lead
    campaign.save(update_fields=["name", "description", "starts_on", "ends_on", "lead_unit"])
    campaign.dispute_types.set(types)
    campaign.regions.set(regions)
    campaign.member_units.set(members)
    _audit(campaign, "update", actor=actor, fields=["name", "dispute_types", "regions", "period", "units"],
           data=_definition_data(campaign))
    return campaign


def _definition_data(campaign: Campaign) -> dict:
    return {
        "name": campaign.name,
        "types": sorted(campaign.dispute_types.values_list("code", flat=True)),
        "regions": sorted(campaign.regions.values_list("code", flat=True)),
        "period": f"{campaign.starts_on:%Y-%m-%d}~{campaign.ends_on:%Y-%m-%d}",
        "lead_unit": campaign.lead_unit.code,
        "member_units": sorted(campaign.member_units.values_list("code", flat=True)),
    }


# --- lifecycle ----------------------------------------------------------------------------------------------------


@transaction.atomic
def do_activate_campaign(campaign_id: int, *, actor) -> tuple[Campaign, int]:
    """Start the campaign and link, in one statement, every matter its rule takes (the back-fill).

    Returns the campaign and how many matters the back-fill linked.
    """
    campaign = queries.get_campaign_for_user(actor, campaign_id, manage=True, for_update=True)
    campaign.status = next_status(campaign.status_enum, "activate")
    campaign.activated_at = clock.now()
    campaign.save(update_fields=["status", "activated_at"])
    linked = backfill(campaign, now=campaign.activated_at)
    _audit(campaign, "activate", actor=actor, fields=["status"], data={"linked_by_rule": linked})
    return campaign, linked


@transaction.atomic
def do_end_campaign(campaign_id: int, *, actor, note: str = "") -> Campaign:
    """End the campaign: no more automatic links; its matters and figures stay."""
    campaign = queries.get_campaign_for_user(actor, campaign_id, manage=True, for_update=True)
    campaign.status = next_status(campaign.status_enum, "end")
    campaign.ended_at = clock.now()
    campaign.save(update_fields=["status", "ended_at"])
    _audit(campaign, "end", actor=actor, fields=["status"], reason=note.strip())
    return campaign


# --- the rule -----------------------------------------------------------------------------------------------------


def _period_bounds(campaign: Campaign) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(campaign.starts_on, time.min))
    end = timezone.make_aware(datetime.combine(campaign.ends_on + timedelta(days=1), time.min))
    return start, end


def rule_matters(campaign: Campaign):
    """The matters the campaign's rule takes: its types, within its regions, registered within its period."""
    start, end = _period_bounds(campaign)
    return Case.objects.filter(
        campaign.region_filter(),
        primary_type_id__in=campaign.dispute_types.values("pk"),
        registered_at__gte=start, registered_at__lt=end,
    )


def backfill(campaign: Campaign, *, now: datetime) -> int:
    """Link every matter the rule takes that has no row for this campaign yet (a removed row stays removed):
    one `INSERT … SELECT` on both databases, whatever the number of matters."""
    existing = CampaignMatter.objects.filter(campaign_id=campaign.pk, case_id=OuterRef("pk"))
    select = (
        rule_matters(campaign).filter(~Exists(existing)).order_by()
        .annotate(_campaign=Value(campaign.pk, output_field=IntegerField_()),
                  _source=Value(LinkSource.RULE.value),
                  _linked_at=Value(now, output_field=DateTimeField()))
        .values_list("_campaign", "pk", "_source", "_linked_at")
    )
    sql, params = select.query.sql_with_params()
    table = connection.ops.quote_name(CampaignMatter._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in ("campaign_id", "case_id", "source", "linked_at"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)
        return cursor.rowcount


def _active_rules() -> list[tuple[int, CampaignRule]]:
    """The rule of each active campaign: one query when there is none, three otherwise."""
    active = Campaign.objects.filter(status=CampaignStatus.ACTIVE).prefetch_related("dispute_types", "regions")
    return [(campaign.pk, _rule_of(campaign)) for campaign in active]


def _rule_of(campaign: Campaign) -> CampaignRule:
    return CampaignRule(
        type_ids=frozenset(label.pk for label in campaign.dispute_types.all()),
        region_codes=tuple(sorted(region.code for region in campaign.regions.all())),
        starts_on=campaign.starts_on, ends_on=campaign.ends_on,
    )


def _matching(case: Case, rules: list[tuple[int, CampaignRule]]) -> list[int]:
    registered_on = timezone.localdate(case.registered_at)
    return [pk for pk, rule in rules
            if rule.matches(type_id=case.primary_type_id, region_code=case.region_id, registered_on=registered_on)]


def _rule_links(case: Case, rules: list[tuple[int, CampaignRule]], *, now: datetime) -> list[CampaignMatter]:
    return [CampaignMatter(campaign_id=pk, case_id=case.pk, source=LinkSource.RULE, linked_at=now)
            for pk in _matching(case, rules)]


def link_by_rule(case: Case, *, now: datetime, rules: list[tuple[int, CampaignRule]] | None = None,
                 is_new: bool = False) -> None:
    """Bring the matter's rule links up to date after it was registered or reclassified.

    - each active campaign whose rule takes the matter gets a rule link, unless the matter already has a row
      there (linked by hand, linked before, or removed by a person: a removal is never undone by the rule);
    - a rule link of an active campaign whose rule no longer takes the matter (its type or place changed) is
      dropped; links made by hand stay. A matter being registered (`is_new`) has no links, so none is dropped;
    - `rules`: the active campaigns' rules when already read (`_active_rules`).
    """
    rules = _active_rules() if rules is None else rules
    if not rules:
        return
    links = _rule_links(case, rules, now=now)
    if not is_new:
        CampaignMatter.objects.filter(case_id=case.pk, source=LinkSource.RULE, removed_at__isnull=True,
                                      campaign_id__in=[pk for pk, _rule in rules]).exclude(
            campaign_id__in=[link.campaign_id for link in links]).delete()
    if links:
        CampaignMatter.objects.bulk_create(links, ignore_conflicts=True)  # a row that exists is kept as it is


def on_case_event(case: Case, event: CaseEvent) -> None:
    """`EVENT_LISTENERS` entry: re-check the rules after a registration or a reclassification (one query when no
    campaign is active)."""
    if event.action in RULE_EVENTS:
        link_by_rule(case, now=event.at, is_new=event.action == "register")


def _link_batch(pairs) -> None:
    """The batch form (`yidi.cases.bulk`): the same rows as `on_case_event` on each (case, event) in order. The
    campaigns are read once; the links of registrations (nothing to drop) go in with one insert, other events
    are checked one by one with the rules already read."""
    relevant = [(case, event) for case, event in pairs if event.action in RULE_EVENTS]
    if not relevant:
        return
    rules = _active_rules()
    if not rules:
        return
    pending: list[CampaignMatter] = []
    for case, event in relevant:
        if event.action == "register":
            pending += _rule_links(case, rules, now=event.at)
            continue
        CampaignMatter.objects.bulk_create(pending, ignore_conflicts=True, batch_size=2000)
        pending = []
        link_by_rule(case, now=event.at, rules=rules)
    CampaignMatter.objects.bulk_create(pending, ignore_conflicts=True, batch_size=2000)


on_case_event.for_batch = _link_batch  # type: ignore[attr-defined]


# --- links by hand ------------------------------------------------------------------------------------------------


def _timeline(case: Case, action: str, *, actor, reason: str, data: dict) -> None:
    """One timeline row on the matter (its version moves once, like any other step on it)."""
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    add_event(case, action, actor=actor, from_status=case.status, reason=reason, data=data)


@transaction.atomic
def do_link_matter(campaign_id: int, case_code: str, *, actor, reason: str = "") -> CampaignMatter:
    """Link a matter the actor may see to an active campaign by hand (also one a person removed before)."""
    campaign = queries.get_campaign_for_user(actor, campaign_id, manage=True, for_update=True)
    if campaign.status_enum is not CampaignStatus.ACTIVE:
        raise CampaignError("status", "只有进行中的专项可以纳入事项")
    reason = reason.strip()[:300]
    case = access.get_case_for_user(actor, case_code.strip(), for_update=True)
    now = clock.now()
    link = CampaignMatter.objects.select_for_update().filter(campaign=campaign, case=case).first()
    if link is not None and not link.is_removed:
        raise CampaignError("case_code", f"事项 {case.code} 已在本专项中")
    if link is None:
        link = CampaignMatter(campaign=campaign, case=case)
    link.source, link.linked_at, link.linked_by, link.link_reason = LinkSource.MANUAL, now, actor, reason
    link.removed_at, link.removed_by, link.removal_reason = None, None, ""
    link.save()
    _timeline(case, LINK_EVENT, actor=actor, reason=f"纳入专项治理“{campaign.name}”" + (f"：{reason}" if reason else ""),
              data={"campaign_id": campaign.pk, "campaign": campaign.name, "linked": True})
    _audit(campaign, "link_matter", actor=actor, fields=["links"], reason=reason,
           data={"case": case.code, "source": LinkSource.MANUAL.value})
    return link


@transaction.atomic
def do_unlink_matter(campaign_id: int, case_code: str, *, actor, reason: str) -> CampaignMatter:
    """Take a matter out of the campaign by hand, with a reason; the rule will not add it again."""
    campaign = queries.get_campaign_for_user(actor, campaign_id, manage=True, for_update=True)
    if campaign.status_enum is CampaignStatus.ENDED:
        raise CampaignError("status", "已结束的专项不能移出事项")
    reason = check_reason(reason)
    case = access.get_case_for_user(actor, case_code.strip(), for_update=True)
    link = CampaignMatter.objects.select_for_update().filter(campaign=campaign, case=case,
                                                              removed_at__isnull=True).first()
    if link is None:
        raise CampaignError("case_code", f"事项 {case.code} 不在本专项中")
    link.removed_at, link.removed_by, link.removal_reason = clock.now(), actor, reason
    link.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    _timeline(case, UNLINK_EVENT, actor=actor, reason=f"移出专项治理“{campaign.name}”：{reason}",
              data={"campaign_id": campaign.pk, "campaign": campaign.name, "linked": False})
    _audit(campaign, "unlink_matter", actor=actor, fields=["links"], reason=reason,
           data={"case": case.code, "source": link.source})
    return link


@transaction.atomic
def do_export_matters(campaign: Campaign, *, actor, fmt: str, rows: int) -> None:
    """Audit an export of the campaign's matter list (the caller builds the file from `queries`)."""
    _audit(campaign, "export_matters", actor=actor, data={"format": fmt, "rows": rows})
