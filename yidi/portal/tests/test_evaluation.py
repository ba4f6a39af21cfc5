"""The person's evaluation on the matter's page; 不满意 needs a reason and sends the matter back (重办)."""

import pytest

from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Case
from yidi.portal.tests.conftest import codes_sent_to

pytestmark = pytest.mark.django_db
APPLICANT_PHONE = "13805751234"


@pytest.fixture
def closed_case(registrar, dispatcher, handler, fq_platform):
    case = make_case(registrar)
    return advance_case(case, CaseStatus.CLOSED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)


def _open_page(client, sms, case):
    client.post("/p/track/", {"case_code": case.code, "phone": APPLICANT_PHONE})
    client.post("/p/verify/", {"code": codes_sent_to(sms, APPLICANT_PHONE)[-1]})


def test_the_form_is_offered_when_evaluation_is_open(client, sms, closed_case):
    _open_page(client, sms, closed_case)
    body = client.get(f"/p/c/{closed_case.code}/").content.decode()
    assert "已办结" in body and "请评价办理结果" in body and "达成书面协议" in body


def test_dissatisfied_without_a_reason_is_refused_and_changes_nothing(client, sms, closed_case):
    _open_page(client, sms, closed_case)
    response = client.post(f"/p/c/{closed_case.code}/evaluate/", {"evaluation": "dissatisfied", "note": ""})
    assert response.status_code == 400
    assert response.context["evaluation_form"].errors["note"] == ["选择“不满意”时，请写明不满意的原因"]
    assert Case.objects.get(pk=closed_case.pk).status == CaseStatus.CLOSED


def test_dissatisfied_with_a_reason_reopens_the_matter(client, sms, closed_case):
    _open_page(client, sms, closed_case)
    response = client.post(f"/p/c/{closed_case.code}/evaluate/",
                           {"evaluation": "dissatisfied", "note": "对方没有按协议疏通排水沟"})
    assert response.status_code == 302
    case = Case.objects.get(pk=closed_case.pk)
    assert case.status == CaseStatus.IN_PROGRESS
    body = client.get(f"/p/c/{case.code}/").content.decode()
    assert "重新办理（重办）" in body and "请评价办理结果" not in body and "调解中" in body
    assert "对方没有按协议疏通排水沟" not in body.split("办理过程")[1]  # the person's words stay off the timeline


def test_satisfied_is_recorded_and_the_form_goes_away(client, sms, closed_case):
    _open_page(client, sms, closed_case)
    assert client.post(f"/p/c/{closed_case.code}/evaluate/", {"evaluation": "satisfied"}).status_code == 302
    body = client.get(f"/p/c/{closed_case.code}/").content.decode()
    assert "请评价办理结果" not in body and 'id="portal-evaluation-recorded">满意' in body


def test_evaluating_without_a_grant_is_404(client, closed_case):
    response = client.post(f"/p/c/{closed_case.code}/evaluate/", {"evaluation": "satisfied"})
    assert response.status_code == 404
    assert Case.objects.get(pk=closed_case.pk).evaluation == ""
