"""The routing rules in the admin: ordered list, overlap warnings, edits through the actions, read-only history."""

import json

import pytest
from django.contrib.messages import constants

from yidi.accounts import domain as accounts_domain
from yidi.accounts.domain import Role
from yidi.audit.models import AuditEvent
from yidi.routing.actions import do_save_rule
from yidi.routing.models import RoutingRule, RoutingRuleRevision

LIST_URL = "/admin/routing/routingrule/"
ADD_URL = "/admin/routing/routingrule/add/"
REVISIONS_URL = "/admin/routing/routingrulerevision/"
SHADOWED = {
    "id": "red_in_fengqiao",
    "order": 15,
    "name": "枫桥镇红色风险",
    "when": {"grades": ["red"], "region_prefix": "330681109"},
    "then": {"handling_level": "township", "lead": {"selector": "township_platform_of_region"}},
}


@pytest.fixture
def admin_client(admin, client, monkeypatch):
    """The system admin, with "routing" in the admin scope (the lead adds it to ADMIN_SITE_SCOPES)."""
    scopes = accounts_domain.ADMIN_SITE_SCOPES[Role.SYSTEM_ADMIN] | {"routing"}
    monkeypatch.setitem(accounts_domain.ADMIN_SITE_SCOPES, Role.SYSTEM_ADMIN, scopes)
    client.force_login(admin)
    return client


def shown_messages(response):
    return [(message.level, message.message) for message in response.context["messages"]]


def form_data(**overrides):
    data = {
        "code": "collective_labour_to_county",
        "position": "45",
        "name": "集体劳动争议县级办理",
        "is_active": "on",
        "when": json.dumps({"dispute_types": ["labour"], "people_min": 10}),
        "then": json.dumps({"handling_level": "county", "lead": {"selector": "centre"}}),
    }
    return data | overrides


def counts():
    return (
        RoutingRule.objects.count(),
        RoutingRuleRevision.objects.count(),
        AuditEvent.objects.filter(object_type="routing_rule").count(),
    )


def test_the_list_shows_the_rules_in_evaluation_order(admin_client):
    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    rows = [row.code for row in response.context["cl"].result_list]
    assert rows == list(RoutingRule.objects.order_by("position", "code").values_list("code", flat=True))
    assert rows[0] == "red_grade_to_county" and rows[-1] == "county_located_to_centre"
    page = response.content.decode()
    assert "红色风险上提县级" in page
    assert "风险等级属于：红" in page
    assert "由县级办理，主办：县矛调中心" in page


def test_a_rule_that_can_never_fire_is_shown_as_an_error_naming_both_rules(admin_client, admin):
    do_save_rule(SHADOWED, actor=admin)

    response = admin_client.get(LIST_URL)

    message = "规则 red_in_fengqiao 被排在前面的规则 red_grade_to_county 完全覆盖，永远不会生效。"
    assert (constants.ERROR, message) in shown_messages(response)
    assert message in response.content.decode()


def test_partly_shadowed_rules_with_another_outcome_are_warnings_naming_the_earlier_rules(admin_client):
    response = admin_client.get(LIST_URL)

    shown = shown_messages(response)
    assert [level for level, _ in shown] == [constants.WARNING] * 8
    assert (
        constants.WARNING,
        "规则 simple_to_village 与排在前面的规则 red_grade_to_county、large_amount_to_county、"
        "land_expropriation_to_county、labour_to_township_with_hrss、collective_to_township、"
        "orange_grade_to_township 部分重叠：同时满足的事项按顺序由排在前面的规则处理。",
    ) in shown
    assert (
        constants.WARNING,
        "规则 county_located_to_centre 与排在前面的规则 land_expropriation_to_county 部分重叠："
        "两者都满足的事项按顺序由 land_expropriation_to_county 处理。",
    ) in shown


def test_the_add_and_change_pages_open_with_the_json_and_its_help(admin_client):
    rule = RoutingRule.objects.get(code="simple_to_village")

    add_page = admin_client.get(ADD_URL)
    change_page = admin_client.get(f"{LIST_URL}{rule.pk}/change/")

    assert (add_page.status_code, change_page.status_code) == (200, 200)
    assert "可用的键：dispute_types、grades" in add_page.content.decode()
    assert list(change_page.context["adminform"].form.fields) == [
        "position",
        "name",
        "is_active",
        "when",
        "then",
    ]
    assert change_page.context["adminform"].form.initial["then"] == {
        "handling_level": "village",
        "lead": {"selector": "village_committee_of_region"},
    }


