"""人工上报: raising a manual alert from the page (/supervision/alerts/new/) and the API (POST /alerts)."""

import json

import pytest
from django.urls import reverse

from yidi.accounts.actions import do_create_api_client
from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_case
from yidi.supervision.forms import parse_case_codes
from yidi.supervision.models import Alert, AlertCase, AlertEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/supervision/alerts"


def _counts() -> tuple[int, int, int, int]:
    return Alert.objects.count(), AlertCase.objects.count(), AlertEvent.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def cases(registrar):
    """Two matters of 枫源村 (枫桥镇)."""
    return [make_case(registrar), make_case(registrar)]


@pytest.fixture
def jiyang_case(registrar):
    return make_case(registrar, region_code="330681001001")


def _form(cases, **overrides) -> dict:
    return {"title": "枫源村排水沟纠纷可能激化", "severity": "orange", "reason": "两户多次争吵，一方扬言堵路",
            "case_codes": "\n".join(case.code for case in cases), **overrides}


# --- the page ---------------------------------------------------------------------------------------------


def test_a_dispatcher_raises_an_alert_from_the_page(client, dispatcher, cases):
    client.force_login(dispatcher)
    audit_before = AuditEvent.objects.count()

    response = client.post(reverse("alert_new"), _form(cases, case_codes=f"{cases[0].code}，{cases[1].code}、"
                                                                          f"{cases[0].code}"))

    alert = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("alert_detail", args=[alert.pk])
    assert (alert.kind, alert.severity, alert.status, alert.title, alert.reason, alert.region_id,
            alert.owner_unit.code, alert.raised_by) == (
        "manual", "orange", "new", "枫源村排水沟纠纷可能激化", "两户多次争吵，一方扬言堵路", "330681109290", "fq-centre",
        dispatcher)
    assert sorted(AlertCase.objects.filter(alert=alert).values_list("case__code", flat=True)) == sorted(
        c.code for c in cases)
    assert list(AlertEvent.objects.filter(alert=alert).values_list(
        "seq", "action", "from_status", "to_status", "actor_id", "note", "data")) == [
        (1, "raise", "", "new", dispatcher.pk, "两户多次争吵，一方扬言堵路", {"severity_label": "橙", "added": 2})]
    audit = AuditEvent.objects.filter(id__gt=0).order_by("id")[audit_before:]
    assert [(a.action, a.object_type, a.object_id, a.actor_id, a.reason, a.data) for a in audit] == [
        ("alert.raise", "alert", str(alert.pk), dispatcher.pk, "两户多次争吵，一方扬言堵路",
         {"case_codes": [c.code for c in cases]})]
    page = client.get(response["Location"])
    assert "已上报风险预警（橙色）" in page.content.decode()


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": "  "}, "title", "请填写预警标题"),
    ({"title": "长" * 161}, "title", "预警标题不能超过 160 字"),
    ({"reason": ""}, "reason", "请填写预警理由"),
    ({"severity": ""}, "severity", "请选择预警等级（红、橙、黄）"),
    ({"severity": "blue"}, "severity", "请选择预警等级（红、橙、黄）"),
    ({"case_codes": ""}, "case_codes", "请至少填写一件事项编码"),
    ({"case_codes": " ，、 \n"}, "case_codes", "请至少填写一件事项编码"),
    ({"case_codes": "330681-2026-999999"}, "case_codes", "事项 330681-2026-999999 不存在或无权查看"),
])
def test_each_bad_input_gives_its_message_keeps_what_was_typed_and_writes_nothing(client, dispatcher, cases,
                                                                                   overrides, field, message):
    client.force_login(dispatcher)
    before = _counts()
    data = _form(cases, **overrides)

    response = client.post(reverse("alert_new"), data)

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    body = response.content.decode()
    assert message in body
    for name in ("title", "reason", "case_codes"):
        if data[name].strip() and len(data[name]) <= 160:
            assert data[name].strip() in body
    assert _counts() == before


@pytest.mark.parametrize("persona", ["handler", "registrar", "labour_handler", "mediator"])
def test_those_who_may_not_raise_get_403_and_nothing_is_written(client, request, cases, persona):
    client.force_login(request.getfixturevalue(persona))
    before = _counts()

    assert client.get(reverse("alert_new")).status_code == 403
    assert client.post(reverse("alert_new"), _form(cases)).status_code == 403
    assert _counts() == before


def test_a_matter_of_another_township_is_refused_to_a_township_dispatcher(client, fq_dispatcher, cases, jiyang_case):
    client.force_login(fq_dispatcher)
    before = _counts()

    response = client.post(reverse("alert_new"), _form([cases[0], jiyang_case]))

    assert response.status_code == 400
    assert response.context["form"].errors == {"case_codes": [f"事项 {jiyang_case.code} 不存在或无权查看"]}
    assert _counts() == before
    ok = client.post(reverse("alert_new"), _form(cases))
    assert ok.status_code == 302 and Alert.objects.get().region_id == "330681109290"


def test_the_codes_can_be_filled_in_from_the_address_and_the_list_offers_the_button(client, dispatcher, handler,
                                                                                     cases):
    client.force_login(dispatcher)

    page = client.get(reverse("alert_new"), {"cases": f"{cases[0].code},{cases[1].code}"})
    listing = client.get(reverse("alert_list"))

    assert page.status_code == 200
    assert page.context["form"].initial["case_codes"] == f"{cases[0].code}\n{cases[1].code}"
    assert f"{cases[0].code}\n{cases[1].code}</textarea>" in page.content.decode()
    assert reverse("alert_new") in listing.content.decode()
    client.force_login(handler)
    assert reverse("alert_new") not in client.get(reverse("alert_list")).content.decode()


