"""The native API's evaluations and return visits: reads (cases:read) and writes (evaluations:write, If-Match)."""

import json

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Case, CaseEvent
from yidi.evaluation.models import Evaluation, ReturnVisit
from yidi.evaluation.tests.helpers import at, full_snapshot, hotline_matter

pytestmark = pytest.mark.django_db
WHEN = at(2026, 4, 30, 10, 0)
VISIT = {"method": "phone", "summary": "电话回访，群众表示排水沟已疏通", "performance": "not_applicable",
         "satisfaction": "satisfied"}


def _token(name: str, unit_code: str, scopes=("cases:read", "evaluations:write")) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _post(client, url, body, version, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=f'W/"{version}"',
                       **headers)


@pytest.fixture
def fq(db):
    return _token("fq-system", "fq-platform")


@pytest.fixture
def closed(registrar, dispatcher, handler):
    """A 12345 matter closed by 枫桥镇's platform, its return visit scheduled by rule."""
    return hotline_matter(registrar, dispatcher, handler, when=WHEN)


def _version(case) -> int:
    return Case.objects.get(pk=case.pk).version


# --- reads ---------------------------------------------------------------------------------------------------------


def test_the_return_visits_of_a_matter(client, fq, closed):
    visit = ReturnVisit.objects.get(case=closed)

    response = client.get(f"/api/v1/cases/{closed.code}/return-visits", **fq)

    assert response.status_code == 200
    assert response.json() == {"code": closed.code, "return_visits": [{
        "id": visit.pk, "round": 1, "due_on": visit.due_on.isoformat(), "status": "scheduled",
        "status_label": "待回访", "unit": {"code": "fq-platform", "name": "枫桥镇综治工作平台"}, "is_follow_up": False,
        "done_at": None, "method": "", "method_label": "", "performance": "", "performance_label": "",
        "satisfaction": "", "satisfaction_label": "", "lawsuit": "", "lawsuit_label": "", "risk_remaining": False,
        "risk_disposed_at": None, "summary": "", "cancelled_at": None, "cancel_reason": "",
    }]}


def test_evaluations_are_listed_by_round(client, fq, closed):
    before = client.get(f"/api/v1/cases/{closed.code}/evaluations", **fq).json()
    _post(client, f"/api/v1/cases/{closed.code}/evaluations", {"result": "basically_satisfied", "method": "window"},
          _version(closed), **fq)

    after = client.get(f"/api/v1/cases/{closed.code}/evaluations", **fq).json()

    assert before == {"code": closed.code, "round": 1, "evaluations": []}
    assert [(e["round"], e["result"], e["result_label"], e["method"], e["method_label"], e["on_behalf"])
            for e in after["evaluations"]] == [(1, "basically_satisfied", "基本满意", "window", "窗口代为评价", True)]


# --- recording an evaluation -------------------------------------------------------------------------------------


def test_an_evaluation_is_recorded_on_the_persons_behalf(client, fq, closed):
    version = _version(closed)

    response = _post(client, f"/api/v1/cases/{closed.code}/evaluations",
                     {"result": "satisfied", "note": "办事效率高，电话13805751234", "method": "phone"}, version, **fq)

    body = response.json()
    row = Evaluation.objects.get(case=closed)
    case = Case.objects.get(pk=closed.pk)
    assert response.status_code == 201
    assert body == {
        "round": 1, "result": "satisfied", "result_label": "满意", "note": "办事效率高，电话138****1234",
        "method": "phone", "method_label": "电话代为评价", "on_behalf": True, "recorded_at": body["recorded_at"],
        "review_state": "", "review_state_label": "",
        "case": {"code": closed.code, "status": "closed", "status_label": "已办结", "version": case.version},
    }
    assert response["ETag"] == f'W/"{case.version}"' and case.version == version + 1
    assert (row.result, row.method, row.recorded_by.username) == ("satisfied", "phone", "api-client-fq-system")
    assert CaseEvent.objects.filter(case=closed, action="evaluate").count() == 1


def test_a_dissatisfied_evaluation_reopens_the_matter_by_rule(client, fq, closed):
    response = _post(client, f"/api/v1/cases/{closed.code}/evaluations",
                     {"result": "dissatisfied", "note": "排水沟又堵了", "method": "phone"}, _version(closed), **fq)

    body = response.json()
    assert (response.status_code, body["review_state"], body["review_state_label"]) == (201, "auto_reopened", "已自动重办")
    assert (body["case"]["status"], Case.objects.get(pk=closed.pk).status) == ("in_progress", "in_progress")


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"result": "dissatisfied", "method": "phone"}, 400, "invalid_input", "note"),
    ({"result": "satisfied", "method": "online"}, 400, "validation_error", "method"),
    ({"result": "great", "method": "phone"}, 400, "validation_error", "result"),
    ({"result": "satisfied", "method": "phone", "person": 1}, 400, "validation_error", "person"),
])
def test_a_bad_evaluation_is_400_and_changes_nothing(client, fq, closed, body, status, code, field):
    before = full_snapshot(closed)

    response = _post(client, f"/api/v1/cases/{closed.code}/evaluations", body, _version(closed), **fq)

    error = response.json()
    assert (response.status_code, error["code"]) == (status, code)
    assert (error.get("field") or error["details"][0]["loc"][-1]) == field
    assert full_snapshot(closed) == before


