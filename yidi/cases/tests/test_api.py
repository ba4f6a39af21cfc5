"""The native API for matters: scope, masking, idempotent create, ETag/If-Match, bad input, OpenAPI and docs."""

import json

import pytest
from django.test import override_settings

from yidi.accounts.actions import do_create_api_client
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent
from yidi.cases.tests.helpers import snapshot
from yidi.core.pagination import capped_count
from yidi.security.leaks import allow_personal_data

pytestmark = pytest.mark.django_db
ALL_SCOPES = ["cases:read", "cases:write", "cases:act", "personal:read", "reference:read"]
NEW_CASE = {
    "channel": "walk_in", "request_type": "mediation", "title": "枫源村两户排水沟纠纷",
    "description": "邻居加盖杂物间堵住共用排水沟，请求调解。", "region": "330681109290",
    "parties": [{"role": "applicant", "name": "陈建国", "phone": "13805751234"}],
}


def _token(name: str, unit_code: str, scopes=ALL_SCOPES) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def fq(db):
    """A system of 枫桥镇's platform (the township's own case system) with every scope."""
    return _token("fq-system", "fq-platform")


@pytest.fixture
def jy(db):
    """A system of 暨阳街道's platform: another township."""
    return _token("jy-system", "jy-platform")


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body) if not isinstance(body, bytes | str) else body,
                       content_type="application/json", **headers)


# --- reading ----------------------------------------------------------------------------------------------


