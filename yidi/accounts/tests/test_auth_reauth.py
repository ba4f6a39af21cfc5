"""Re-authentication before sensitive actions (AUTH-09): revealing a full value, requesting or downloading an
export of personal data need the password entered within 5 minutes; a stale session is sent to confirm it,
a JSON client gets 401 `reauth_required`, and nothing is revealed meanwhile."""

import pytest
from django.urls import reverse

from yidi.accounts import auth
from yidi.accounts.middleware import AUTH_STATE_KEY
from yidi.audit.models import AuditEvent
from yidi.cases.builders import DEFAULT_PASSWORD, make_case

pytestmark = pytest.mark.django_db
REASON = "当事人来电要求核实登记的联系电话"


@pytest.fixture
def case(registrar):
    return make_case(registrar)


def reveal_url(case):
    return reverse("privacy_reveal", args=[case.code, case.parties.get(role="applicant").pk, "phone"])


def login_stale(client, user, *, seconds_ago=301):
    client.force_login(user)
    client.get("/")  # the session gets its log-in record
    session = client.session
    state = dict(session[AUTH_STATE_KEY])
    state["confirmed_at"] -= seconds_ago
    session[AUTH_STATE_KEY] = state
    session.save()


def reveals():
    return AuditEvent.objects.filter(action="privacy.reveal").count()


def test_a_stale_session_is_sent_to_confirm_its_identity_and_nothing_is_revealed(client, dispatcher, case):
    login_stale(client, dispatcher)
    page = reverse("case_detail", args=[case.code])

    response = client.post(reveal_url(case), {"reason": REASON}, headers={"referer": f"http://testserver{page}"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm/?next=http%3A%2F%2Ftestserver%2Fcases%2F" + case.code + "%2F"
    assert reveals() == 0 and "13805751234" not in response.content.decode()


def test_htmx_is_redirected_by_header_and_a_json_client_gets_401(client, dispatcher, case):
    login_stale(client, dispatcher)

    htmx = client.post(reveal_url(case), {"reason": REASON}, headers={"HX-Request": "true"})
    api = client.post(reveal_url(case), {"reason": REASON}, headers={"Accept": "application/json"})

    assert (htmx.status_code, htmx["HX-Redirect"]) == (204, "/accounts/confirm/")
    assert (api.status_code, api.json()["code"]) == (401, "reauth_required")
    assert reveals() == 0


def test_confirming_the_password_returns_to_the_page_and_the_reveal_then_works(client, dispatcher, case):
    login_stale(client, dispatcher)
    page = reverse("case_detail", args=[case.code])

    response = client.post(reverse("reauth"), {"password": DEFAULT_PASSWORD, "next": page})

    assert (response.status_code, response["Location"]) == (302, page)
    assert AuditEvent.objects.filter(action="auth.reauth", actor_username="dispatcher").count() == 1
    assert client.post(reveal_url(case), {"reason": REASON}).status_code == 200
    assert reveals() == 1


def test_a_wrong_password_is_refused_counted_and_five_lock_the_account_and_end_the_session(client, dispatcher):
    login_stale(client, dispatcher)

    first = client.post(reverse("reauth"), {"password": "not-my-password-1", "next": "/"})

    assert first.status_code == 200 and "密码不正确" in first.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", data__stage="reauth").count() == 1
    for _ in range(4):
        last = client.post(reverse("reauth"), {"password": "not-my-password-1", "next": "/"})
    assert last["Location"] == "/accounts/login/"
    assert auth.is_login_locked(username="dispatcher", source_ip="127.0.0.1")
    assert client.get("/").status_code == 302  # logged out


def test_an_account_with_an_authenticator_must_also_give_its_code(client, dispatcher, case):
    secret = auth.new_totp_secret()
    auth.do_install_two_factor(dispatcher, secret=secret, actor=None)
    login_stale(client, dispatcher)

    no_code = client.post(reverse("reauth"), {"password": DEFAULT_PASSWORD, "next": "/"})
    wrong = client.post(reverse("reauth"), {"password": DEFAULT_PASSWORD, "code": "000000", "next": "/"})
    from django.utils import timezone

    right = client.post(reverse("reauth"), {
        "password": DEFAULT_PASSWORD, "code": auth.totp_code(secret, auth.totp_step(timezone.now())), "next": "/",
    })

    assert "请输入验证器上的 6 位数字" in no_code.content.decode()
    assert "验证码错误或已使用过" in wrong.content.decode()
    assert right.status_code == 302


def test_an_outside_next_address_is_ignored(client, dispatcher):
    login_stale(client, dispatcher)
    response = client.post(reverse("reauth"), {"password": DEFAULT_PASSWORD, "next": "https://evil.example/x"})
    assert response["Location"] == "/"


def test_a_fresh_log_in_counts_as_a_confirmation(client, dispatcher, case):
    client.post(reverse("login"), {"username": "dispatcher", "password": DEFAULT_PASSWORD})
    assert client.post(reveal_url(case), {"reason": REASON}).status_code == 200
    assert reveals() == 1


@pytest.mark.parametrize("name", ["privacy_export_new"])
def test_requesting_an_export_needs_a_recent_confirmation_too(client, dispatcher, name):
    login_stale(client, dispatcher)
    response = client.get(reverse(name))
    assert response["Location"] == "/accounts/confirm/?next=%2Fprivacy%2Fexports%2Fnew%2F"
