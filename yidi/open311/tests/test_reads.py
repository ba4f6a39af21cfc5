"""The public Open311 reads in both formats: discovery, services, service definition, requests, one request."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case, make_party
from yidi.cases.domain import CaseStatus
from yidi.core import clock
from yidi.open311.tests.helpers import BASE, json_body, xml_records, xml_root

pytestmark = pytest.mark.django_db
DESCRIPTION = "邻居加盖杂物间堵住共用排水沟，请回电13805751234或核对身份证330681198003150017。"


def _open311_case(registrar, **overrides):
    values = {"channel_code": "open311", "description": DESCRIPTION, "address": "诸暨市枫桥镇枫源村3组18号",
              "parties": (make_party(),)}
    values.update(overrides)
    return make_case(registrar, **values)


def _local(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- discovery and services ---------------------------------------------------------------------------------


@override_settings(YIDI_PUBLIC_BASE_URL="https://yidi.example.cn/")
def test_discovery_lists_this_instance_in_both_formats(client):
    body = json_body(client.get(f"{BASE}/discovery.json"))
    root = xml_root(client.get(f"{BASE}/discovery.xml"))

    endpoint = {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "https://yidi.example.cn/open311/v2",
                "changeset": "2026-11-28T00:00:00+08:00", "type": "production",
                "formats": ["text/xml", "application/json"]}
    assert body["endpoints"] == [endpoint]
    assert body["changeset"] == "2026-11-28T00:00:00+08:00"
    assert root.tag == "discovery"
    assert [e.text for e in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/url") == "https://yidi.example.cn/open311/v2"
    assert root.findtext("contact") == body["contact"]


def test_services_are_the_mediation_types_in_both_formats(client):
    body = json_body(client.get(f"{BASE}/services.json"))
    root = xml_root(client.get(f"{BASE}/services.xml"))

    assert len(body) == 15
    assert body[1] == {
        "service_code": "neighbour", "service_name": "邻里纠纷",
        "description": "邻里纠纷：申请人民调解，由矛调中心登记后交有关单位或调解组织办理。",
        "metadata": True, "type": "realtime", "keywords": "邻里, 纠纷, 人民调解", "group": "人民调解纠纷类型",
    }
    assert root.tag == "services"
    assert xml_records(root)[1] == {**body[1], "metadata": "true"}
    assert [s["service_code"] for s in xml_records(root)] == [s["service_code"] for s in body]


def test_service_definition_lists_the_intake_attributes_in_both_formats(client):
    body = json_body(client.get(f"{BASE}/services/neighbour.json"))
    root = xml_root(client.get(f"{BASE}/services/neighbour.xml"))

    assert body["service_code"] == "neighbour"
    assert [(a["code"], a["datatype"], a["order"], a["required"]) for a in body["attributes"]] == [
        ("people_involved", "number", 1, False), ("amount_involved", "number", 2, False),
        ("occurred_on", "datetime", 3, False), ("request_type", "singlevaluelist", 4, False),
        ("respondent_name", "string", 5, False),
    ]
    assert body["attributes"][3]["values"] == [
        {"key": "consultation", "name": "咨询"}, {"key": "help", "name": "求助"}, {"key": "complaint", "name": "投诉"},
        {"key": "report", "name": "举报"}, {"key": "suggestion", "name": "意见建议"},
        {"key": "mediation", "name": "纠纷调解"},
    ]
    assert root.tag == "service_definition" and root.findtext("service_code") == "neighbour"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == [a["code"] for a in body["attributes"]]
    assert attributes[0].findtext("variable") == "true" and attributes[0].findtext("required") == "false"
    assert attributes[0].findtext("description") == "涉及人数"
    assert [(v.findtext("key"), v.findtext("name")) for v in attributes[3].findall("values/value")][-1] == (
        "mediation", "纠纷调解")


def test_an_unknown_service_definition_is_404_in_the_spec_format(client):
    response = client.get(f"{BASE}/services/petition.json")
    xml = client.get(f"{BASE}/services/petition.xml")

    assert response.status_code == 404
    assert json_body(response) == [{"code": 404, "description": "未知的服务代码“petition”"}]
    assert xml.status_code == 404
    assert xml_records(xml_root(xml)) == [{"code": "404", "description": "未知的服务代码“petition”"}]


# --- requests -----------------------------------------------------------------------------------------------


def test_requests_show_the_public_fields_only_in_both_formats(client, registrar, dispatcher, handler):
    case = advance_case(_open311_case(registrar, latitude=Decimal("29.601234"), longitude=Decimal("120.241234")),
                        CaseStatus.SIGNED, dispatcher=dispatcher, handler=handler, lead_unit=handler.unit)
    case.refresh_from_db()

    body = json_body(client.get(f"{BASE}/requests.json"))
    records = xml_records(xml_root(client.get(f"{BASE}/requests.xml")))

    expected = {
        "service_request_id": case.code, "status": "open", "status_notes": "办理中", "service_name": "邻里纠纷",
        "service_code": "neighbour",
        "description": "邻居加盖杂物间堵住共用排水沟，请回电138****1234或核对身份证330***********0017。",
        "agency_responsible": "枫桥镇综治工作平台", "service_notice": "",
        "requested_datetime": _local(case.registered_at), "updated_datetime": _local(case.updated_at),
        "expected_datetime": _local(case.due_at),
        "address": "枫源村（诸暨市枫桥镇***）", "lat": 29.601, "long": 120.241,
    }
    assert body == [expected]
    assert records == [{**{k: str(v) for k, v in expected.items()}}]
    assert "陈建国" not in str(body)


def test_another_channels_matter_is_never_listed_or_shown(client, registrar):
    walk_in = make_case(registrar)

    listed = json_body(client.get(f"{BASE}/requests.json?service_request_id={walk_in.code}"))
    shown = client.get(f"{BASE}/requests/{walk_in.code}.json")

    assert json_body(client.get(f"{BASE}/requests.json")) == []
    assert listed == []
    assert shown.status_code == 404
    assert json_body(shown) == [{"code": 404, "description": f"未找到服务请求“{walk_in.code}”"}]


def test_one_request_in_both_formats_and_404_in_the_spec_format(client, registrar):
    case = _open311_case(registrar)

    body = json_body(client.get(f"{BASE}/requests/{case.code}.json"))
    root = xml_root(client.get(f"{BASE}/requests/{case.code}.xml"))
    missing = client.get(f"{BASE}/requests/330681-2026-999999.xml")

    assert [r["service_request_id"] for r in body] == [case.code]
    assert (body[0]["status"], body[0]["status_notes"], body[0]["agency_responsible"]) == ("open", "受理中", "")
    assert (body[0]["lat"], body[0]["long"]) == (None, None)
    assert root.tag == "service_requests"
    assert xml_records(root)[0]["service_request_id"] == case.code
    assert xml_records(root)[0]["lat"] == "" and xml_records(root)[0]["requested_datetime"] == body[0][
        "requested_datetime"]
    assert missing.status_code == 404
    assert xml_root(missing).tag == "errors"
    assert xml_records(xml_root(missing)) == [{"code": "404", "description": "未找到服务请求“330681-2026-999999”"}]


def test_requests_filter_by_ids_service_status_and_dates(client, registrar, dispatcher):
    with clock.at(clock.now() - timedelta(days=100)):
        old = _open311_case(registrar)
    neighbour = _open311_case(registrar)
    labour = _open311_case(registrar, primary_type_code="labour")
    declined = _open311_case(registrar)
    actions.do_decline_case(declined.code, actor=dispatcher, reason="不属于受理范围", route_told="向法院起诉")

    def codes(query):
        return [r["service_request_id"] for r in json_body(client.get(f"{BASE}/requests.json?{query}"))]

    assert codes("") == [declined.code, labour.code, neighbour.code]
    assert codes(f"service_request_id={old.code},{labour.code}") == [labour.code, old.code]
    assert codes("service_code=labour") == [labour.code]
    assert codes("service_code=labour,neighbour&status=open") == [labour.code, neighbour.code]
    assert codes("status=closed") == [declined.code]
    start = (clock.now() - timedelta(days=120)).date().isoformat()
    assert codes(f"start_date={start}") == [old.code]
    assert codes(f"end_date={(clock.now() - timedelta(days=50)).date().isoformat()}") == [old.code]


@pytest.mark.parametrize(("query", "message"), [
    ("start_date=2026-01-01&end_date=2026-06-01", "start_date 与 end_date 的间隔不能超过90天"),
    ("start_date=2026-02-30", "start_date 不是有效的 ISO 8601 时间（如 2026-11-01T00:00:00+08:00）"),
    ("service_code=petition", "未知的服务代码“petition”"),
    ("status=pending", "status 只能是 open 或 closed（收到“pending”）"),
])
def test_bad_search_parameters_are_a_400_in_the_spec_format(client, query, message):
    response = client.get(f"{BASE}/requests.json?{query}")
    xml = client.get(f"{BASE}/requests.xml?{query}")

    assert response.status_code == 400 and json_body(response) == [{"code": 400, "description": message}]
    assert xml.status_code == 400 and xml_records(xml_root(xml)) == [{"code": "400", "description": message}]


def test_the_list_takes_a_fixed_number_of_queries(client, registrar, django_assert_num_queries):
    for _ in range(3):
        _open311_case(registrar)

    with django_assert_num_queries(2):  # the services (to check service_code), the matters with their labels
        body = json_body(client.get(f"{BASE}/requests.json"))

    assert len(body) == 3
