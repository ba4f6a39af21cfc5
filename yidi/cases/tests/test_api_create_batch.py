"""Registrations of the API written together (`cases.api_create`): each request of a batch gets exactly the answer
it gets alone; a refused draft, a reused key or a failing group never spoils the others or writes anything."""

import json

import pytest

from yidi.accounts.actions import do_create_api_client, request_fingerprint
from yidi.accounts.api_auth import json_response
from yidi.accounts.models import IdempotencyRecord
from yidi.audit.models import AuditEvent
from yidi.cases import api_create
from yidi.cases.api import _draft
from yidi.cases.domain import InvalidInput
from yidi.cases.models import Case, CaseEvent, CaseLabel, CaseParty, Contact
from yidi.cases.schemas import CaseIn
from yidi.core.group_commit import RETRY_ALONE

pytestmark = pytest.mark.django_db
NEW_CASE = {
    "channel": "hotline_12345", "request_type": "complaint", "title": "拖欠工资",
    "description": "公司拖欠三个月工资共计两万元，老板拒不支付", "region": "330681109290",
    "parties": [{"role": "applicant", "name": "王小明", "phone": "13905751234"}],
}


def _client(name: str, unit_code: str):
    client, token = do_create_api_client(name=name, unit_code=unit_code,
                                         scopes=["cases:read", "cases:write", "personal:read"])
    return client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _pending(client, body: dict, key: str | None = None, ip: str = "10.0.0.1") -> api_create.PendingCreate:
    raw = json.dumps(body).encode()
    return api_create.PendingCreate(client=client, draft=_draft(CaseIn(**body)), key=key,
                                    fingerprint=request_fingerprint("POST", "/api/v1/cases", raw), source_ip=ip)


def _shown(client, code: str, headers: dict) -> dict:
    return client.get(f"/api/v1/cases/{code}", **headers).json()


def test_each_request_of_a_batch_is_answered_as_the_matter_reads_alone(client):
    fq, fq_headers = _client("fq-system", "fq-platform")
    bodies = [{**NEW_CASE, "title": f"拖欠工资{n}", "parties": [{**NEW_CASE["parties"][0], "name": f"王小{n}"}]}
              for n in range(3)]

    outcomes = api_create._write([_pending(fq, body) for body in bodies])

    assert [status for status, _ in outcomes] == [201, 201, 201]
    codes = [body["code"] for _, body in outcomes]
    assert codes == sorted(codes) and len(set(codes)) == 3  # in the batch's order, gap-free
    for _, body in outcomes:
        answered = json_response(201, body, version=body["version"])
        assert json.loads(answered.content) == _shown(client, body["code"], fq_headers)
        assert answered["ETag"] == 'W/"1"'
    assert [body["title"] for _, body in outcomes] == ["拖欠工资0", "拖欠工资1", "拖欠工资2"]
    assert [body["parties"][0]["phone"] for _, body in outcomes] == ["139****1234"] * 3  # not assigned: masked
    cases = Case.objects.filter(code__in=codes)
    assert CaseEvent.objects.filter(case__in=cases, action="register").count() == 3
    assert CaseParty.objects.filter(case__in=cases).count() == 3
    assert Contact.objects.filter(case__in=cases).count() == 3
    assert CaseLabel.objects.filter(case__in=cases).count() > 0
    assert AuditEvent.objects.filter(action="case.register", object_id__in=codes).count() == 3


def test_a_refused_draft_gets_its_own_error_and_the_others_are_written(client):
    fq, _ = _client("fq-system", "fq-platform")

    outcomes = api_create._write([
        _pending(fq, NEW_CASE), _pending(fq, {**NEW_CASE, "region": "330681001001"}, key="k-bad"),
        _pending(fq, {**NEW_CASE, "title": "第二件"}),
    ])

    assert outcomes[0][0] == 201 and outcomes[2][0] == 201
    assert isinstance(outcomes[1], InvalidInput)
    assert outcomes[1].field == "region"
    assert Case.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()  # a refused request keeps no key


