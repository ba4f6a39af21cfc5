"""Automatic linking by rule: on registration and reclassification, and the back-fill on activation."""

import pytest
import time_machine

from yidi.audit.models import AuditEvent
from yidi.campaigns import actions
from yidi.campaigns.domain import CampaignStatus, LinkSource
from yidi.campaigns.models import CampaignMatter
from yidi.campaigns.tests.support import FENGYUAN, JIYANG, make_campaign
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case

pytestmark = pytest.mark.django_db
IN_PERIOD = "2026-01-10 09:00:00+08:00"


def _linked(campaign) -> list[tuple[str, str, bool]]:
    rows = CampaignMatter.objects.filter(campaign=campaign).select_related("case").order_by("case__code")
    return [(row.case.code, row.source, row.is_removed) for row in rows]


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_matter_of_the_campaigns_type_region_and_period_is_linked_when_registered(supervisor, registrar):
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)

    case = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)

    assert _linked(campaign) == [(case.code, LinkSource.RULE, False)]
    link = CampaignMatter.objects.get(campaign=campaign)
    assert link.linked_by is None and link.linked_at.isoformat() == "2026-01-10T01:00:00+00:00"


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_matter_of_another_type_or_place_is_not_linked(supervisor, registrar):
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)

    make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)
    make_case(registrar, primary_type_code="labour", region_code=JIYANG)

    assert _linked(campaign) == []


def test_a_matter_registered_outside_the_period_is_not_linked(supervisor, registrar):
    with time_machine.travel(IN_PERIOD, tick=False):
        campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    with time_machine.travel("2026-03-01 00:30:00+08:00", tick=False):
        make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)

    assert _linked(campaign) == []


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_draft_or_ended_campaign_links_nothing(supervisor, registrar):
    draft = make_campaign(supervisor)
    ended, _ = actions.do_activate_campaign(make_campaign(supervisor, name="已结束专项").pk, actor=supervisor)
    actions.do_end_campaign(ended.pk, actor=supervisor)

    make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)

    assert _linked(draft) == [] and _linked(ended) == []


@time_machine.travel(IN_PERIOD, tick=False)
def test_activation_back_fills_the_matters_already_registered_in_one_statement(
        supervisor, registrar):
    inside = [make_case(registrar, primary_type_code="labour", region_code=FENGYUAN) for _ in range(3)]
    make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)
    make_case(registrar, primary_type_code="labour", region_code=JIYANG)
    campaign = make_campaign(supervisor)

    campaign, linked = actions.do_activate_campaign(campaign.pk, actor=supervisor)

    assert linked == 3
    assert campaign.status == CampaignStatus.ACTIVE
    assert _linked(campaign) == sorted((case.code, LinkSource.RULE, False) for case in inside)
    audit = AuditEvent.objects.filter(action="campaign.activate").get()
    assert (audit.object_id, audit.data) == (str(campaign.pk), {"linked_by_rule": 3})


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_matter_reclassified_into_the_type_is_linked_and_out_of_it_is_dropped(supervisor, registrar):
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    case = make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)

    case_actions.do_set_labels(case.code, actor=registrar, labels={"mediation_type": "labour"})
    assert _linked(campaign) == [(case.code, LinkSource.RULE, False)]

    case_actions.do_set_labels(case.code, actor=registrar, labels={"mediation_type": "neighbour"})
    assert _linked(campaign) == []


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_matter_a_person_removed_is_never_re_added_by_the_rule(supervisor, registrar):
    case = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    actions.do_unlink_matter(campaign.pk, case.code, actor=supervisor, reason="系工程款纠纷，非欠薪")

    case_actions.do_set_labels(case.code, actor=registrar, labels={"mediation_type": "labour"})
    again = actions.backfill(campaign, now=case.registered_at)

    assert again == 0
    assert _linked(campaign) == [(case.code, LinkSource.RULE, True)]
    link = CampaignMatter.objects.get(campaign=campaign)
    assert (link.removed_by, link.removal_reason) == (supervisor, "系工程款纠纷，非欠薪")


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_hand_link_stays_when_the_matter_is_reclassified(supervisor, registrar):
    campaign, _ = actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    case = make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN)
    actions.do_link_matter(campaign.pk, case.code, actor=supervisor, reason="邻里纠纷中涉及欠薪")

    case_actions.do_set_labels(case.code, actor=registrar, labels={"mediation_type": "contract"})

    assert _linked(campaign) == [(case.code, LinkSource.MANUAL, False)]
