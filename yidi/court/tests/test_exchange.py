"""Messages out to the court, written in the step's transaction, and the end-to-end exchange with the fake court:
delivered signed by the outbox, answered by the court through the API, recorded by the existing actions."""

from urllib.parse import urlsplit

import pytest

from yidi.accounts.access import ActionDenied
from yidi.cases.domain import RuleViolation
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.court.actions import do_apply_answer
from yidi.court.fake import FakeCourt
from yidi.court.models import CourtMessage
from yidi.court.tests.conftest import COURT_NAME, SECRET
from yidi.integrations.jobs import deliver_due
from yidi.integrations.models import OutboxMessage
from yidi.mediation import actions, handoffs
from yidi.mediation.builders import advance_mediation
from yidi.mediation.domain import HandOffKind, MediationStatus
from yidi.mediation.models import HandOff, JudicialConfirmation
from yidi.mediation.tests.helpers import matter_in_mediation


def deliver_court():
    """Deliver the messages to courts (the matter's text messages to parties are another test's business)."""
    return deliver_due(ids=list(OutboxMessage.objects.filter(kind="court").values_list("pk", flat=True)))


def failed_matter(registrar, dispatcher, mediator, wu):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    actions.do_record_failure(case.code, actor=mediator, reason="双方对赔偿数额分歧过大", routes_told="已告知可以向人民法院起诉")
    return case


@pytest.fixture
def wu(mediator):
    from yidi.mediation.builders import make_mediator

    return make_mediator(mediator, specialties=("neighbour",))


@pytest.fixture
def fake_court(client, court, court_client):
    def poster(url, data, headers):
        response = client.post(urlsplit(url).path, data=data, content_type="application/json",
                               headers={k: v for k, v in headers.items() if k != "Content-Type"})
        return response.status_code, response.content

    fake = FakeCourt(code="zjfy", name=COURT_NAME, secret=SECRET, yidi_url="http://testserver",
                     token=court_client.token, poster=poster).start()
    court.endpoint_url = fake.endpoint
    court.save(update_fields=["endpoint_url"])
    yield fake
    fake.stop()


def test_a_hand_off_to_a_configured_court_enqueues_the_filing_without_identity_data(
    registrar, dispatcher, mediator, wu, court,
):
    case = failed_matter(registrar, dispatcher, mediator, wu)

    handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver=COURT_NAME,
                                   reason="调解不成，当事人坚持起诉")

    message = OutboxMessage.objects.get(kind="court")
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (message.idempotency_key, message.destination, message.template) == (
        f"court:zjfy:{case.code}:{event.seq}", "zjfy", "filing")
    payload = message.payload
    assert (payload["format"], payload["type"], payload["message_id"]) == ("yidi-court/1", "filing", message.idempotency_key)
    assert payload["filing"]["handoff"] == handoff.pk
    assert payload["filing"]["claims"] == ["请求被申请人拆除杂物间、疏通排水沟", "请求赔偿厨房损失"]
    assert payload["mediation"]["failure_reason"] == "双方对赔偿数额分歧过大"
    assert payload["parties"] is None  # filled in when sent, never stored in clear text


def test_a_hand_off_to_a_court_not_configured_sends_nothing(registrar, dispatcher, mediator, wu, court):
    case = failed_matter(registrar, dispatcher, mediator, wu)

    handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver="绍兴市中级人民法院",
                         reason="调解不成，当事人坚持起诉")

    assert not OutboxMessage.objects.filter(kind="court").exists()


def test_a_refused_step_enqueues_nothing(registrar, dispatcher, mediator, wu, court):
    case = matter_in_mediation(registrar, dispatcher, mediator)

    with pytest.raises(RuleViolation):
        handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver=COURT_NAME,
                             reason="当事人坚持起诉")

    assert not OutboxMessage.objects.filter(kind="court").exists()


def test_a_referred_matter_reports_its_acceptance_and_then_its_result(registrar, dispatcher, mediator, wu, court):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    handoffs.do_record_court_referral(case.code, actor=dispatcher, kind=HandOffKind.COURT_REFERRAL_PRE_FILING,
                                      court=COURT_NAME, received_on=local_date(clock.now()),
                                      reference_number="(2026)浙0681民诉前调100号")
    advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)

    actions.do_record_failure(case.code, actor=mediator, reason="双方对赔偿数额分歧过大", routes_told="已告知可以向人民法院起诉")

    reports = [m.payload["referral"] for m in OutboxMessage.objects.filter(kind="court").order_by("id")]
    assert [(r["report"], r["state"], r["court_case_number"]) for r in reports] == [
        ("accepted", "mediating", "(2026)浙0681民诉前调100号"), ("result", "concluded", "(2026)浙0681民诉前调100号")]
    assert (reports[1]["result"]["result"], reports[1]["result"]["reason"]) == ("failure", "双方对赔偿数额分歧过大")


