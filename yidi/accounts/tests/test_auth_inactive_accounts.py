"""Accounts without a log-in for 90 days are disabled by a daily job (AUTH-07)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from yidi.accounts.auth import do_disable_inactive_accounts, purge_login_counters
from yidi.accounts.models import LoginThrottle, RequestRateWindow, User
from yidi.accounts.tasks import disable_inactive_accounts_task
from yidi.audit.models import AuditEvent
from yidi.cases.builders import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def log_in(client, username):
    response = client.post(reverse("login"), {"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def active_usernames(*usernames) -> list[str]:
    return sorted(User.objects.filter(username__in=usernames, is_active=True).values_list("username", flat=True))


def test_an_account_without_a_log_in_for_ninety_days_is_disabled_and_audited(client, registrar, dispatcher):
    with time_machine.travel(START, tick=False) as traveller:
        log_in(client, "registrar")
        traveller.shift(timedelta(days=1))
        log_in(client, "dispatcher")
        traveller.shift(timedelta(days=90))

        disabled = do_disable_inactive_accounts()

    assert disabled == ["registrar"]
    assert active_usernames("registrar", "dispatcher") == ["dispatcher"]
    event = AuditEvent.objects.get(action="user.disable_inactive")
    assert (event.object_id, event.outcome, event.actor_id, event.fields) == ("registrar", "success", None, ["is_active"])
    assert event.data == {"last_login_at": "2026-03-02T01:00:00+00:00", "inactive_days": 90}
    assert event.reason == "超过 90 天未登录，自动停用"


def test_an_account_used_within_ninety_days_stays_active(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        log_in(client, "registrar")
        traveller.shift(timedelta(days=89, hours=23))

        assert do_disable_inactive_accounts() == []

    assert active_usernames("registrar") == ["registrar"]
    assert not AuditEvent.objects.filter(action="user.disable_inactive").exists()


def test_an_account_that_never_logged_in_counts_from_its_creation(registrar):
    User.objects.filter(pk=registrar.pk).update(date_joined=START, last_login=None)

    with time_machine.travel(START + timedelta(days=89), tick=False):
        assert do_disable_inactive_accounts() == []
    with time_machine.travel(START + timedelta(days=90, seconds=1), tick=False):
        assert do_disable_inactive_accounts() == ["registrar"]


def test_the_command_is_idempotent_and_reports_in_chinese(registrar, capsys):
    User.objects.filter(pk=registrar.pk).update(last_login=START)

    with time_machine.travel(START + timedelta(days=91), tick=False):
        call_command("disable_inactive_accounts")
        call_command("disable_inactive_accounts")

    assert capsys.readouterr().out.splitlines() == [
        "已停用 1 个超过 90 天未登录的账号：registrar",
        "没有超过 90 天未登录的账号。",
    ]
    assert AuditEvent.objects.filter(action="user.disable_inactive").count() == 1


@override_settings(AUTH_INACTIVE_ACCOUNT_DAYS=30)
def test_the_number_of_days_comes_from_the_settings(registrar):
    User.objects.filter(pk=registrar.pk).update(last_login=START)

    with time_machine.travel(START + timedelta(days=30, seconds=1), tick=False):
        assert do_disable_inactive_accounts() == ["registrar"]


@override_settings(AUTH_INACTIVE_ACCOUNT_DAYS=0)
def test_zero_days_switches_the_job_off(registrar, capsys):
    User.objects.filter(pk=registrar.pk).update(last_login=START)

    with time_machine.travel(START + timedelta(days=400), tick=False):
        call_command("disable_inactive_accounts")

    assert active_usernames("registrar") == ["registrar"]
    assert capsys.readouterr().out == "未启用自动停用（YIDI_INACTIVE_ACCOUNT_DAYS=0）。\n"


@override_settings(SESSION_COOKIE_AGE=200 * 24 * 3600, AUTH_SESSION_ABSOLUTE_SECONDS=200 * 24 * 3600)
def test_a_disabled_account_loses_its_session_and_cannot_log_in(client, registrar):
    with time_machine.travel(START, tick=False) as traveller:
        log_in(client, "registrar")
        traveller.shift(timedelta(days=91))
        do_disable_inactive_accounts()

        page = client.get(reverse("account_security"))
        again = client.post(reverse("login"), {"username": "registrar", "password": DEFAULT_PASSWORD})

    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))
    assert again.status_code == 200 and "用户名或密码错误，或账号已被临时锁定" in again.content.decode()


def test_the_daily_task_disables_accounts_and_purges_finished_counters(registrar):
    User.objects.filter(pk=registrar.pk).update(last_login=START)
    LoginThrottle.objects.create(kind="username", key="ghost", failures=2, window_started_at=START)
    LoginThrottle.objects.create(kind="username", key="locked", failures=5, window_started_at=START + timedelta(days=91),
                                 locked_until=START + timedelta(days=91, minutes=30))
    RequestRateWindow.objects.create(scope="login", key="10.0.0.9", window_started_at=START, hits=3)

    with time_machine.travel(START + timedelta(days=91), tick=False):
        result = disable_inactive_accounts_task.enqueue()

    assert result.return_value == "停用长期未登录账号 1 个，清理过期登录计数 2 条、过期接口幂等记录 0 条"
    assert list(LoginThrottle.objects.values_list("key", flat=True)) == ["locked"]
    assert not RequestRateWindow.objects.exists()


def test_purging_keeps_an_expired_lock_for_a_day_so_its_unlock_can_be_audited():
    LoginThrottle.objects.create(kind="username", key="ghost", failures=5, window_started_at=START,
                                 locked_until=START + timedelta(minutes=30))

    assert purge_login_counters(now=START + timedelta(hours=2)) == 0
    assert purge_login_counters(now=START + timedelta(days=1, minutes=30)) == 1


def test_the_portal_service_account_is_never_disabled_but_a_citizen_with_a_password_is():
    from yidi.accounts.domain import Role
    from yidi.cases.builders import make_user

    service = make_user("portal-svc", Role.CITIZEN, password=None)  # no usable password: cannot log in
    citizen = make_user("citizen-a", Role.CITIZEN)
    User.objects.filter(pk__in=[service.pk, citizen.pk]).update(date_joined=START, last_login=None)
    with time_machine.travel(START + timedelta(days=91), tick=False):
        assert do_disable_inactive_accounts() == ["citizen-a"]

    assert active_usernames("portal-svc", "citizen-a") == ["portal-svc"]