def test_codes_are_split_on_lines_commas_spaces_and_enumeration_commas():
    text = "330681-2026-000001\n330681-2026-000002，330681-2026-000003、 330681-2026-000004,330681-2026-000001\n\n"

    assert parse_case_codes(text) == [f"330681-2026-00000{n}" for n in (1, 2, 3, 4)]
    assert parse_case_codes("３３０６８１－２０２６－０００００５") == ["330681-2026-000005"]


# --- the API ------------------------------------------------------------------------------------------------


def _token(name: str, unit_code: str, scopes=("alerts:write", "alerts:read")) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _post(client, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def _body(cases, **overrides) -> dict:
    return {"title": "枫源村排水沟纠纷可能激化", "severity": "red", "reason": "一方扬言堵路",
            "case_codes": [case.code for case in cases], **overrides}


def test_a_township_platforms_system_raises_an_alert(client, cases):
    fq = _token("fq-system", "fq-platform")

    response = _post(client, _body(cases), **fq)

    alert = Alert.objects.get()
    body = response.json()
    assert response.status_code == 201
    assert body == client.get(f"{URL}/{alert.pk}", **fq).json()
    assert (body["id"], body["kind"], body["severity"], body["status"], body["case_count"]) == (
        alert.pk, "manual", "red", "new", 2)
    assert sorted(body["case_codes"]) == sorted(c.code for c in cases)
    assert [(e["action"], e["actor_name"]) for e in body["events"]] == [("raise", "接口客户端 fq-system")]
    assert alert.raised_by.username == "api-client-fq-system"
    assert AuditEvent.objects.filter(action="alert.raise", object_id=str(alert.pk)).count() == 1


def test_a_replay_returns_the_same_alert_and_another_body_with_the_key_is_422(client, cases):
    fq = _token("fq-system", "fq-platform")

    first = _post(client, _body(cases), HTTP_IDEMPOTENCY_KEY="alert-1", **fq)
    replay = _post(client, _body(cases), HTTP_IDEMPOTENCY_KEY="alert-1", **fq)
    before = _counts()
    other = _post(client, _body(cases, title="另一条预警"), HTTP_IDEMPOTENCY_KEY="alert-1", **fq)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json()["id"] == first.json()["id"] and replay.content == first.content
    assert Alert.objects.count() == 1
    assert other.status_code == 422
    assert other.json() == {"code": "idempotency_key_reused", "message": "此 Idempotency-Key 已用于另一个请求"}
    assert _counts() == before


def test_the_write_scope_is_needed(client, cases):
    reader = _token("fq-reader", "fq-platform", ["alerts:read"])
    before = _counts()

    response = _post(client, _body(cases), **reader)

    assert (response.status_code, response.json()["code"]) == (403, "forbidden_scope")
    assert _counts() == before


def test_a_client_whose_account_may_not_raise_is_refused(client, cases):
    village = _token("fy-system", "fy-committee")  # a village committee does not dispatch: clerk and handler only
    before = _counts()

    response = _post(client, _body(cases), **village)

    assert (response.status_code, response.json()) == (403, {
        "code": "action_denied", "message": "只有本区域的指挥调度员、督查员或领导可以上报预警"})
    assert _counts() == before


def test_a_matter_the_client_cannot_see_is_404_like_one_that_does_not_exist(client, cases, jiyang_case):
    fq = _token("fq-system", "fq-platform")
    before = _counts()

    hidden = _post(client, _body([cases[0], jiyang_case]), HTTP_IDEMPOTENCY_KEY="alert-2", **fq)
    missing = _post(client, _body(cases, case_codes=["330681-2026-999999"]), **fq)

    assert (hidden.status_code, hidden.json()) == (404, {
        "code": "not_found", "message": f"事项 {jiyang_case.code} 不存在或无权查看"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert _counts() == before
    assert _post(client, _body(cases), HTTP_IDEMPOTENCY_KEY="alert-2", **fq).status_code == 201  # key not consumed


@pytest.mark.parametrize(("overrides", "code", "field"), [
    ({"title": " "}, "invalid_input", "title"),
    ({"reason": ""}, "invalid_input", "reason"),
    ({"severity": "blue"}, "invalid_input", "severity"),
    ({"case_codes": []}, "invalid_input", "case_codes"),
    ({"case_codes": "330681-2026-000001"}, "validation_error", None),
    ({"owner": "fq-centre"}, "validation_error", None),
    ({"title": "长" * 161}, "validation_error", None),
])
def test_a_bad_body_is_400_with_its_code_and_writes_nothing(client, cases, overrides, code, field):
    fq = _token("fq-system", "fq-platform")
    before = _counts()

    response = _post(client, _body(cases, **overrides), **fq)

    assert response.status_code == 400
    assert (response.json()["code"], response.json().get("field")) == (code, field)
    assert _counts() == before


def test_the_matter_page_links_to_raising_an_alert_over_it_for_those_who_may(client, dispatcher, registrar):
    case = make_case(registrar)
    client.force_login(dispatcher)
    page = client.get(f"/cases/{case.code}/")
    assert ("上报风险预警", f"/supervision/alerts/new/?cases={case.code}") in page.context["page_links"]
    form = client.get(f"/supervision/alerts/new/?cases={case.code}")
    assert form.context["form"].initial["case_codes"] == case.code
    client.force_login(registrar)
    assert all(label != "上报风险预警" for label, _ in client.get(f"/cases/{case.code}/").context["page_links"])
