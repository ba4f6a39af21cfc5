"""Lockout after failed log-ins and the rate limit on the log-in POST (AUTH-04, WEB-08)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from yidi.accounts.auth import GENERIC_LOGIN_ERROR
from yidi.accounts.models import LoginThrottle, RequestRateWindow
from yidi.audit.models import AuditEvent
from yidi.cases.builders import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def post_login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def auth_events(*actions):
    return list(
        AuditEvent.objects.filter(action__in=actions).order_by("seq").values_list("action", "object_id", "outcome")
    )


def test_five_wrong_passwords_lock_the_account_and_then_even_the_right_one_is_refused(client, registrar):
    for _ in range(5):
        assert post_login(client, "registrar", "Wrong-password-1").status_code == 200

    response = post_login(client, "registrar", DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert GENERIC_LOGIN_ERROR in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginThrottle.objects.get(kind="username", key="registrar").failures == 5


def test_four_wrong_passwords_do_not_lock_and_a_log_in_resets_the_count(client, registrar):
    for _ in range(4):
        post_login(client, "registrar", "Wrong-password-1")

    response = post_login(client, "registrar", DEFAULT_PASSWORD)

    assert response.status_code == 302 and response["Location"] == reverse("workbench")
    row = LoginThrottle.objects.get(kind="username", key="registrar")
    assert (row.failures, row.window_started_at, row.locked_until) == (0, None, None)


def test_the_page_is_the_same_for_an_unknown_user_a_wrong_password_and_a_locked_account(client, registrar):
    unknown = post_login(client, "nobody", "Wrong-password-1")
    wrong = post_login(client, "registrar", "Wrong-password-1")
    for _ in range(4):
        post_login(client, "registrar", "Wrong-password-1")
    locked_right_password = post_login(client, "registrar", DEFAULT_PASSWORD)

    pages = [without_csrf_token(r).replace("nobody", "registrar") for r in (unknown, wrong, locked_right_password)]
    assert [r.status_code for r in (unknown, wrong, locked_right_password)] == [200, 200, 200]
    assert pages[0] == pages[1] == pages[2]
    assert pages[0].count(GENERIC_LOGIN_ERROR) == 1


def test_an_unknown_user_name_is_counted_and_locked_like_an_existing_one(client):
    for _ in range(5):
        post_login(client, "ghost", "Wrong-password-1")

    row = LoginThrottle.objects.get(kind="username", key="ghost")
    assert row.failures == 5 and row.locked_until is not None
    assert auth_events("auth.lockout") == [("auth.lockout", "ghost", "denied")]


def test_user_names_differing_only_in_case_or_spaces_share_one_count(client, registrar):
    for name in ["Registrar", "REGISTRAR", " registrar", "registrar ", "registrar"]:
        post_login(client, name, "Wrong-password-1")

    assert list(LoginThrottle.objects.filter(kind="username").values_list("key", "failures")) == [("registrar", 5)]
    assert post_login(client, "registrar", DEFAULT_PASSWORD).status_code == 200


def test_every_failure_the_lock_and_each_refusal_are_audited(client, registrar):
    for _ in range(5):
        post_login(client, "registrar", "Wrong-password-1")
    post_login(client, "registrar", DEFAULT_PASSWORD)

    assert auth_events("auth.login_failed", "auth.lockout", "auth.login_refused", "auth.login") == [
        ("auth.login_failed", "registrar", "failed"),
        ("auth.login_failed", "registrar", "failed"),
        ("auth.login_failed", "registrar", "failed"),
        ("auth.login_failed", "registrar", "failed"),
        ("auth.lockout", "registrar", "denied"),
        ("auth.login_refused", "registrar", "denied"),
    ]
    lockout = AuditEvent.objects.get(action="auth.lockout")
    assert (lockout.actor_id, lockout.actor_username, lockout.source_ip) == (None, "system", "127.0.0.1")
    assert lockout.data["failures"] == 5 and lockout.data["locked"] == ["username"]


def test_the_account_unlocks_after_thirty_minutes_and_the_unlock_is_audited(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            post_login(client, "registrar", "Wrong-password-1")
        traveller.shift(timedelta(minutes=29, seconds=59))
        assert post_login(client, "registrar", DEFAULT_PASSWORD).status_code == 200

        traveller.shift(timedelta(seconds=1))
        response = post_login(client, "registrar", DEFAULT_PASSWORD)

    assert response.status_code == 302 and response["Location"] == reverse("workbench")
    assert auth_events("auth.unlock", "auth.login") == [
        ("auth.unlock", "registrar", "success"),
        ("auth.login", "registrar", "success"),
    ]
    assert AuditEvent.objects.get(action="auth.unlock").data["locked_until"] == "2026-11-30T01:30:00+00:00"


def test_failures_older_than_thirty_minutes_are_not_counted(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(4):
            post_login(client, "registrar", "Wrong-password-1")
        traveller.shift(timedelta(minutes=30))
        post_login(client, "registrar", "Wrong-password-1")

        assert LoginThrottle.objects.get(kind="username", key="registrar").failures == 1
        assert post_login(client, "registrar", DEFAULT_PASSWORD).status_code == 302


@override_settings(AUTH_LOCKOUT_SOURCE_FAILURES=3)
def test_failures_from_one_address_lock_that_address_for_every_user_name(client, registrar):
    for name in ["ghost1", "ghost2", "ghost3"]:
        post_login(client, name, "Wrong-password-1", REMOTE_ADDR="10.0.0.9")

    from_that_address = post_login(client, "registrar", DEFAULT_PASSWORD, REMOTE_ADDR="10.0.0.9")
    from_elsewhere = post_login(client, "registrar", DEFAULT_PASSWORD, REMOTE_ADDR="10.0.0.10")

    assert from_that_address.status_code == 200 and GENERIC_LOGIN_ERROR in from_that_address.content.decode()
    assert from_elsewhere.status_code == 302
    lockout = AuditEvent.objects.get(action="auth.lockout")
    assert (lockout.object_id, lockout.data["locked"], lockout.source_ip) == ("ghost3", ["source_ip"], "10.0.0.9")


@override_settings(AUTH_LOCKOUT_FAILURES=3, AUTH_LOCKOUT_MINUTES=10)
def test_the_numbers_come_from_the_settings(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(3):
            post_login(client, "registrar", "Wrong-password-1")
        assert post_login(client, "registrar", DEFAULT_PASSWORD).status_code == 200
        traveller.shift(timedelta(minutes=10))
        assert post_login(client, "registrar", DEFAULT_PASSWORD).status_code == 302


@override_settings(AUTH_LOGIN_RATE_PER_MINUTE=3)
def test_the_fourth_log_in_post_in_a_minute_from_one_address_gets_a_chinese_429_page(client, registrar):
    with time_machine.travel(START + timedelta(seconds=15), tick=False):
        statuses = [post_login(client, "ghost", "Wrong-password-1").status_code for _ in range(3)]
        limited = post_login(client, "registrar", DEFAULT_PASSWORD)
        post_login(client, "registrar", DEFAULT_PASSWORD)

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "45"
    assert "操作过于频繁" in limited.content.decode() and "45 秒后再试" in limited.content.decode()
    assert "_auth_user_id" not in client.session
    assert auth_events("auth.rate_limited") == [("auth.rate_limited", "127.0.0.1", "denied")]
    assert LoginThrottle.objects.get(kind="username", key="ghost").failures == 3
    assert not LoginThrottle.objects.filter(kind="username", key="registrar").exists()


@override_settings(AUTH_LOGIN_RATE_PER_MINUTE=3)
def test_the_rate_limit_is_per_address_and_per_minute(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(4):
            post_login(client, "ghost", "Wrong-password-1")
        other_address = post_login(client, "registrar", DEFAULT_PASSWORD, REMOTE_ADDR="10.0.0.10")
        traveller.shift(timedelta(minutes=1))
        next_minute = post_login(client, "registrar", DEFAULT_PASSWORD)

    assert other_address.status_code == 302 and next_minute.status_code == 302
    assert list(RequestRateWindow.objects.filter(key="127.0.0.1").values_list("hits", flat=True)) == [1]


def test_django_admins_own_log_in_page_leads_to_the_yidi_log_in(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Fadmin%2F"


def test_a_very_long_unknown_user_name_is_counted_and_audited_cut_to_the_log_column(client):
    name = "x" * 150

    response = post_login(client, name, "Wrong-password-1")

    assert response.status_code == 200
    assert LoginThrottle.objects.get(kind="username").key == name
    assert AuditEvent.objects.get(action="auth.login_failed").object_id == "x" * 100