def test_a_rule_added_in_the_admin_is_saved_through_the_action(admin_client):
    response = admin_client.post(ADD_URL, form_data())

    assert response.status_code == 302
    rule = RoutingRule.objects.get(code="collective_labour_to_county")
    assert rule.as_dict() == {
        "id": "collective_labour_to_county",
        "order": 45,
        "name": "集体劳动争议县级办理",
        "active": True,
        "when": {"dispute_types": ["labour"], "people_min": 10},
        "then": {"handling_level": "county", "lead": {"selector": "centre"}},
    }
    assert list(
        RoutingRuleRevision.objects.filter(rule_code=rule.code).values_list(
            "operation", "changed_by__username"
        )
    ) == [("create", "sysadmin")]
    assert list(
        AuditEvent.objects.filter(object_type="routing_rule").values_list("action", "actor_username")
    ) == [
        ("routing_rule.create", "sysadmin"),
    ]


def test_a_rule_with_a_bad_key_is_refused_with_the_message_and_nothing_is_saved(admin_client):
    before = counts()

    response = admin_client.post(ADD_URL, form_data(when=json.dumps({"grades": ["purple"]})))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "when": [
            "分派规则 collective_labour_to_county 有误：“when.grades”中的“purple”不是有效取值"
            "（可用：red、orange、yellow、blue）"
        ],
    }
    assert counts() == before


def test_text_that_is_not_json_is_refused_and_nothing_is_saved(admin_client):
    before = counts()

    response = admin_client.post(ADD_URL, form_data(then="{handling_level: county"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"then": ["输入一个有效的JSON。"]}
    assert counts() == before


def test_a_second_rule_with_an_existing_code_is_refused(admin_client):
    before = counts()

    response = admin_client.post(ADD_URL, form_data(code="simple_to_village"))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["code"]
    assert counts() == before


def test_a_rule_changed_in_the_admin_keeps_its_code_and_is_revised(admin_client):
    rule = RoutingRule.objects.get(code="simple_to_village")
    url = f"{LIST_URL}{rule.pk}/change/"

    response = admin_client.post(
        url,
        form_data(
            code="renamed",
            position="95",
            name=rule.name,
            when=json.dumps(rule.when),
            then=json.dumps(rule.then),
        ),
    )

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.code, rule.position) == ("simple_to_village", 95)
    assert list(AuditEvent.objects.filter(object_type="routing_rule").values_list("action", "fields")) == [
        ("routing_rule.update", ["order"]),
    ]


def test_a_rule_deleted_in_the_admin_is_deleted_through_the_action(admin_client):
    rule = RoutingRule.objects.get(code="simple_to_village")

    response = admin_client.post(f"{LIST_URL}{rule.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not RoutingRule.objects.filter(code="simple_to_village").exists()
    assert list(
        RoutingRuleRevision.objects.filter(rule_code="simple_to_village").values_list("operation", flat=True)
    ) == ["delete", "create"]


def test_the_history_is_read_only(admin_client, admin):
    do_save_rule(SHADOWED, actor=admin)
    revision = RoutingRuleRevision.objects.get(rule_code="red_in_fengqiao")

    assert admin_client.get(REVISIONS_URL).status_code == 200
    assert admin_client.get(f"{REVISIONS_URL}add/").status_code == 403
    assert admin_client.post(f"{REVISIONS_URL}{revision.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"{REVISIONS_URL}{revision.pk}/change/", {"rule_code": "x"}).status_code == 403
    assert RoutingRuleRevision.objects.get(pk=revision.pk).rule_code == "red_in_fengqiao"


def test_business_staff_cannot_open_the_rules(registrar, client, monkeypatch):
    scopes = accounts_domain.ADMIN_SITE_SCOPES[Role.SYSTEM_ADMIN] | {"routing"}
    monkeypatch.setitem(accounts_domain.ADMIN_SITE_SCOPES, Role.SYSTEM_ADMIN, scopes)
    client.force_login(registrar)

    assert client.get(LIST_URL).status_code == 302
    assert registrar.has_perm("routing.view_routingrule") is False
