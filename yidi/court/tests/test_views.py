"""The /court/ pages: the exchange log for dispatchers and leaders, a matter's log, recording an answer."""

from django.urls import reverse

from yidi.court.models import CourtMessage
from yidi.court.tests.helpers import referral_message


def test_the_dispatcher_sees_the_exchange_log_with_the_referral_and_the_report(client, court_api, dispatcher):
    code = court_api.post("/referrals", referral_message()).json()["referral"]["case_code"]
    client.force_login(dispatcher)

    page = client.get(reverse("court_exchange")).content.decode()

    assert "诉调对接" in page and code in page
    assert "法院委派（委托）调解" in page and "向法院反馈调解情况：已接收" in page
    assert "待发送" in page and "330681197001010016" not in page


def test_a_handler_gets_not_found_for_the_log_and_an_outsider_for_the_matter(client, court_api, handler, outsider):
    code = court_api.post("/referrals", referral_message()).json()["referral"]["case_code"]

    client.force_login(handler)
    assert client.get(reverse("court_exchange")).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("court_case", args=[code])).status_code == 404


def test_recording_an_answer_that_is_not_awaiting_is_refused_with_a_message(client, court_api, dispatcher):
    code = court_api.post("/referrals", referral_message()).json()["referral"]["case_code"]
    referral = CourtMessage.objects.get()
    client.force_login(dispatcher)

    response = client.post(reverse("court_apply_answer", args=[code, referral.pk]), follow=True)

    assert "未能登记法院来文：该法院来文已登记" in response.content.decode()
    assert CourtMessage.objects.get().state == "applied"
