"""Campaign actions: definition, permissions (a denial changes nothing), links by hand with timeline and audit,
and the campaign's figures on hand-built data."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from yidi.accounts.access import ActionDenied
from yidi.audit.models import AuditEvent
from yidi.campaigns import actions, queries
from yidi.campaigns.domain import CampaignError, CampaignStatus, LinkSource
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.campaigns.tests.support import FENGQIAO, FENGYUAN, make_campaign
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, Outcome
from yidi.cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db
IN_PERIOD = "2026-01-10 09:00:00+08:00"


def _state():
    return (list(Campaign.objects.values_list("pk", "status", "name")),
            list(CampaignMatter.objects.values_list("case_id", "source", "removed_at")),
            AuditEvent.objects.count(), CaseEvent.objects.count())


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_supervisor_creates_a_draft_campaign_of_their_region_with_one_audit_row(supervisor):
    campaign = make_campaign(supervisor)

    assert (campaign.status, campaign.scope_region_id, campaign.lead_unit.code) == ("draft", "330681", "hrss")
    assert list(campaign.dispute_types.values_list("code", flat=True)) == ["labour"]
    assert list(campaign.regions.values_list("code", flat=True)) == [FENGQIAO]
    assert list(campaign.member_units.values_list("code", flat=True)) == ["fq-platform"]
    audit = AuditEvent.objects.get(action="campaign.create")
    assert audit.data == {"name": "欠薪专项治理", "types": ["labour"], "regions": [FENGQIAO],
                          "period": "2026-01-01~2026-02-28", "lead_unit": "hrss", "member_units": ["fq-platform"]}


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"type_codes": ["no_such_type"]}, "dispute_types", "纠纷类型“no_such_type”不存在"),
    ({"region_codes": ["330682"]}, "regions", "区域 330682 不在本单位辖区内"),
    ({"lead_unit_code": "nobody"}, "lead_unit", "请选择牵头单位"),
    ({"ends_on": date(2025, 1, 1)}, "ends_on", "结束日期不能早于开始日期"),
])
def test_an_invalid_definition_is_refused_and_nothing_is_saved(supervisor, overrides, field, message):
    before = _state()
    with pytest.raises(CampaignError) as raised:
        make_campaign(supervisor, **overrides)
    assert (raised.value.field, str(raised.value)) == (field, message)
    assert _state() == before


def test_a_handler_may_not_create_a_campaign(handler):
    with pytest.raises(ActionDenied, match="只有领导、督查员和指挥调度员可以设立专项"):
        make_campaign(handler)
    assert Campaign.objects.count() == 0


@time_machine.travel(IN_PERIOD, tick=False)
def test_someone_outside_the_region_and_the_lead_unit_may_not_activate_and_nothing_changes(
        supervisor, registrar, handler, outsider):
    campaign = make_campaign(supervisor)
    make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
    before = _state()

    with pytest.raises(ActionDenied):  # a member unit (fq-platform) sees it but does not manage it
        actions.do_activate_campaign(campaign.pk, actor=handler)
    with pytest.raises(queries.CampaignNotFound):  # another township's handler does not even see it
        actions.do_activate_campaign(campaign.pk, actor=outsider)

    assert _state() == before


@time_machine.travel(IN_PERIOD, tick=False)
def test_the_lead_unit_may_activate_its_campaign(supervisor, labour_handler):
    campaign = make_campaign(supervisor)

    campaign, linked = actions.do_activate_campaign(campaign.pk, actor=labour_handler)

    assert (campaign.status, linked) == (CampaignStatus.ACTIVE, 0)


@time_machine.travel(IN_PERIOD, tick=False)
def test_linking_by_hand_writes_one_timeline_row_and_one_audit_row(supervisor, registrar):
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    case = make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)
    events, audits = CaseEvent.objects.filter(case=case).count(), AuditEvent.objects.count()

    link = actions.do_link_matter(campaign.pk, case.code, actor=supervisor, reason="涉及拖欠工资")

    assert (link.source, link.linked_by, link.link_reason) == (LinkSource.MANUAL, supervisor, "涉及拖欠工资")
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert CaseEvent.objects.filter(case=case).count() == events + 1
    assert (event.action, event.reason) == ("link_campaign", "纳入专项治理“欠薪专项治理”：涉及拖欠工资")
    assert event.data == {"campaign_id": campaign.pk, "campaign": "欠薪专项治理", "linked": True}
    assert AuditEvent.objects.count() == audits + 1
    audit = AuditEvent.objects.order_by("-id").first()
    assert (audit.action, audit.data) == ("campaign.link_matter", {"case": case.code, "source": "manual"})
    assert Case.objects.get(pk=case.pk).version == event.seq


@time_machine.travel(IN_PERIOD, tick=False)
def test_unlinking_needs_a_reason_and_a_refusal_changes_nothing(supervisor, registrar):
    case = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    before = _state()

    with pytest.raises(CampaignError, match="移出专项必须填写理由"):
        actions.do_unlink_matter(campaign.pk, case.code, actor=supervisor, reason=" ")
    assert _state() == before

    actions.do_unlink_matter(campaign.pk, case.code, actor=supervisor, reason="系工程款纠纷")
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event.reason == "移出专项治理“欠薪专项治理”：系工程款纠纷"
    assert AuditEvent.objects.order_by("-id").first().action == "campaign.unlink_matter"
    with pytest.raises(CampaignError, match=f"事项 {case.code} 不在本专项中"):
        actions.do_unlink_matter(campaign.pk, case.code, actor=supervisor, reason="再次移出")


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_removed_matter_can_be_linked_again_by_hand(supervisor, registrar):
    case = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    actions.do_unlink_matter(campaign.pk, case.code, actor=supervisor, reason="误纳入")

    actions.do_link_matter(campaign.pk, case.code, actor=supervisor)

    link = CampaignMatter.objects.get(campaign=campaign, case=case)
    assert (link.source, link.removed_at, link.removal_reason) == (LinkSource.MANUAL, None, "")
    with pytest.raises(CampaignError, match=f"事项 {case.code} 已在本专项中"):
        actions.do_link_matter(campaign.pk, case.code, actor=supervisor)


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_draft_campaign_takes_no_hand_links_and_a_matter_out_of_sight_is_not_found(supervisor, registrar,
                                                                                     labour_handler):
    campaign = make_campaign(supervisor)
    case = make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)
    before = _state()

    with pytest.raises(CampaignError, match="只有进行中的专项可以纳入事项"):
        actions.do_link_matter(campaign.pk, case.code, actor=supervisor)
    actions.do_activate_campaign(campaign.pk, actor=supervisor)
    before = _state()
    # the labour bureau leads the campaign but does not see a neighbour dispute: 404, nothing linked
    with pytest.raises(Exception, match="事项不存在或无权查看"):
        actions.do_link_matter(campaign.pk, case.code, actor=labour_handler)
    assert _state() == before


def test_the_campaigns_figures_count_its_matters_with_the_kpi_engines_definitions(
        supervisor, registrar, dispatcher, handler, fq_platform):
    with time_machine.travel(IN_PERIOD, tick=False):
        campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
        resolved = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
        failed = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
        waiting = make_case(registrar, primary_type_code="labour", region_code=FENGQIAO)
        make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)  # not in the campaign
        advance_case(resolved, CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)
        advance_case(failed, CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform,
                     outcome=Outcome.MEDIATION_FAILED)
    with time_machine.travel("2026-01-20 09:00:00+08:00", tick=False):
        figures = queries.get_figures(campaign)
        units = queries.per_unit(campaign)
        townships = queries.per_township(campaign)
        weeks = queries.weekly_trend(campaign)

    assert (figures.volume, figures.in_progress, figures.concluded, figures.overdue) == (3, 1, 2, 0)
    resolution = figures.kpis["resolution"]
    assert (resolution.numerator, resolution.denominator, resolution.value) == (1, 2, Decimal("50.00"))
    assert figures.kpis["satisfaction"].display == "—"
    assert figures.kpis["satisfaction"].reason == "本期无参评事项"
    assert [(row.name, row.volume, row.concluded, row.resolution.display) for row in units] == [
        ("枫桥镇综治工作平台", 2, 2, "50.00%"), ("尚未交办", 1, 0, "—")]
    assert [(row.key, row.volume) for row in townships] == [(FENGQIAO, 3)]
    assert townships[0].name == "枫桥镇"
    assert [(str(w.week_on), w.registered, w.concluded) for w in weeks] == [("2026-01-05", 3, 2)]
    assert waiting.code in set(queries.visible_matters(supervisor, campaign).values_list("code", flat=True))


def test_an_empty_campaign_shows_zeros_and_no_rate(supervisor):
    campaign = make_campaign(supervisor)

    figures = queries.get_figures(campaign)

    assert (figures.volume, figures.in_progress, figures.concluded, figures.overdue) == (0, 0, 0, 0)
    assert figures.is_empty
    assert [figures.kpis[code].display for code in queries.FIGURE_KPIS] == ["—", "—", "—"]
    assert queries.weekly_trend(campaign) == [] and queries.per_unit(campaign) == []
