"""Phone verification: codes, wrong and expired codes, the lock after 5 wrong ones, and the rate limits."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from yidi.audit.models import AuditEvent
from yidi.cases.models import Case
from yidi.portal.models import PhoneChallenge
from yidi.portal.tests.conftest import PHONE, codes_sent_to, submission_data, wrong_code

pytestmark = pytest.mark.django_db
START = timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 0))


def test_a_code_is_sent_with_the_agreed_text_and_stored_only_hashed(client, sms):
    response = client.post("/p/submit/phone/", {"phone": PHONE})

    assert response.status_code == 302 and response["Location"] == "/p/verify/"
    [message] = [m for m in sms if m.destination == PHONE]
    code = codes_sent_to(sms, PHONE)[0]
    assert message.text == f"【一地】您的验证码为 {code}，10分钟内有效。如非本人操作请忽略。"
    challenge = PhoneChallenge.objects.get()
    assert code not in (challenge.code_hash, challenge.phone_hash) and PHONE not in challenge.phone_hash
    assert (challenge.expires_at - challenge.created_at) == timedelta(minutes=10)
    page = client.get("/p/verify/").content.decode()
    assert "139****5678" in page and 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page


def test_the_right_code_lets_the_phone_submit(client, sms):
    client.post("/p/submit/phone/", {"phone": PHONE})
    response = client.post("/p/verify/", {"code": codes_sent_to(sms, PHONE)[0]})
    assert response.status_code == 302 and response["Location"] == "/p/submit/"
    assert "说说您遇到的事" in client.get("/p/submit/").content.decode()


def test_a_wrong_code_is_refused_with_its_own_message(client, sms):
    client.post("/p/submit/phone/", {"phone": PHONE})
    response = client.post("/p/verify/", {"code": wrong_code(codes_sent_to(sms, PHONE)[0])})
    assert response.status_code == 400
    assert response.context["form"].errors["code"] == ["验证码不正确，请核对短信中的6位数字后重新输入"]
    assert PhoneChallenge.objects.get().attempts == 1


def test_an_expired_code_is_refused_with_its_own_message(client, sms):
    with time_machine.travel(START, tick=False) as traveller:
        client.post("/p/submit/phone/", {"phone": PHONE})
        traveller.shift(timedelta(minutes=10, seconds=1))
        response = client.post("/p/verify/", {"code": codes_sent_to(sms, PHONE)[0]})
    assert response.status_code == 400
    assert response.context["form"].errors["code"] == ["验证码已过期，请重新获取验证码"]


def test_a_used_code_does_not_work_twice(client, sms):
    client.post("/p/submit/phone/", {"phone": PHONE})
    code = codes_sent_to(sms, PHONE)[0]
    challenge_id = PhoneChallenge.objects.get().pk
    client.post("/p/verify/", {"code": code})
    session = client.session
    session["portal_challenge"] = {"id": challenge_id, "purpose": "submit", "phone": "", "phone_masked": "",
                                   "case_code": ""}
    session.save()
    response = client.post("/p/verify/", {"code": code})
    assert response.context["form"].errors["code"] == ["验证码已过期，请重新获取验证码"]


def test_five_wrong_codes_lock_the_phone_for_30_minutes_and_nothing_is_registered(client, sms):
    with time_machine.travel(START, tick=False) as traveller:
        client.post("/p/submit/phone/", {"phone": PHONE})
        right = codes_sent_to(sms, PHONE)[0]
        for _ in range(4):
            assert client.post("/p/verify/", {"code": wrong_code(right)}).status_code == 400
        fifth = client.post("/p/verify/", {"code": wrong_code(right)})
        assert fifth.status_code == 429
        assert "验证码错误次数过多，请30分钟后再试" in fifth.content.decode()
        # the right code no longer works, and no new code can be had
        assert client.post("/p/verify/", {"code": right}).status_code == 429
        again = client.post("/p/submit/phone/", {"phone": PHONE})
        assert again.status_code == 429 and "验证码错误次数过多，请30分钟后再试" in again.content.decode()
        assert client.post("/p/submit/", submission_data()).status_code == 200  # back to the phone step
        assert Case.objects.count() == 0
        assert len(codes_sent_to(sms, PHONE)) == 1
        assert AuditEvent.objects.filter(action="portal.code_lockout").count() == 1

        traveller.shift(timedelta(minutes=30, seconds=1))
        assert client.post("/p/submit/phone/", {"phone": PHONE}).status_code == 302
        assert client.post("/p/verify/", {"code": codes_sent_to(sms, PHONE)[-1]}).status_code == 302


def test_one_code_per_phone_per_minute(client, sms):
    with time_machine.travel(START, tick=False) as traveller:
        assert client.post("/p/submit/phone/", {"phone": PHONE}).status_code == 302
        second = client.post("/p/submit/phone/", {"phone": PHONE})
        assert second.status_code == 429 and second["Retry-After"] == "60"
        assert "验证码发送过于频繁，请1分钟后再试" in second.content.decode()
        assert PhoneChallenge.objects.count() == 1 and len(codes_sent_to(sms, PHONE)) == 1
        traveller.shift(timedelta(seconds=61))
        assert client.post("/p/submit/phone/", {"phone": PHONE}).status_code == 302


def test_five_codes_per_phone_per_hour(client, sms):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            assert client.post("/p/submit/phone/", {"phone": PHONE}).status_code == 302
            traveller.shift(timedelta(minutes=2))
        sixth = client.post("/p/submit/phone/", {"phone": PHONE})
        assert sixth.status_code == 429 and "该手机号本小时获取验证码次数已达上限" in sixth.content.decode()
        assert len(codes_sent_to(sms, PHONE)) == 5
        traveller.shift(timedelta(minutes=51))
        assert client.post("/p/submit/phone/", {"phone": PHONE}).status_code == 302


def test_twenty_codes_per_source_address_per_hour(client, sms):
    with time_machine.travel(START, tick=False):
        for n in range(20):
            assert client.post("/p/submit/phone/", {"phone": f"1391234{n:04d}"}).status_code == 302
        refused = client.post("/p/submit/phone/", {"phone": "13700000000"})
        assert refused.status_code == 429 and "您所在网络本小时获取验证码次数过多" in refused.content.decode()
        assert codes_sent_to(sms, "13700000000") == []
        other = client.post("/p/submit/phone/", {"phone": "13700000000"}, REMOTE_ADDR="10.0.0.9")
        assert other.status_code == 302


def test_a_malformed_phone_gets_a_clear_message(client, sms):
    response = client.post("/p/submit/phone/", {"phone": "1234"})
    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == ["手机号格式不正确，请填写11位手机号"]
    assert sms == []


def test_the_demo_shows_the_code_it_could_not_text_and_a_real_instance_never_does(client, sms, settings):
    client.post("/p/submit/phone/", {"phone": PHONE})
    code = codes_sent_to(sms, PHONE)[-1]

    assert code not in client.get("/p/verify/").content.decode()
    settings.YIDI_DEMO_SHOW_CODES = True
    page = client.get("/p/verify/").content.decode()
    assert f"验证码为 <strong>{code}</strong>" in page