def test_list_holds_only_the_matters_in_the_clients_scope_paginated(client, registrar, fq, jy,
                                                                     django_assert_num_queries):
    codes = [make_case(registrar).code for _ in range(3)]

    client.get("/api/v1/cases", **fq)  # the first request also writes `last_used_at` (then once a minute)
    # the client, its rate window (savepoint, lock, count, release), its service account's roles, the count, the page
    with django_assert_num_queries(8):
        first = client.get("/api/v1/cases?page=1&page_size=2", **fq).json()
    second = client.get("/api/v1/cases?page=2&page_size=2", **fq).json()
    other = client.get("/api/v1/cases", **jy).json()

    assert (first["count"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [c["code"] for c in first["results"] + second["results"]] == list(reversed(codes))
    assert other == {"count": 0, "count_is_capped": False, "page": 1, "page_size": 20, "next_cursor": None,
                     "results": []}


def test_the_count_stops_at_the_cap_and_the_pages_go_on_past_it(client, registrar, fq, monkeypatch):
    codes = [make_case(registrar).code for _ in range(3)]
    monkeypatch.setattr("yidi.cases.api.capped_count", lambda rows: capped_count(rows, cap=2))

    first = client.get("/api/v1/cases?page=1&page_size=2", **fq).json()
    second = client.get("/api/v1/cases?page=2&page_size=2", **fq).json()

    assert (first["count"], first["count_is_capped"], second["count"], second["count_is_capped"]) == (2, True, 2, True)
    assert [c["code"] for c in first["results"] + second["results"]] == list(reversed(codes))


def test_page_size_above_100_is_refused(client, fq):
    response = client.get("/api/v1/cases?page_size=101", **fq)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["details"][0]["loc"][-1] == "page_size"


def test_list_filters_by_status_and_region(client, registrar, dispatcher, fq):
    accepted = make_case(registrar)
    actions.do_accept_case(accepted.code, actor=dispatcher)
    make_case(registrar)

    by_status = client.get("/api/v1/cases?status=accepted", **fq).json()
    elsewhere = client.get("/api/v1/cases?region=330681001", **fq).json()

    assert [c["code"] for c in by_status["results"]] == [accepted.code]
    assert elsewhere["count"] == 0


def test_detail_masks_parties_by_default_and_sends_an_etag(client, registrar, fq):
    case = make_case(registrar)
    audit_rows = AuditEvent.objects.count()

    response = client.get(f"/api/v1/cases/{case.code}", **fq)

    body = response.json()
    assert response.status_code == 200
    assert response["ETag"] == 'W/"1"'
    assert body["personal_data"] == "masked"
    assert [(p["name"], p["id_number"], p["phone"], p["address"]) for p in body["parties"]] == [
        ("陈建国", "330***********0017", "138****1234", "诸暨市枫桥镇***"),
        ("王志强", "", "139****9876", "诸暨市枫桥镇***"),
    ]
    assert AuditEvent.objects.count() == audit_rows


def test_full_parties_only_with_personal_read_while_the_unit_is_assigned_and_audited(client, registrar, dispatcher,
                                                                                    fq):
    case = make_case(registrar)
    actions.do_accept_case(case.code, actor=dispatcher)
    actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform", override_reason="由调度员指定")
    without_scope = _token("fq-reader", "fq-platform", ["cases:read"])

    with allow_personal_data("api_case"):
        full = client.get(f"/api/v1/cases/{case.code}", **fq).json()
        masked = client.get(f"/api/v1/cases/{case.code}", **without_scope).json()

    assert full["personal_data"] == "full"
    assert [(p["id_number"], p["phone"]) for p in full["parties"]] == [
        ("330681198003150017", "13805751234"), ("", "13905759876")]
    assert masked["personal_data"] == "masked"
    reads = AuditEvent.objects.filter(action="case.personal_data_read", object_id=case.code)
    assert [(r.actor_username, r.fields) for r in reads] == [
        ("api-client-fq-system", ["name", "id_number", "phone", "address"])]


def test_a_matter_out_of_scope_is_404_exactly_like_a_missing_one(client, registrar, jy):
    case = make_case(registrar)

    denied = client.get(f"/api/v1/cases/{case.code}", **jy)
    missing = client.get("/api/v1/cases/330681-2099-999999", **jy)

    assert (denied.status_code, missing.status_code) == (404, 404)
    assert denied.content == missing.content
    assert denied.json() == {"code": "not_found", "message": "事项不存在或无权查看"}


def test_an_action_on_a_matter_out_of_scope_is_404_and_changes_nothing(client, registrar, jy):
    case = make_case(registrar)
    before = snapshot(case)

    denied = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, HTTP_IF_MATCH='W/"1"', **jy)
    missing = _post(client, "/api/v1/cases/330681-2099-999999/actions/accept", {}, HTTP_IF_MATCH='W/"1"', **jy)

    assert (denied.status_code, missing.status_code) == (404, 404)
    assert denied.content == missing.content
    assert snapshot(case) == before


# --- creating -----------------------------------------------------------------------------------------------


def test_create_registers_a_matter_for_the_clients_unit(client, fq):
    response = _post(client, "/api/v1/cases", NEW_CASE, **fq)

    body = response.json()
    case = Case.objects.get(code=body["code"])
    assert response.status_code == 201
    assert response["ETag"] == 'W/"1"'
    assert (case.status, case.registering_unit.code, case.registered_by.username) == (
        "registered", "fq-platform", "api-client-fq-system")
    assert body["parties"][0]["phone"] == "138****1234"
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_replayed_create_returns_the_first_response_and_registers_once(client, fq):
    first = _post(client, "/api/v1/cases", NEW_CASE, HTTP_IDEMPOTENCY_KEY="c0ffee-1", **fq)
    replay = _post(client, "/api/v1/cases", NEW_CASE, HTTP_IDEMPOTENCY_KEY="c0ffee-1", **fq)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content
    assert Case.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_registers_nothing(client, fq):
    _post(client, "/api/v1/cases", NEW_CASE, HTTP_IDEMPOTENCY_KEY="c0ffee-2", **fq)

    response = _post(client, "/api/v1/cases", {**NEW_CASE, "title": "另一件事"}, HTTP_IDEMPOTENCY_KEY="c0ffee-2", **fq)

    assert response.status_code == 422
    assert response.json() == {"code": "idempotency_key_reused", "message": "此 Idempotency-Key 已用于另一个请求"}
    assert Case.objects.count() == 1


def test_a_refused_create_does_not_consume_its_key(client, fq):
    bad = _post(client, "/api/v1/cases", {**NEW_CASE, "region": "330681001001"}, HTTP_IDEMPOTENCY_KEY="k-3", **fq)
    good = _post(client, "/api/v1/cases", {**NEW_CASE, "region": "330681001001"}, HTTP_IDEMPOTENCY_KEY="k-3", **fq)

    assert (bad.status_code, good.status_code) == (400, 400)
    assert bad.json()["code"] == "invalid_input"
    assert bad.json()["field"] == "region"
    assert Case.objects.count() == 0


def test_create_needs_the_write_scope(client):
    reader = _token("reader", "fq-platform", ["cases:read"])

    response = _post(client, "/api/v1/cases", NEW_CASE, **reader)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden_scope"
    assert Case.objects.count() == 0


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "malformed_json"),
    ({**NEW_CASE, "people_involved": "many"}, 400, "validation_error"),
    ({**NEW_CASE, "is_urgent": "yes"}, 400, "validation_error"),
    ({**NEW_CASE, "status": "closed"}, 400, "validation_error"),  # unknown field: no mass assignment
    ({**NEW_CASE, "occurred_at": "2026-02-30T10:00:00+08:00"}, 400, "validation_error"),
    ({**NEW_CASE, "occurred_at": "2999-01-01T10:00:00+08:00"}, 400, "validation_error"),
    ({**NEW_CASE, "occurred_at": "2026-01-01T10:00:00"}, 400, "validation_error"),  # no time zone
    ({**NEW_CASE, "occurred_at": "2026-01-01T10:00:00+16:57"}, 400, "validation_error"),  # no such offset
    ({**NEW_CASE, "title": "x" * 121}, 400, "validation_error"),
    ([NEW_CASE], 400, "validation_error"),
])
def test_bad_input_is_400_in_the_error_format_and_writes_nothing(client, fq, body, status, code):
    response = _post(client, "/api/v1/cases", body, **fq)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert isinstance(response.json()["message"], str)
    assert Case.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_oversized_body_is_413_and_writes_nothing(client, fq):
    response = _post(client, "/api/v1/cases", {**NEW_CASE, "description": "很长" * 1000}, **fq)

    assert response.status_code == 413
    assert response.json() == {"code": "payload_too_large", "message": "请求内容过大"}
    assert Case.objects.count() == 0


