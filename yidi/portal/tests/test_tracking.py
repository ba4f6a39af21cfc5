"""Tracking a matter (公开监督): code + phone → code by SMS → the matter's page; the private link; no enumeration."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.portal.models import PhoneChallenge, TrackingLink
from yidi.portal.tests.conftest import PHONE, codes_sent_to, submission_data, verify_phone, wrong_code

pytestmark = pytest.mark.django_db
APPLICANT_PHONE = "13805751234"  # the builders' applicant
START = timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 0))


def _track(client, code, phone):
    return client.post("/p/track/", {"case_code": code, "phone": phone})


def test_the_applicants_phone_opens_the_matter(client, sms, registrar):
    case = make_case(registrar)

    response = _track(client, case.code, APPLICANT_PHONE)
    assert response.status_code == 302 and response["Location"] == "/p/verify/"
    assert "138****1234" in client.get("/p/verify/").content.decode()
    verified = client.post("/p/verify/", {"code": codes_sent_to(sms, APPLICANT_PHONE)[0]})

    assert verified.status_code == 302 and verified["Location"] == f"/p/c/{case.code}/"
    page = client.get(f"/p/c/{case.code}/")
    body = page.content.decode()
    assert page.status_code == 200 and case.code in body and "受理中" in body
    assert "陈**" in body or "陈*" in body
    assert "138****1234" in body and "王志强" in body


def _normalised(body: bytes, code: str) -> str:
    text = body.decode().replace(code, "CODE")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|<meta name="csrf-token" content="[^"]+"', "", text)


def test_a_wrong_phone_and_an_unknown_code_get_identical_answers_and_no_sms(sms, registrar):
    case = make_case(registrar)
    unknown = "330681-2026-999999"
    stranger = "13600001111"
    answers = {}
    with time_machine.travel(START, tick=False) as traveller:
        for label, code in (("wrong_phone", case.code), ("unknown_code", unknown)):
            client = Client()
            sent = _track(client, code, stranger)
            page = client.get("/p/verify/")
            checked = client.post("/p/verify/", {"code": "123456"})
            answers[label] = (sent.status_code, sent["Location"], page.status_code, _normalised(page.content, code),
                              checked.status_code, _normalised(checked.content, code),
                              checked.context["form"].errors["code"])
            traveller.shift(timedelta(seconds=61))

    assert answers["wrong_phone"] == answers["unknown_code"]
    assert answers["wrong_phone"][-1] == ["验证码不正确，请核对短信中的6位数字后重新输入"]
    assert [m for m in sms if m.destination == stranger] == []
    assert PhoneChallenge.objects.filter(is_genuine=False).count() == 2


def test_a_wrong_phone_can_never_verify_even_by_guessing_every_code(client, sms, registrar):
    case = make_case(registrar)
    _track(client, case.code, "13600001111")
    challenge = PhoneChallenge.objects.get()
    for _ in range(4):
        client.post("/p/verify/", {"code": "123456"})
    last = client.post("/p/verify/", {"code": "654321"})
    assert last.status_code == 429 and "验证码错误次数过多，请30分钟后再试" in last.content.decode()
    challenge.refresh_from_db()
    assert challenge.killed_at is not None
    assert client.get(f"/p/c/{case.code}/").status_code == 404


def test_the_matter_page_needs_a_grant(client, registrar):
    case = make_case(registrar)
    assert client.get(f"/p/c/{case.code}/").status_code == 404


def test_a_grant_lasts_30_minutes(client, sms, registrar):
    case = make_case(registrar)
    with time_machine.travel(START, tick=False) as traveller:
        _track(client, case.code, APPLICANT_PHONE)
        client.post("/p/verify/", {"code": codes_sent_to(sms, APPLICANT_PHONE)[0]})
        traveller.shift(timedelta(minutes=29))
        assert client.get(f"/p/c/{case.code}/").status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert client.get(f"/p/c/{case.code}/").status_code == 404


def _submitted_link(client, sms) -> tuple[str, str]:
    verify_phone(client, sms)
    client.post("/p/submit/", submission_data())
    body = client.get("/p/submit/done/").content.decode()
    link = re.search(r'id="portal-tracking-link">([^<]+)<', body).group(1)
    code = re.search(r'id="portal-case-code">([^<]+)<', body).group(1)
    return link.replace("http://testserver", ""), code


def test_the_private_link_opens_the_matter_directly(client, sms):
    path, code = _submitted_link(client, sms)
    other = Client()
    opened = other.get(path)
    assert opened.status_code == 302 and opened["Location"] == f"/p/c/{code}/"
    assert other.get(f"/p/c/{code}/").status_code == 200
    assert TrackingLink.objects.get().token_hash not in path


def test_a_wrong_or_expired_link_is_404(client, sms):
    path, _ = _submitted_link(client, sms)
    assert Client().get("/p/t/" + "x" * 43 + "/").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=181)):
        assert Client().get(path).status_code == 404


def test_the_page_never_shows_staff_notes_other_phones_or_the_grade(client, sms, registrar, dispatcher, handler):
    case = make_case(registrar, grade="red")
    actions.do_accept_case(case.code, actor=dispatcher)
    actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform", note="内部意见：此人多次上访，注意稳控",
                           override_reason="调度员内部判断")
    actions.do_sign_case(case.code, actor=handler)
    actions.do_start_handling(case.code, actor=handler, mode="mediation")
    _track(client, case.code, APPLICANT_PHONE)
    client.post("/p/verify/", {"code": codes_sent_to(sms, APPLICANT_PHONE)[0]})

    body = client.get(f"/p/c/{case.code}/").content.decode()

    assert "调解中" in body and "枫桥镇综治工作平台" in body and "交办" in body and "签收" in body
    for secret in ("此人多次上访", "调度员内部判断", "13905759876", "139****9876", "赵调度", "钱承办", "李窗口",
                   "红", "风险", "330681198003150017", "330***********0017", "稳控"):
        assert secret not in body, secret


def test_a_declined_matter_shows_the_reason_and_the_other_route(client, sms, registrar):
    case = make_case(registrar)
    actions.do_decline_case(case.code, actor=registrar, reason="属于劳动仲裁受理范围",
                            route_told="请向诸暨市劳动人事争议仲裁委员会申请仲裁")
    _track(client, case.code, APPLICANT_PHONE)
    client.post("/p/verify/", {"code": codes_sent_to(sms, APPLICANT_PHONE)[0]})

    body = client.get(f"/p/c/{case.code}/").content.decode()

    assert "不予受理" in body and "属于劳动仲裁受理范围" in body and "请向诸暨市劳动人事争议仲裁委员会申请仲裁" in body


def test_supplementary_material_is_added_while_open(client, sms):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yidi.cases.models import Attachment
    from yidi.portal.tests.conftest import PNG

    verify_phone(client, sms)
    client.post("/p/submit/", submission_data())
    code = client.get("/p/submit/done/").context["code"]

    ok = client.post(f"/p/c/{code}/material/", {"files": [SimpleUploadedFile("补充.png", PNG, "image/png")]})
    bad = client.post(f"/p/c/{code}/material/", {"files": [SimpleUploadedFile("x.png", b"GIF89a....", "image/png")]})

    assert ok.status_code == 302 and bad.status_code == 400
    assert Attachment.objects.filter(case__code=code).count() == 1


def test_a_verified_tracking_session_cannot_open_another_matter(client, sms, registrar):
    first = make_case(registrar)
    second = make_case(registrar)
    _track(client, first.code, APPLICANT_PHONE)
    client.post("/p/verify/", {"code": codes_sent_to(sms, APPLICANT_PHONE)[0]})
    assert client.get(f"/p/c/{first.code}/").status_code == 200
    assert client.get(f"/p/c/{second.code}/").status_code == 404


def test_a_wrong_code_for_the_right_phone_gets_the_wrong_code_message(client, sms, registrar):
    case = make_case(registrar)
    _track(client, case.code, APPLICANT_PHONE)
    response = client.post("/p/verify/", {"code": wrong_code(codes_sent_to(sms, APPLICANT_PHONE)[0])})
    assert response.context["form"].errors["code"] == ["验证码不正确，请核对短信中的6位数字后重新输入"]


def test_phone_constant_is_not_the_applicants():
    assert PHONE != APPLICANT_PHONE
