"""The compiled table is reused while the rules are unchanged and rebuilt as soon as they change."""

from datetime import UTC, datetime

import time_machine

from yidi.cases.builders import make_case
from yidi.routing import actions
from yidi.routing.models import RoutingRule
from yidi.routing.queries import active_rules, clear_rule_cache, suggest_route

FENGQIAO_NEIGHBOURS = {
    "id": "fengqiao_neighbours_to_platform",
    "order": 5,
    "name": "枫桥镇邻里纠纷由镇平台办理",
    "when": {"dispute_types": ["neighbour"], "region_prefix": "330681109"},
    "then": {"handling_level": "township", "lead": {"selector": "township_platform_of_region"}},
}


def test_a_warm_cache_costs_one_small_query_and_returns_the_same_table(db, django_assert_num_queries):
    first = active_rules()

    with django_assert_num_queries(1):
        second = active_rules()

    assert second is first
    assert [rule.id for rule in first.rules][:3] == [
        "red_grade_to_county",
        "difficult_to_county",
        "large_amount_to_county",
    ]


def test_a_saved_rule_routes_the_next_matter(registrar, admin):
    case = make_case(registrar)
    assert suggest_route(case).rule_id == "simple_to_village"

    actions.do_save_rule(FENGQIAO_NEIGHBOURS, actor=admin)

    suggestion = suggest_route(case)
    assert (suggestion.rule_id, suggestion.lead_unit.code) == (
        "fengqiao_neighbours_to_platform",
        "fq-platform",
    )


def test_a_deactivated_or_deleted_rule_stops_routing_at_once(registrar, admin):
    case = make_case(registrar)
    rule = RoutingRule.objects.get(code="simple_to_village").as_dict()

    actions.do_save_rule(rule | {"active": False}, actor=admin)
    assert suggest_route(case).matched is False

    actions.do_save_rule(rule, actor=admin)
    assert suggest_route(case).rule_id == "simple_to_village"

    actions.do_delete_rule("simple_to_village", actor=admin)
    assert suggest_route(case).matched is False


def test_a_change_saved_by_another_process_is_seen_on_the_next_call(registrar, admin, monkeypatch):
    case = make_case(registrar)
    active_rules()
    monkeypatch.setattr(actions, "clear_rule_cache", lambda: None)  # the other process cannot clear ours

    actions.do_save_rule(FENGQIAO_NEIGHBOURS, actor=admin)

    assert suggest_route(case).rule_id == "fengqiao_neighbours_to_platform"


def test_a_change_whose_time_is_older_than_the_newest_rule_is_still_seen(registrar, admin, monkeypatch):
    case = make_case(registrar)
    active_rules()
    monkeypatch.setattr(actions, "clear_rule_cache", lambda: None)
    rule = RoutingRule.objects.get(code="simple_to_village").as_dict()

    with time_machine.travel(datetime(2020, 1, 1, tzinfo=UTC), tick=False):  # a server with a slow clock
        actions.do_save_rule(rule | {"active": False}, actor=admin)

    assert suggest_route(case).matched is False


def test_clearing_the_cache_rebuilds_the_table(db, django_assert_num_queries):
    first = active_rules()
    clear_rule_cache()

    with django_assert_num_queries(2):  # version check, rules
        second = active_rules()

    assert second is not first
    assert [rule.id for rule in second.rules] == [rule.id for rule in first.rules]
