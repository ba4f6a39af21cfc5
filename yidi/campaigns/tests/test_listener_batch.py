"""The campaign rule listener's batch form (`on_case_event.for_batch`, used by the 12345 import) writes exactly
the links of one call per (matter, event), and the per-event path reads only what it needs."""

import pytest
import time_machine

from yidi.campaigns import actions
from yidi.campaigns.actions import on_case_event
from yidi.campaigns.models import CampaignMatter
from yidi.campaigns.tests.support import FENGYUAN, JIYANG, make_campaign
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent
from yidi.cases.tests import listener_batch
from yidi.cases.tests.listener_batch import listeners_off

pytestmark = pytest.mark.django_db
IN_PERIOD = "2026-01-10 09:00:00+08:00"


def both_ways(listener, pairs) -> list[list]:
    """The campaign links after one call per pair, then after the batch form on all pairs; each run is rolled
    back."""
    return listener_batch.both_ways(listener, pairs, lambda _queued: list(
        CampaignMatter.objects.order_by("campaign_id", "case__code").values_list(
            "campaign__name", "case__code", "source", "linked_at", "linked_by", "removed_at")))


def event_of(case, action: str) -> tuple[Case, CaseEvent]:
    return Case.objects.get(pk=case.pk), CaseEvent.objects.filter(case=case, action=action).latest("seq")


@time_machine.travel(IN_PERIOD, tick=False)
def test_the_batch_form_writes_the_links_of_one_call_per_event(supervisor, registrar):
    actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    actions.do_activate_campaign(make_campaign(supervisor, name="邻里专项", type_codes=["neighbour", "labour"],
                                               region_codes=[FENGYUAN]).pk, actor=supervisor)
    make_campaign(supervisor, name="草稿专项", type_codes=["neighbour"])
    moved = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)  # linked to both by the rule
    with listeners_off():
        fresh = [make_case(registrar, primary_type_code="labour", region_code=FENGYUAN),
                 make_case(registrar, primary_type_code="neighbour", region_code=FENGYUAN),
                 make_case(registrar, primary_type_code="labour", region_code=JIYANG)]
        case_actions.do_set_labels(moved.code, actor=registrar, labels={"mediation_type": "contract"})
    pairs = [*(event_of(case, "register") for case in fresh), event_of(moved, "set_labels")]

    one_by_one, batch = both_ways(on_case_event, pairs)

    assert batch == one_by_one
    assert [(name, code, source) for name, code, source, *_ in batch] == [
        ("欠薪专项治理", fresh[0].code, "rule"),
        ("邻里专项", fresh[0].code, "rule"),
        ("邻里专项", fresh[1].code, "rule"),
    ]  # `moved` left both campaigns: its type changed
    assert {linked_at.isoformat() for _, _, _, linked_at, _, _ in batch} == {"2026-01-10T01:00:00+00:00"}


@time_machine.travel(IN_PERIOD, tick=False)
def test_registrations_in_a_batch_read_the_campaigns_once_and_insert_once(
        supervisor, registrar, django_assert_num_queries):
    actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    with listeners_off():
        cases = [make_case(registrar, primary_type_code="labour", region_code=FENGYUAN) for _ in range(3)]
    pairs = [event_of(case, "register") for case in cases]

    with django_assert_num_queries(4):  # campaigns, their types, their regions; one insert
        on_case_event.for_batch(pairs)

    assert CampaignMatter.objects.count() == 3


@time_machine.travel(IN_PERIOD, tick=False)
def test_a_registration_reads_the_campaigns_once_when_none_is_active_and_drops_nothing(
        supervisor, registrar, django_assert_num_queries):
    with listeners_off():
        case = make_case(registrar, primary_type_code="labour", region_code=FENGYUAN)
    pair = event_of(case, "register")
    with django_assert_num_queries(1):
        on_case_event(*pair)

    actions.do_activate_campaign(make_campaign(supervisor).pk, actor=supervisor)
    CampaignMatter.objects.all().delete()  # the back-fill linked it: start again from no link
    with django_assert_num_queries(4):  # campaigns, their types, their regions; the insert (no delete: it is new)
        on_case_event(*pair)

    assert CampaignMatter.objects.filter(case=case).count() == 1


def test_an_event_that_does_not_touch_the_rule_reads_nothing(registrar, django_assert_num_queries):
    with listeners_off():
        case = make_case(registrar)
    other = CaseEvent(case=case, seq=2, action="accept", from_status="registered", to_status="accepted",
                      at=case.registered_at)

    with django_assert_num_queries(0):
        on_case_event(case, other)
        on_case_event.for_batch([(case, other)])