# --- acting (If-Match) --------------------------------------------------------------------------------------


def test_an_action_with_the_current_etag_runs_and_returns_the_new_one(client, registrar, dispatcher, fq):
    case = make_case(registrar)
    actions.do_accept_case(case.code, actor=dispatcher)
    actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform", override_reason="由调度员指定")
    with allow_personal_data("api_case", "api_case_action"):  # the unit is assigned: parties in full
        etag = client.get(f"/api/v1/cases/{case.code}", **fq)["ETag"]
        response = _post(client, f"/api/v1/cases/{case.code}/actions/sign", {}, HTTP_IF_MATCH=etag, **fq)

    assert (etag, response.status_code, response["ETag"], response.json()["status"]) == (
        'W/"3"', 200, 'W/"4"', "signed")
    assert CaseEvent.objects.filter(case=case, action="sign").count() == 1


def test_a_stale_if_match_is_412_and_changes_nothing(client, registrar, fq):
    case = make_case(registrar)
    before = snapshot(case)

    response = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, HTTP_IF_MATCH='W/"7"', **fq)

    assert response.status_code == 412
    assert response.json() == {"code": "precondition_failed", "message": "事项已被他人修改，请重新读取后再操作"}
    assert snapshot(case) == before


def test_an_action_without_if_match_is_428_and_changes_nothing(client, registrar, fq):
    case = make_case(registrar)
    before = snapshot(case)

    response = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, **fq)

    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert snapshot(case) == before


