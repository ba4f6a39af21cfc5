"""The native API's contacts and visits: a repeated call or a new complaint about a matter, and the person's visits —
created once per Idempotency-Key, listed page by page."""

import json

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent, Contact, Person, Visit
from yidi.cases.tests.helpers import snapshot

pytestmark = pytest.mark.django_db
SCOPES = ["cases:read", "contacts:write"]
CALL = {"channel": "hotline_12345", "summary": "再次来电：排水沟仍未疏通，联系电话13805751234", "external_ref": "ZJ-2026-0001"}


def _token(name: str, unit_code: str, scopes=SCOPES) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def fq(db):
    return _token("fq-system", "fq-platform")


def test_a_repeated_call_is_kept_as_a_contact_with_one_event(client, fq, registrar):
    case = make_case(registrar)

    response = _post(client, f"/api/v1/cases/{case.code}/contacts", CALL, **fq)

    contact = Contact.objects.filter(case=case).latest("id")
    body = response.json()
    assert response.status_code == 201
    assert body == {
        "id": contact.pk, "channel": {"code": "hotline_12345", "name": "12345热线"},
        "contacted_at": body["contacted_at"], "summary": "再次来电：排水沟仍未疏通，联系电话138****1234",
        "external_ref": "ZJ-2026-0001", "case_version": 2,
    }
    assert response["ETag"] == 'W/"2"'
    assert Case.objects.get(pk=case.pk).version == 2
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.action, event.data, event.actor.username) == (
        "add_contact", {"channel": "hotline_12345"}, "api-client-fq-system")
    assert AuditEvent.objects.filter(action="case.add_contact", object_id=case.code).count() == 1


def test_a_new_complaint_by_another_person_indexes_that_person(client, fq, registrar):
    case = make_case(registrar)
    body = {**CALL, "party": {"role": "third_party", "name": "楼国庆", "phone": "13905750001"}}

    response = _post(client, f"/api/v1/cases/{case.code}/contacts", body, **fq)

    assert response.status_code == 201
    assert Contact.objects.get(pk=response.json()["id"]).person.name == "楼国庆"


def test_a_replayed_contact_is_kept_once_and_another_body_with_the_key_is_422(client, fq, registrar):
    case = make_case(registrar)
    url = f"/api/v1/cases/{case.code}/contacts"

    first = _post(client, url, CALL, HTTP_IDEMPOTENCY_KEY="call-1", **fq)
    replay = _post(client, url, CALL, HTTP_IDEMPOTENCY_KEY="call-1", **fq)
    other = _post(client, url, {**CALL, "summary": "第三次来电"}, HTTP_IDEMPOTENCY_KEY="call-1", **fq)

    assert (first.status_code, replay.status_code, replay.content) == (201, 201, first.content)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Contact.objects.filter(case=case).count() == 2  # the registration's and this one


@pytest.mark.parametrize(("body", "code", "field"), [
    ({**CALL, "channel": "carrier_pigeon"}, "invalid_input", "channel"),
    ({**CALL, "summary": "   "}, "invalid_input", "summary"),
    ({**CALL, "party": {"role": "third_party", "name": "楼国庆", "phone": "123"}}, "invalid_input", "parties-0-phone"),
    ({**CALL, "merge": True}, "validation_error", "merge"),
    ({"channel": "hotline_12345"}, "validation_error", "summary"),
])
def test_a_bad_contact_is_400_and_changes_nothing(client, fq, registrar, body, code, field):
    case = make_case(registrar)
    before = snapshot(case)
    people = Person.objects.count()

    response = _post(client, f"/api/v1/cases/{case.code}/contacts", body, **fq)

    error = response.json()
    assert (response.status_code, error["code"]) == (400, code)
    assert (error.get("field") or error["details"][0]["loc"][-1]) == field
    assert snapshot(case) == before
    assert Person.objects.count() == people


def test_contacts_need_their_scope_and_a_matter_in_scope(client, fq, registrar):
    reader = _token("fq-reader", "fq-platform", ["cases:read"])
    jy = _token("jy-system", "jy-platform")
    case = make_case(registrar)
    before = snapshot(case)

    no_scope = _post(client, f"/api/v1/cases/{case.code}/contacts", CALL, **reader)
    elsewhere = _post(client, f"/api/v1/cases/{case.code}/contacts", CALL, **jy)
    elsewhere_list = client.get(f"/api/v1/cases/{case.code}/contacts", **jy)

    assert (no_scope.status_code, no_scope.json()["code"]) == (403, "forbidden_scope")
    assert (elsewhere.status_code, elsewhere_list.status_code) == (404, 404)
    assert snapshot(case) == before


def test_contacts_are_listed_oldest_first_page_by_page(client, fq, registrar, django_assert_num_queries):
    case = make_case(registrar)
    _post(client, f"/api/v1/cases/{case.code}/contacts", CALL, **fq)
    _post(client, f"/api/v1/cases/{case.code}/contacts", {**CALL, "summary": "第三次来电"}, **fq)

    with django_assert_num_queries(9):  # client, rate window ×4, roles, the matter, the count, the page
        first = client.get(f"/api/v1/cases/{case.code}/contacts?page=1&page_size=2", **fq).json()
    second = client.get(f"/api/v1/cases/{case.code}/contacts?page=2&page_size=2", **fq).json()

    assert (first["count"], first["page"], first["page_size"]) == (3, 1, 2)
    assert [c["summary"][:4] for c in first["results"] + second["results"]] == ["来访人陈", "再次来电", "第三次来"]
    assert {c["case_version"] for c in first["results"]} == {3}


# --- visits ---------------------------------------------------------------------------------------------------------


def test_a_visit_is_recorded_and_listed(client, fq, registrar):
    case = make_case(registrar)  # registered in person: one visit at the centre

    response = _post(client, f"/api/v1/cases/{case.code}/visits", {"place": "枫桥镇综治工作平台", "purpose": "补充材料"},
                     HTTP_IDEMPOTENCY_KEY="visit-1", **fq)
    listed = client.get(f"/api/v1/cases/{case.code}/visits", **fq).json()

    visit = Visit.objects.filter(case=case).latest("id")
    assert response.status_code == 201
    assert response.json() == {
        "id": visit.pk, "place": "枫桥镇综治工作平台", "unit": {"code": "fq-platform", "name": "枫桥镇综治工作平台"},
        "visited_at": response.json()["visited_at"], "purpose": "补充材料", "case_version": 2,
    }
    assert response["ETag"] == 'W/"2"'
    assert [(v["place"], v["unit"]["code"]) for v in listed["results"]] == [
        ("诸暨市社会矛盾纠纷调处化解中心", "centre"), ("枫桥镇综治工作平台", "fq-platform")]
    assert CaseEvent.objects.filter(case=case, action="record_visit").count() == 1


def test_a_visit_without_a_place_is_400_and_changes_nothing(client, fq, registrar):
    case = make_case(registrar)
    before = snapshot(case)

    blank = _post(client, f"/api/v1/cases/{case.code}/visits", {"place": " "}, **fq)
    too_long = _post(client, f"/api/v1/cases/{case.code}/visits", {"place": "地" * 121}, **fq)

    assert (blank.status_code, blank.json()["code"], blank.json()["field"]) == (400, "invalid_input", "place")
    assert (too_long.status_code, too_long.json()["code"]) == (400, "validation_error")
    assert snapshot(case) == before
