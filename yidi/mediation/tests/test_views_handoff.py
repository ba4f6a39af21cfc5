"""The 对接移送 section of the mediation page: hand off from the page, record what comes back, download the
package (zip, audited); refusals are shown on the form and change nothing; outsiders get 404."""

import io
import zipfile

from django.utils import timezone

from yidi.audit.models import AuditEvent
from yidi.cases.models import Case
from yidi.mediation import actions, handoffs
from yidi.mediation.builders import advance_mediation
from yidi.mediation.domain import HandOffKind, MediationStatus
from yidi.mediation.models import HandOff
from yidi.mediation.tests.helpers import mediation_snapshot
from yidi.security.leaks import allow_personal_data


def handoff_post(client, case, action, data):
    return client.post(f"/mediation/cases/{case.code}/handoffs/{action}/", data)


def failed(case, mediator, wu):
    advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    actions.do_record_failure(case.code, actor=mediator, reason="分歧过大", routes_told="已告知可以起诉")
    return case


def test_the_lead_unit_hands_a_failed_mediation_to_court_from_the_page(in_mediation, mediator, wu, dispatcher, client):
    failed(in_mediation, mediator, wu)
    client.force_login(mediator)
    content = client.get(f"/mediation/cases/{in_mediation.code}/").content.decode()
    assert 'id="handoffs"' in content and "移送对接" in content
    response = handoff_post(client, in_mediation, "hand_off", {
        "hand_off-kind": "court_filing", "hand_off-receiver": "诸暨市人民法院", "hand_off-reason": "调解不成，当事人起诉"})
    assert response.status_code == 302 and response["Location"].endswith("#handoffs")
    handoff = HandOff.objects.get(case=in_mediation)
    assert Case.objects.get(pk=in_mediation.pk).status == "diverted"

    client.force_login(dispatcher)
    today = timezone.localdate().isoformat()
    response = handoff_post(client, in_mediation, "record_receipt", {
        "record_receipt-handoff": handoff.pk, "record_receipt-received_on": today,
        "record_receipt-reference_number": "(2026)浙0681民初1号"})
    assert response.status_code == 302
    response = handoff_post(client, in_mediation, "record_outcome", {
        "record_outcome-handoff": handoff.pk, "record_outcome-decided_on": today,
        "record_outcome-decision": "已立案受理"})
    assert response.status_code == 302
    handoff.refresh_from_db()
    assert (handoff.status, handoff.reference_number) == ("outcome_recorded", "(2026)浙0681民初1号")
    assert Case.objects.get(pk=in_mediation.pk).status == "concluded"
    with allow_personal_data("mediation_handoff_package"):
        response = client.get(f"/mediation/cases/{in_mediation.code}/handoffs/{handoff.pk}/package.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as package:
        assert "事项摘要.txt" in package.namelist()
    assert AuditEvent.objects.filter(action="mediation.download_handoff_package").count() == 1


def test_a_refused_hand_off_is_shown_on_the_form_and_changes_nothing(in_mediation, mediator, client):
    client.force_login(mediator)
    before = mediation_snapshot(in_mediation)
    response = handoff_post(client, in_mediation, "hand_off", {
        "hand_off-kind": "court_filing", "hand_off-receiver": "诸暨市人民法院", "hand_off-reason": "要求起诉"})
    assert response.status_code == 409
    assert "调解不成或当事人拒绝调解后" in response.content.decode()
    assert mediation_snapshot(in_mediation) == before


def test_an_outsider_gets_not_found_and_another_units_handler_may_not_download(
    in_mediation, mediator, wu, outsider, handler, client,
):
    failed(in_mediation, mediator, wu)
    handoff = handoffs.do_hand_off(in_mediation.code, actor=mediator, kind=HandOffKind.COURT_FILING,
                                   receiver="诸暨市人民法院", reason="调解不成")
    before = mediation_snapshot(in_mediation)
    client.force_login(outsider)
    url = f"/mediation/cases/{in_mediation.code}/handoffs/{handoff.pk}/package.zip"
    assert client.get(url).status_code == 404
    assert handoff_post(client, in_mediation, "record_receipt", {"record_receipt-handoff": handoff.pk}).status_code == 404
    client.force_login(handler)
    assert client.get(url).status_code in (403, 404)
    assert mediation_snapshot(in_mediation) == before
