"""POST /api/v1/court/referrals and GET …/referrals/{number}: a court's referral becomes a matter through the intake,
under the court's limit, idempotent on the court's case number; refusals write nothing."""

import json

from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseEvent
from yidi.court.models import CourtMessage
from yidi.court.tests.conftest import CourtApi
from yidi.court.tests.helpers import referral_message
from yidi.integrations.models import OutboxMessage
from yidi.mediation.models import HandOff


def counts() -> tuple[int, int, int, int, int]:
    return (Case.objects.count(), CaseEvent.objects.count(), AuditEvent.objects.count(), CourtMessage.objects.count(),
            OutboxMessage.objects.count())


def test_a_referral_registers_a_matter_under_the_courts_limit_and_reports_it_accepted(court_api, court):
    response = court_api.post("/referrals", referral_message())

    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(code=body["referral"]["case_code"])
    assert (case.channel.code, case.request_type, case.routed_policy, case.primary_type.code) == (
        "court_pre_filing", "mediation", "court_pre_filing", "neighbour")
    assert case.contacts.get().external_ref == "(2026)浙0681民诉前调100号"
    assert "诉讼请求：\n1. 判令被告拆除杂物间并疏通排水沟" in case.description
    handoff = HandOff.objects.get(case=case)
    assert (handoff.kind, handoff.receiver, handoff.reference_number, handoff.status) == (
        "court_referral_pre_filing", "诸暨市人民法院", "(2026)浙0681民诉前调100号", "sent")
    assert (body["format"], body["type"], body["in_reply_to"]) == ("yidi-court/1", "referral_status", "zjfy-referral-1")
    assert (body["referral"]["state"], body["referral"]["kind"]) == ("accepted", "court_referral_pre_filing")
    assert list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True)) == [
        "register", "record_court_referral"]
    stored = CourtMessage.objects.get(case=case)
    assert stored.summary["parties"][0]["id_number"] != "330681197001010016"  # kept masked
    # the court hears back that the referral was accepted (through the outbox, signed when sent)
    message = OutboxMessage.objects.get(kind="court")
    assert (message.destination, message.subject_id, message.payload["type"]) == ("zjfy", case.code, "referral_status")
    assert (message.payload["referral"]["report"], message.payload["referral"]["state"]) == ("accepted", "accepted")


def test_a_replayed_referral_answers_with_the_same_matter_and_writes_nothing(court_api, court):
    first = court_api.post("/referrals", referral_message()).json()
    before = counts()

    again = court_api.post("/referrals", referral_message())
    resent = court_api.post("/referrals", referral_message(message_id="zjfy-referral-1-retry"))

    assert (again.status_code, resent.status_code) == (201, 200)
    assert again.json() == first
    assert resent.json()["referral"]["case_code"] == first["referral"]["case_code"]
    assert counts() == before


def test_the_same_case_number_with_other_content_is_a_conflict_and_writes_nothing(court_api, court):
    court_api.post("/referrals", referral_message())
    before = counts()

    response = court_api.post("/referrals", referral_message(message_id="zjfy-referral-2", facts="另一件纠纷的事实"))

    assert response.status_code == 409
    assert response.json()["code"] == "referral_conflict"
    assert counts() == before


def test_a_message_id_reused_for_other_content_is_refused(court_api, court):
    court_api.post("/referrals", referral_message())
    before = counts()

    response = court_api.post("/referrals", referral_message("(2026)浙0681民诉前调101号"))

    assert (response.status_code, response.json()["code"]) == (409, "message_id_reused")
    assert counts() == before


def test_invalid_referrals_are_400_with_a_stable_code_and_write_nothing(court_api, court):
    before = counts()
    cases = [
        (referral_message(kind="transfer"), "invalid_field", "referral.kind"),
        (referral_message(region="110101"), "invalid_input", "region"),  # outside the centre's county
        (referral_message(mediation_type="no-such-type"), "invalid_input", "primary_type"),
        ({**referral_message(), "court": {"code": "other", "name": "别的法院"}}, "court_mismatch", None),
    ]
    for message, code, field in cases:
        response = court_api.post("/referrals", message)
        assert response.status_code == 400, message
        assert (response.json()["code"], response.json().get("field")) == (code, field)
    response = court_api.post("/referrals", None, raw=b'{"format": ')
    assert (response.status_code, response.json()["code"]) == (400, "malformed_json")
    assert counts() == before


def test_a_bad_signature_is_refused_before_reading_the_body(court_api, court):
    before = counts()

    response = court_api.post("/referrals", referral_message(), secret="not-the-court-secret-000")

    assert (response.status_code, response.json()["code"]) == (401, "invalid_signature")
    assert counts() == before


def test_a_client_without_a_court_or_without_the_scope_is_refused(client, court):
    from yidi.accounts.actions import do_create_api_client

    _, token = do_create_api_client(name="other-court", unit_code="centre", scopes=["court:exchange"])
    _, reader_token = do_create_api_client(name="reader", unit_code="centre", scopes=["cases:read"])

    response = CourtApi(client, token).post("/referrals", referral_message())
    assert (response.status_code, response.json()["code"]) == (403, "court_not_configured")
    response = CourtApi(client, reader_token).post("/referrals", referral_message())
    assert (response.status_code, response.json()["code"]) == (403, "forbidden_scope")
    assert Case.objects.count() == 0


def test_the_status_of_a_referral_is_read_by_the_courts_case_number(court_api, court):
    created = court_api.post("/referrals", referral_message()).json()

    response = court_api.get("/referrals/(2026)浙0681民诉前调100号")
    missing = court_api.get("/referrals/(2026)浙0681民诉前调999号")

    assert response.status_code == 200
    body = response.json()
    assert body["referral"]["case_code"] == created["referral"]["case_code"]
    assert (body["referral"]["state"], body["referral"]["state_label"], body["referral"]["result"]) == (
        "accepted", "已接收", None)
    assert body["referral"]["due_at"] is not None
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert "330681197001010016" not in json.dumps(body)