def test_the_fake_court_receives_the_signed_filing_and_its_acceptance_is_recorded(
    registrar, dispatcher, mediator, wu, fake_court,
):
    case = failed_matter(registrar, dispatcher, mediator, wu)
    handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver=COURT_NAME,
                                   reason="调解不成，当事人坚持起诉")

    result = deliver_court()

    assert (result.sent, result.retried, result.failed, fake_court.refused) == (1, 0, 0, [])
    [filing] = fake_court.received
    assert filing["type"] == "filing"
    assert [(p["role"], p["name"]) for p in filing["parties"]][:2] == [("applicant", "陈建国"), ("respondent", "王志强")]
    assert filing["parties"][0]["id_number"]  # the court is entitled to the full data

    [call] = fake_court.answer_pending()

    assert (call.path, call.status, call.answer["state"]) == ("/acceptances", 200, "applied")
    handoff = HandOff.objects.get(pk=handoff.pk)
    assert (handoff.status, handoff.reference_number, handoff.received_on) == (
        "received", call.message["acceptance"]["court_case_number"], local_date(clock.now()))
    assert CaseEvent.objects.filter(case=case).latest("seq").action == "record_handoff_receipt"
    # the court's retry of the same answer changes nothing and gets the same answer
    again = fake_court.post("/acceptances", call.message)
    assert (again.status, again.answer) == (200, call.answer)
    assert CourtMessage.objects.filter(case=case).count() == 1


def test_judicial_confirmation_goes_to_the_fake_court_and_its_answers_are_recorded_on_the_matter(
    registrar, dispatcher, mediator, wu, fake_court,
):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
    actions.do_request_judicial_confirmation(case.code, actor=mediator, court=COURT_NAME,
                                             applied_on=local_date(clock.now()))

    assert deliver_court().sent == 1
    [application] = fake_court.received
    assert application["type"] == "confirmation_application"
    assert application["application"]["window_days"] == 30
    assert application["agreement"]["terms"][0].startswith("被申请人王志强于2026年6月10日前")
    assert application["mediators"] == [{"name": "吴调解", "is_lead": True, "organisation": "枫源村人民调解委员会"}]

    calls = fake_court.answer_pending()

    # the court's account records both answers as the centre's command desk would
    assert [(c.path, c.status, c.answer["state"]) for c in calls] == [
        ("/acceptances", 200, "applied"), ("/rulings", 200, "applied")]
    confirmation = JudicialConfirmation.objects.get(agreement__mediation__case=case)
    number = calls[0].message["acceptance"]["court_case_number"]
    assert (confirmation.accepted_on, confirmation.number, confirmation.ruling) == (
        local_date(clock.now()), number, "confirmed")
    assert set(CourtMessage.objects.filter(case=case).values_list("state", flat=True)) == {"applied"}


def test_an_answer_the_court_may_not_record_waits_for_the_mediator(
    registrar, dispatcher, mediator, wu, fake_court, monkeypatch,
):
    from yidi.accounts import access
    from yidi.court import actions as court_actions

    case = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
    actions.do_request_judicial_confirmation(case.code, actor=mediator, court=COURT_NAME,
                                             applied_on=local_date(clock.now()))
    deliver_court()
    applied = court_actions._apply

    def refused(summary, message, case, *, actor):
        raise access.ActionDenied("法院账号无权登记")

    monkeypatch.setattr(court_actions, "_apply", refused)
    calls = fake_court.answer_pending()
    monkeypatch.setattr(court_actions, "_apply", applied)

    # nothing is lost: both answers wait for staff, the matter is unchanged
    assert [(c.path, c.status, c.answer["state"]) for c in calls] == [
        ("/acceptances", 202, "awaiting_staff"), ("/rulings", 202, "awaiting_staff")]
    confirmation = JudicialConfirmation.objects.get(agreement__mediation__case=case)
    assert (confirmation.accepted_on, confirmation.ruling) == (None, "")

    acceptance, ruling = CourtMessage.objects.filter(case=case).order_by("id")
    do_apply_answer(acceptance.pk, actor=mediator, case_code=case.code)
    do_apply_answer(ruling.pk, actor=mediator, case_code=case.code)

    confirmation = JudicialConfirmation.objects.get(pk=confirmation.pk)
    assert (confirmation.accepted_on, confirmation.number, confirmation.ruling) == (
        local_date(clock.now()), calls[0].message["acceptance"]["court_case_number"], "confirmed")
    assert set(CourtMessage.objects.filter(case=case).values_list("state", flat=True)) == {"applied"}
    assert Case.objects.get(pk=case.pk).status == "judicial_confirmation"


def test_a_court_that_does_not_answer_gets_the_message_again_later(registrar, dispatcher, mediator, wu, court):
    case = failed_matter(registrar, dispatcher, mediator, wu)
    handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver=COURT_NAME,
                         reason="调解不成，当事人坚持起诉")

    result = deliver_court()  # nobody listens on 127.0.0.1:9

    message = OutboxMessage.objects.get(kind="court")
    assert (result.retried, message.status, message.attempts) == (1, "pending", 1)
    assert message.last_error.startswith("DeliveryError: 无法连接法院接收地址")


def test_staff_who_may_not_record_the_answer_change_nothing(registrar, dispatcher, mediator, wu, fake_court,
                                                           monkeypatch):
    from yidi.accounts import access
    from yidi.court import actions as court_actions

    case = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
    actions.do_request_judicial_confirmation(case.code, actor=mediator, court=COURT_NAME,
                                             applied_on=local_date(clock.now()))
    deliver_court()
    applied = court_actions._apply
    monkeypatch.setattr(court_actions, "_apply", lambda *a, **k: (_ for _ in ()).throw(access.ActionDenied("否")))
    fake_court.answer_pending()
    monkeypatch.setattr(court_actions, "_apply", applied)
    acceptance = CourtMessage.objects.filter(case=case).order_by("id").first()

    with pytest.raises(ActionDenied):
        do_apply_answer(acceptance.pk, actor=registrar, case_code=case.code)

    assert CourtMessage.objects.get(pk=acceptance.pk).state == "awaiting_staff"
    assert JudicialConfirmation.objects.get(agreement__mediation__case=case).accepted_on is None