def test_keys_are_stored_with_the_batch_and_a_key_seen_before_or_twice_goes_alone(client):
    fq, fq_headers = _client("fq-system", "fq-platform")
    first = client.post("/api/v1/cases", json.dumps(NEW_CASE), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="stored-1", **fq_headers)
    assert first.status_code == 201

    outcomes = api_create._write([
        _pending(fq, {**NEW_CASE, "title": "甲"}, key="new-1"),
        _pending(fq, NEW_CASE, key="stored-1"),  # a replay: answered the ordinary way
        _pending(fq, {**NEW_CASE, "title": "乙"}, key="new-1"),  # the same key twice in one batch
        _pending(fq, {**NEW_CASE, "title": "丙"}, key="new-2"),
    ])

    assert outcomes[0][0] == 201 and outcomes[3][0] == 201
    assert outcomes[1] is RETRY_ALONE and outcomes[2] is RETRY_ALONE
    assert Case.objects.count() == 3
    stored = IdempotencyRecord.objects.get(client=fq, key="new-1")
    assert stored.status_code == 201
    assert json.loads(stored.response) == outcomes[0][1]
    replay = client.post("/api/v1/cases", json.dumps({**NEW_CASE, "title": "甲"}), content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="new-1", **fq_headers)
    assert replay.status_code == 201
    assert replay.content == json_response(201, outcomes[0][1]).content
    assert Case.objects.count() == 3


def test_the_clients_of_a_batch_are_written_each_as_itself():
    fq, _ = _client("fq-system", "fq-platform")
    jy, _ = _client("jy-system", "jy-platform")

    outcomes = api_create._write([
        _pending(fq, NEW_CASE), _pending(jy, {**NEW_CASE, "region": "330681001"}), _pending(fq, NEW_CASE),
    ])

    assert [status for status, _ in outcomes] == [201, 201, 201]
    units = [Case.objects.get(code=body["code"]).registering_unit.code for _, body in outcomes]
    assert units == ["fq-platform", "jy-platform", "fq-platform"]


def test_each_audit_row_records_the_address_of_its_own_request():
    fq, _ = _client("fq-system", "fq-platform")

    outcomes = api_create._write([
        _pending(fq, NEW_CASE, ip="10.0.0.1"), _pending(fq, NEW_CASE, ip="10.0.0.2"),
        _pending(fq, NEW_CASE, ip="10.0.0.1"),
    ])

    codes = [body["code"] for _, body in outcomes]
    recorded = dict(AuditEvent.objects.filter(action="case.register", object_id__in=codes)
                    .values_list("object_id", "source_ip"))
    assert [recorded[code] for code in codes] == ["10.0.0.1", "10.0.0.2", "10.0.0.1"]


def test_a_group_that_fails_as_a_whole_writes_nothing_and_each_request_goes_alone():
    fq, _ = _client("fq-system", "fq-platform")
    fq.user.roles.all().delete()  # its account may no longer register: the whole group is refused
    fq.user._role_codes = None
    audit_rows = AuditEvent.objects.count()

    outcomes = api_create._write([_pending(fq, NEW_CASE), _pending(fq, NEW_CASE, key="k-1")])

    assert outcomes == [RETRY_ALONE, RETRY_ALONE]
    assert Case.objects.count() == 0
    assert not IdempotencyRecord.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


def test_one_by_one_when_group_commit_is_off(client, settings, monkeypatch):
    _, headers = _client("fq-system", "fq-platform")
    settings.YIDI_API_GROUP_COMMIT = False
    monkeypatch.setattr(api_create.registrations, "submit", lambda item: pytest.fail("group commit used"))

    response = client.post("/api/v1/cases", json.dumps(NEW_CASE), content_type="application/json", **headers)

    assert response.status_code == 201
    assert Case.objects.get(code=response.json()["code"]).title == "拖欠工资"