def test_refused_actions_are_409_403_400_and_change_nothing(client, registrar, dispatcher, fq):
    case = make_case(registrar)
    actions.do_accept_case(case.code, actor=dispatcher)
    before = snapshot(case)

    illegal = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, HTTP_IF_MATCH='W/"2"', **fq)
    not_lead = _post(client, f"/api/v1/cases/{case.code}/actions/sign", {}, HTTP_IF_MATCH='W/"2"', **fq)
    no_mode = _post(client, f"/api/v1/cases/{case.code}/actions/start_handling", {}, HTTP_IF_MATCH='W/"2"', **fq)
    unknown = _post(client, f"/api/v1/cases/{case.code}/actions/archive", {}, HTTP_IF_MATCH='W/"2"', **fq)

    assert illegal.json() == {"code": "illegal_transition", "message": "当前状态“待交办”下不能执行“受理”"}
    assert illegal.status_code == 409
    assert (not_lead.status_code, not_lead.json()) == (
        403, {"code": "action_denied", "message": "只有当前主办单位可以执行此操作"})
    assert (no_mode.status_code, no_mode.json()["code"], no_mode.json()["details"][0]["loc"][-1]) == (
        400, "validation_error", "mode")
    assert unknown.status_code == 404  # no such action route
    assert snapshot(case) == before


def test_an_action_needs_the_act_scope(client, registrar):
    writer = _token("writer", "fq-platform", ["cases:read", "cases:write"])
    case = make_case(registrar)
    before = snapshot(case)

    response = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, HTTP_IF_MATCH='W/"1"', **writer)

    assert (response.status_code, response.json()["code"]) == (403, "forbidden_scope")
    assert snapshot(case) == before


# --- reference data, OpenAPI, docs ---------------------------------------------------------------------------


def test_reference_data(client, fq):
    channels = client.get("/api/v1/reference/channels", **fq).json()
    taxonomy = client.get("/api/v1/reference/taxonomies/mediation_type", **fq).json()
    townships = client.get("/api/v1/reference/regions?parent=330681", **fq).json()
    missing = client.get("/api/v1/reference/taxonomies/nope", **fq)

    assert {"code": "walk_in", "name": "窗口来访", "group": "walk_in"} in channels
    assert {"code": "neighbour", "name": "邻里纠纷"} in taxonomy["labels"]
    assert {r["code"] for r in townships} >= {"330681109", "330681001"}
    assert all(r["parent"] == "330681" for r in townships)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_openapi_document_lists_every_endpoint(client):
    response = client.get("/api/v1/openapi.json")

    schema = response.json()
    assert response.status_code == 200
    assert schema["openapi"].startswith("3.")
    actions = ("accept", "decline", "assign", "sign", "return", "start_handling", "divert", "conclude", "close",
               "reopen", "escalate", "request_transfer", "accept_transfer", "refuse_transfer", "record_consultation",
               "mark_urgent", "request_extension", "decide_extension", "pause_deadline", "resume_deadline",
               "resolve_on_spot")
    ours = {path for path in schema["paths"] if path.startswith(("/api/v1/cases", "/api/v1/reference"))}
    assert ours == {
        "/api/v1/cases", "/api/v1/cases/overdue", "/api/v1/cases/{code}", "/api/v1/cases/{code}/contacts",
        "/api/v1/cases/{code}/visits", "/api/v1/cases/{code}/deadlines", "/api/v1/cases/{code}/mediations",
        "/api/v1/cases/{code}/evaluations", "/api/v1/cases/{code}/return-visits",
        "/api/v1/cases/{code}/return-visits/{visit_id}",
        *(f"/api/v1/cases/{{code}}/actions/{action}" for action in actions),
        "/api/v1/reference/channels", "/api/v1/reference/taxonomies/{code}", "/api/v1/reference/regions",
    }
    assert set(schema["paths"]["/api/v1/cases"]) == {"get", "post"}
    assert schema["components"]["securitySchemes"]["ClientToken"] == {"type": "http", "scheme": "bearer"}


def test_docs_page_loads_only_local_assets_under_the_strict_csp(client):
    response = client.get("/api/v1/docs")

    html = response.content.decode()
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui-init.js" in html
    assert '"validatorUrl": null' in html
    # the only inline <script> is a JSON data block, which CSP does not execute
    assert html.count("<script") == 3 and 'type="application/json"' in html