def test_a_second_evaluation_of_the_round_is_409(client, fq, closed):
    url = f"/api/v1/cases/{closed.code}/evaluations"
    _post(client, url, {"result": "satisfied", "method": "phone"}, _version(closed), **fq)
    before = full_snapshot(closed)

    again = _post(client, url, {"result": "basically_satisfied", "method": "phone"}, _version(closed), **fq)

    assert (again.status_code, again.json()["code"]) == (409, "rule_violation")
    assert full_snapshot(closed) == before


def test_an_evaluation_needs_its_scope_if_match_and_a_matter_in_scope(client, fq, closed):
    reader = _token("fq-reader", "fq-platform", ["cases:read"])
    jy = _token("jy-system", "jy-platform")
    url = f"/api/v1/cases/{closed.code}/evaluations"
    body = {"result": "satisfied", "method": "phone"}
    before = full_snapshot(closed)

    no_scope = _post(client, url, body, _version(closed), **reader)
    elsewhere = _post(client, url, body, _version(closed), **jy)
    stale = _post(client, url, body, 1, **fq)
    missing = client.post(url, json.dumps(body), content_type="application/json", **fq)

    assert (no_scope.status_code, no_scope.json()["code"]) == (403, "forbidden_scope")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "not_found")
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert full_snapshot(closed) == before


def test_a_replayed_evaluation_returns_the_first_answer(client, fq, closed):
    url = f"/api/v1/cases/{closed.code}/evaluations"
    version = _version(closed)
    body = {"result": "satisfied", "method": "phone"}

    first = _post(client, url, body, version, HTTP_IDEMPOTENCY_KEY="eval-1", **fq)
    replay = _post(client, url, body, version, HTTP_IDEMPOTENCY_KEY="eval-1", **fq)

    assert (first.status_code, replay.status_code, replay.content) == (201, 201, first.content)
    assert Evaluation.objects.filter(case=closed).count() == 1


# --- recording a return visit --------------------------------------------------------------------------------------


def test_a_scheduled_return_visit_is_recorded_and_its_satisfaction_evaluates(client, fq, closed):
    visit = ReturnVisit.objects.get(case=closed)
    version = _version(closed)

    response = _post(client, f"/api/v1/cases/{closed.code}/return-visits/{visit.pk}", VISIT, version, **fq)

    body = response.json()
    case = Case.objects.get(pk=closed.pk)
    assert response.status_code == 200, body
    assert (body["id"], body["status"], body["status_label"], body["method_label"], body["satisfaction_label"]) == (
        visit.pk, "done", "已回访", "电话回访", "满意")
    assert body["summary"] == "电话回访，群众表示排水沟已疏通"
    assert body["case"] == {"code": closed.code, "status": "closed", "status_label": "已办结", "version": case.version}
    assert response["ETag"] == f'W/"{case.version}"'
    assert Evaluation.objects.get(case=closed).method == "return_visit"
    assert CaseEvent.objects.filter(case=closed, action="record_return_visit").count() == 1


def test_a_return_visit_of_another_matter_is_404_and_changes_nothing(client, fq, closed, registrar, dispatcher,
                                                                    handler):
    other = hotline_matter(registrar, dispatcher, handler, when=WHEN)
    foreign = ReturnVisit.objects.get(case=other)
    before = full_snapshot(closed), full_snapshot(other)

    response = _post(client, f"/api/v1/cases/{closed.code}/return-visits/{foreign.pk}", VISIT, _version(closed),
                     **fq)

    assert (response.status_code, response.json()) == (404, {"code": "not_found", "message": "回访不存在或无权查看"})
    assert (full_snapshot(closed), full_snapshot(other)) == before


@pytest.mark.parametrize(("body", "code", "field"), [
    ({**VISIT, "lawsuit": "filed_suit"}, "invalid_input", "lawsuit_note"),
    ({**VISIT, "risk_remaining": True}, "invalid_input", "risk_signs"),
    ({**VISIT, "method": "pigeon"}, "validation_error", "method"),
    ({**VISIT, "risk_remaining": "yes"}, "validation_error", "risk_remaining"),
])
def test_a_bad_return_visit_is_400_and_changes_nothing(client, fq, closed, body, code, field):
    visit = ReturnVisit.objects.get(case=closed)
    before = full_snapshot(closed)

    response = _post(client, f"/api/v1/cases/{closed.code}/return-visits/{visit.pk}", body, _version(closed), **fq)

    error = response.json()
    assert (response.status_code, error["code"]) == (400, code)
    assert (error.get("field") or error["details"][0]["loc"][-1]) == field
    assert full_snapshot(closed) == before


def test_a_matter_without_a_scheduled_visit_takes_the_lifecycle_step(client, fq, registrar, dispatcher, handler):
    concluded = hotline_matter(registrar, dispatcher, handler, status=CaseStatus.CONCLUDED, when=WHEN)
    version = _version(concluded)

    response = _post(client, f"/api/v1/cases/{concluded.code}/return-visits", {"summary": "电话回访，已解决"}, version,
                     **fq)

    case = Case.objects.get(pk=concluded.pk)
    assert (response.status_code, response.json()) == (200, {
        "code": case.code, "status": "return_visited", "status_label": "已回访", "version": case.version})
    assert CaseEvent.objects.filter(case=case, action="record_return_visit").count() == 1
