"""Sessions: new id at log-in, log-out kills the session on the server, idle and absolute limits (SES-01, SES-02)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import override_settings
from django.urls import reverse

from yidi.audit.models import AuditEvent
from yidi.cases.builders import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def post_login(client, username="registrar"):
    return client.post(reverse("login"), {"username": username, "password": DEFAULT_PASSWORD})


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_settings_install_the_login_policy():
    middleware = settings.MIDDLEWARE
    position = middleware.index("yidi.accounts.middleware.LoginPolicyMiddleware")
    assert position > middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert position > middleware.index("django.contrib.messages.middleware.MessageMiddleware")
    validators = [v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert {"CharacterClassValidator", "BlocklistValidator", "MinimumLengthValidator"} <= set(validators)
    assert settings.SESSION_SAVE_EVERY_REQUEST is True and settings.SESSION_COOKIE_AGE == 30 * 60


def test_the_session_id_changes_at_log_in(client, registrar):
    planted = client.session  # e.g. an id an attacker fixed in the victim's browser
    planted["probe"] = 1
    planted.save()
    before = session_key(client)

    post_login(client)

    after = session_key(client)
    assert after != before
    assert not SessionStore().exists(before)
    assert client.session["_auth_user_id"] == str(registrar.pk)


def test_each_step_of_a_two_factor_log_in_gets_a_new_session_id(client, supervisor):
    planted = client.session
    planted["probe"] = 1
    planted.save()
    first = session_key(client)

    post_login(client, "supervisor")
    second = session_key(client)

    assert len({first, second}) == 2 and not SessionStore().exists(first)


def test_log_out_deletes_the_session_on_the_server_so_a_copied_cookie_is_dead(client, registrar):
    post_login(client)
    old_key = session_key(client)

    response = client.post(reverse("logout"))

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert not SessionStore().exists(old_key)
    client.cookies[settings.SESSION_COOKIE_NAME] = old_key
    replay = client.get(reverse("account_security"))
    assert replay.status_code == 302 and replay["Location"].startswith(reverse("login"))
    assert AuditEvent.objects.filter(action="auth.logout", object_id="registrar").count() == 1


def test_log_out_needs_a_post(client, registrar):
    post_login(client)

    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("account_security")).status_code == 200


def test_log_out_says_so_on_the_log_in_page(client, registrar):
    post_login(client)

    page = client.post(reverse("logout"), follow=True).content.decode()

    assert "您已安全退出。" in page


def test_a_session_ends_after_thirty_minutes_without_a_request(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        post_login(client)
        traveller.shift(timedelta(minutes=29))
        assert client.get(reverse("account_security")).status_code == 200
        traveller.shift(timedelta(minutes=29))
        assert client.get(reverse("account_security")).status_code == 200
        traveller.shift(timedelta(minutes=30, seconds=1))

        response = client.get(reverse("account_security"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@override_settings(SESSION_COOKIE_AGE=24 * 3600)  # so that only the absolute limit applies
def test_a_session_ends_twelve_hours_after_log_in_however_active(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        post_login(client)
        traveller.shift(timedelta(hours=11, minutes=59, seconds=59))
        assert client.get(reverse("account_security")).status_code == 200
        traveller.shift(timedelta(seconds=1))

        response = client.get(reverse("account_security"))
        page = client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Faccounts%2Fsecurity%2F"
    assert "_auth_user_id" not in client.session
    assert "登录已超过 12 小时，为了安全请重新登录。" in page
    assert AuditEvent.objects.get(action="auth.session_ended").data == {"reason": "absolute_timeout"}


@override_settings(SESSION_COOKIE_AGE=24 * 3600, AUTH_SESSION_ABSOLUTE_SECONDS=3600)
def test_the_absolute_limit_comes_from_the_settings(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        post_login(client)
        traveller.shift(timedelta(hours=1))
        response = client.get(reverse("account_security"))

    assert response.status_code == 302 and "_auth_user_id" not in client.session


@override_settings(SESSION_COOKIE_AGE=24 * 3600)
def test_an_htmx_request_after_the_limit_is_told_to_load_the_log_in_page(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        post_login(client)
        traveller.shift(timedelta(hours=12))
        response = client.get(reverse("account_security"), headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + "?next=%2Faccounts%2Fsecurity%2F"


@override_settings(SESSION_COOKIE_AGE=24 * 3600)
def test_a_force_login_session_of_the_test_suite_also_gets_the_absolute_limit(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(registrar)
        assert client.get(reverse("account_security")).status_code == 200
        traveller.shift(timedelta(hours=12))
        assert client.get(reverse("account_security")).status_code == 302


def test_the_log_in_page_sends_a_logged_in_user_on(client, registrar):
    post_login(client)

    response = client.get(reverse("login") + "?next=/accounts/security/")

    assert response.status_code == 302 and response["Location"] == "/accounts/security/"


def test_the_log_in_page_ignores_a_next_address_on_another_site(client, registrar):
    response = client.post(reverse("login") + "?next=https://evil.example/", {
        "username": "registrar", "password": DEFAULT_PASSWORD, "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == reverse("workbench")


def test_the_deploy_check_refuses_trusting_force_login_sessions():
    from yidi.accounts.models import check_force_login_not_trusted

    with override_settings(AUTH_TRUST_FORCE_LOGIN=True):
        assert [error.id for error in check_force_login_not_trusted()] == ["accounts.E001"]
    with override_settings(AUTH_TRUST_FORCE_LOGIN=False):
        assert check_force_login_not_trusted() == []
