"""POST /open311/v2/requests.{json,xml}: a request becomes a matter through the same intake action, authenticated
by api_key; every refusal is the spec's error body and writes nothing."""

import pytest

from yidi.accounts.actions import do_revoke_api_client
from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseEvent, CaseParty, Contact
from yidi.open311.tests.helpers import (
    BASE,
    NEW_REQUEST,
    json_body,
    make_client_token,
    post_request,
    xml_records,
    xml_root,
)

pytestmark = pytest.mark.django_db


def _written() -> tuple[int, int, int, int]:
    return Case.objects.count(), CaseEvent.objects.count(), CaseParty.objects.count(), Contact.objects.count()


@pytest.fixture
def token(db):
    return make_client_token()


def test_a_request_becomes_one_matter_of_the_open311_channel_in_the_clients_region(client, token):
    audit_before = AuditEvent.objects.filter(action="case.register").count()

    response = post_request(client, api_key=token, **NEW_REQUEST)

    case = Case.objects.get()
    assert response.status_code == 200
    assert json_body(response) == [{
        "service_request_id": case.code,
        "service_notice": f"已登记，事项编码 {case.code}。工作人员将在1个工作日内审核是否受理，可凭编码查询办理进度。",
        "account_id": None,
    }]
    assert (case.channel.code, case.primary_type.code, case.region_id, case.request_type) == (
        "open311", "neighbour", "330681109", "mediation")
    assert (case.title, case.address, case.people_involved, str(case.amount_involved)) == (
        "关于枫桥镇王志强的邻里纠纷", "诸暨市枫桥镇枫源村3组18号", 2, "3000.50")
    assert case.registered_by.username == "api-client-fq-open311"
    assert [(p.role, p.person.name, p.person.phone) for p in case.parties.order_by("position")] == [
        ("applicant", "陈建国", "13805751234"), ("respondent", "王志强", "")]
    assert CaseEvent.objects.filter(case=case, action="register").count() == 1
    assert AuditEvent.objects.filter(action="case.register").count() == audit_before + 1
    assert case.contacts.get().channel.code == "open311"


def test_the_xml_response_and_an_anonymous_report_by_coordinates(client, token):
    response = post_request(client, "xml", api_key=token, service_code="environmental_pollution",
                            description="河道有人倾倒建筑垃圾", lat="29.601234", long="120.241234")

    case = Case.objects.get()
    root = xml_root(response)
    assert root.tag == "service_requests"
    assert xml_records(root) == [{"service_request_id": case.code, "service_notice": (
        f"已登记，事项编码 {case.code}。工作人员将在1个工作日内审核是否受理，可凭编码查询办理进度。"), "account_id": ""}]
    assert (case.request_type, case.parties.count(), str(case.latitude), str(case.longitude)) == (
        "report", 0, "29.601234", "120.241234")


def test_the_posted_request_is_then_listed_without_personal_data(client, token):
    post_request(client, api_key=token, **NEW_REQUEST)
    code = Case.objects.get().code

    listed = json_body(client.get(f"{BASE}/requests.json"))

    assert [r["service_request_id"] for r in listed] == [code]
    assert "13805751234" not in str(listed) and "陈建国" not in str(listed)
    assert listed[0]["address"] == "枫桥镇（诸暨市枫桥镇***）"


@pytest.mark.parametrize("case", ["missing", "invalid", "revoked", "without_scope", "session"])
def test_a_missing_invalid_revoked_or_unscoped_api_key_is_403_and_writes_nothing(client, token, dispatcher, case):
    api_key = {
        "missing": None,
        "invalid": "x" * 43,
        "revoked": token,
        "without_scope": make_client_token("fq-reader", scopes=("cases:read", "reference:read")),
        "session": None,
    }[case]
    if case == "revoked":
        do_revoke_api_client("fq-open311")
    if case == "session":
        client.force_login(dispatcher)
    before = _written()

    response = post_request(client, api_key=api_key, **NEW_REQUEST)
    xml = post_request(client, "xml", api_key=api_key, **NEW_REQUEST)

    description = ("此 api_key 没有“登记事项”（cases:write）权限" if case == "without_scope"
                   else "api_key 缺失或无效（须为有效的接口客户端令牌）")
    assert response.status_code == 403
    assert json_body(response) == [{"code": 403, "description": description}]
    assert xml.status_code == 403
    assert xml_records(xml_root(xml)) == [{"code": "403", "description": description}]
    assert _written() == before


@pytest.mark.parametrize(("changes", "description"), [
    ({"service_code": "petition"}, "未知的服务代码“petition”"),
    ({"service_code": None}, "请填写 service_code（服务代码）"),
    ({"description": None}, "请填写 description（事项描述）"),
    ({"address_string": None}, "请提供位置：lat 和 long，或 address_string"),
    ({"lat": "91", "long": "120.2"}, "lat/long 不在中国境内（纬度3.8～53.6，经度73.5～135.1；请检查是否填反）"),
    ({"lat": "29.6", "long": "东经120度"}, "long 必须是数字"),
    ({"phone": "1380575"}, "phone 格式不正确（手机号11位，座机请加区号，如 0575-87012345）"),
    ({"attribute[people_involved]": "两人"}, "attribute[people_involved] 必须是0～1000000的整数"),
    ({"attribute[occurred_on]": "昨天"}, "attribute[occurred_on] 不是有效的 ISO 8601 时间（如 2026-11-01T00:00:00+08:00）"),
    ({"attribute[request_type]": "consultation", "last_name": None, "first_name": None, "phone": None},
     "至少需要一名申请人（举报、意见建议可匿名）"),
])
def test_bad_input_is_a_400_in_the_spec_format_and_writes_nothing(client, token, changes, description):
    before = _written()

    response = post_request(client, api_key=token, **{**NEW_REQUEST, **changes})
    xml = post_request(client, "xml", api_key=token, **{**NEW_REQUEST, **changes})

    assert response.status_code == 400
    assert json_body(response) == [{"code": 400, "description": description}]
    assert xml.status_code == 400
    assert xml_records(xml_root(xml)) == [{"code": "400", "description": description}]
    assert _written() == before


@pytest.mark.parametrize(("body", "content_type"), [
    ("<service_request><service_code>neighbour</service_code></service_request>", "text/xml"),
    ('{"service_code": "neighbour", "description": "x"}', "application/json"),
    ("--broken\r\nContent-Disposition: form-data\r\n", "multipart/form-data; boundary=broken"),
])
def test_a_body_that_is_not_a_form_is_refused_and_writes_nothing(client, token, body, content_type):
    before = _written()

    response = client.post(f"{BASE}/requests.json", body, content_type=content_type)

    assert response.status_code == 400
    assert json_body(response) == [{"code": 400, "description": "请求内容须为有效的表单（application/x-www-form-urlencoded）"}]
    assert _written() == before


def test_an_address_elsewhere_still_registers_in_the_clients_region(client, token):
    """Documented simplification: the region is always the client's unit's, whatever the address says."""
    post_request(client, api_key=token, **{**NEW_REQUEST, "address_string": "诸暨市暨阳街道某小区"})

    assert Case.objects.get().region_id == "330681109"
