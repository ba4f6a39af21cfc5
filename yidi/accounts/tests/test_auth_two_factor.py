"""TOTP two-factor: mandatory for the admin roles, leaders and supervisors, optional for the others (AUTH-05)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from yidi.accounts import auth
from yidi.accounts.actions import do_grant_role
from yidi.accounts.domain import Role
from yidi.accounts.middleware import ENROLMENT_SECRET_KEY
from yidi.accounts.models import LoginThrottle, RecoveryCode, TwoFactorDevice, User
from yidi.audit.models import AuditEvent
from yidi.cases.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 1, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def post_login(client, username, password=DEFAULT_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def code_at(moment: datetime, secret: str = SECRET) -> str:
    return auth.totp_code(secret, auth.totp_step(moment))


def enrol(user: User, secret: str = SECRET) -> tuple[str, ...]:
    """Bind `secret` to `user` through the action, as the enrolment page does."""
    result = auth.do_enrol_two_factor(user, secret=secret, code=code_at(datetime.now(UTC), secret),
                                      source_ip="127.0.0.1", completes_login=False)
    assert result.ok
    return result.recovery_codes


def session_secret(client) -> str:
    return auth.open_enrolment_secret(client.session[ENROLMENT_SECRET_KEY])


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def leader():
    from yidi.accounts.models import Unit

    return make_user("leader", Role.LEADER, unit=Unit.objects.get(code="centre"), name="郑领导")


MANDATORY = {
    "supervisor": lambda request: request.getfixturevalue("supervisor"),
    "leader": lambda request: leader(),
    "system_admin": lambda request: request.getfixturevalue("admin"),
    "security_admin": lambda request: make_user("secadmin", Role.SECURITY_ADMIN, name="安全管理员"),
    "auditor": lambda request: make_user("auditadmin", Role.AUDITOR, name="审计管理员"),
}


@pytest.mark.parametrize("role", sorted(MANDATORY))
def test_a_role_that_must_use_two_factor_is_sent_to_enrolment_and_reaches_nothing_else(client, request, role):
    user = MANDATORY[role](request)

    response = post_login(client, user.username)

    assert response.status_code == 302 and response["Location"] == reverse("two_factor_setup")
    assert not is_logged_in(client)
    for page in [reverse("workbench"), reverse("account_security"), reverse("password_change"), "/admin/"]:
        blocked = client.get(page)
        assert (page, blocked.status_code, blocked["Location"]) == (page, 302, reverse("two_factor_setup"))
    assert client.get(reverse("two_factor_setup")).status_code == 200


def test_a_registrar_logs_in_with_the_password_alone_and_may_enrol_later(client, registrar):
    response = post_login(client, "registrar")

    assert response.status_code == 302 and response["Location"] == reverse("workbench")
    page = client.get(reverse("account_security")).content.decode()
    assert "未启用" in page and reverse("two_factor_setup") in page
    assert client.get(reverse("two_factor_setup")).status_code == 200


def test_the_enrolment_page_shows_a_server_rendered_qr_code_and_the_secret_and_writes_nothing(client, supervisor):
    post_login(client, "supervisor")

    html = client.get(reverse("two_factor_setup")).content.decode()

    secret = session_secret(client)
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert '<svg width="' in html and "<title>两步验证绑定二维码</title>" in html
    assert " ".join(secret[i:i + 4] for i in range(0, 32, 4)) in html
    assert "style=" not in html and "<script>" not in html
    assert not TwoFactorDevice.objects.exists()
    assert client.get(reverse("two_factor_setup")).content.decode().count(secret[:4]) >= 1
    assert session_secret(client) == secret  # a reload keeps the same secret


def test_enrolment_with_the_right_code_logs_in_shows_ten_recovery_codes_and_stores_the_secret_encrypted(
    client, supervisor
):
    with time_machine.travel(START, tick=False):
        post_login(client, "supervisor")
        client.get(reverse("two_factor_setup"))
        secret = session_secret(client)

        response = client.post(reverse("two_factor_setup"), {"code": code_at(START, secret)})

    assert response.status_code == 200 and is_logged_in(client)
    codes = re.findall(r'<li class="mono">([a-z2-9]{5}-[a-z2-9]{5})</li>', response.content.decode())
    assert len(set(codes)) == 10
    device = TwoFactorDevice.objects.get(user=supervisor)
    assert (device.secret, device.last_used_step) == (secret, auth.totp_step(START))
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_twofactordevice")
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc:v1:") and secret not in stored
    assert RecoveryCode.objects.filter(user=supervisor, used_at__isnull=True).count() == 10
    assert all(code not in rc.code_hash for rc in RecoveryCode.objects.all() for code in codes)
    assert list(AuditEvent.objects.filter(action__startswith="auth.").order_by("seq").values_list("action", "outcome")) == [
        ("auth.login", "success"), ("auth.two_factor_enrol", "success")]
    assert ENROLMENT_SECRET_KEY not in client.session


def test_a_wrong_code_at_enrolment_binds_nothing_and_counts_as_a_failure(client, supervisor):
    post_login(client, "supervisor")
    client.get(reverse("two_factor_setup"))

    response = client.post(reverse("two_factor_setup"), {"code": "000000"})

    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert not TwoFactorDevice.objects.exists() and not RecoveryCode.objects.exists()
    assert not is_logged_in(client)
    assert LoginThrottle.objects.get(kind="username", key="supervisor").failures == 1


def test_an_enrolled_user_must_enter_a_code_after_the_password(client, supervisor):
    with time_machine.travel(START, tick=False) as traveller:
        enrol(supervisor)
        traveller.shift(timedelta(seconds=60))

        after_password = post_login(client, "supervisor")
        blocked = client.get(reverse("workbench"))
        verified = client.post(reverse("two_factor_verify"), {"code": code_at(START + timedelta(seconds=60))})

    assert after_password["Location"] == reverse("two_factor_verify")
    assert blocked["Location"] == reverse("two_factor_verify")
    assert verified.status_code == 302 and verified["Location"] == reverse("workbench")
    assert is_logged_in(client)
    assert AuditEvent.objects.filter(action="auth.login").latest("seq").data == {"second_factor": "totp"}


def test_an_optional_user_who_enrolled_must_also_enter_a_code(client, registrar):
    enrol(registrar)

    response = post_login(client, "registrar")

    assert response["Location"] == reverse("two_factor_verify") and not is_logged_in(client)


def test_a_wrong_code_is_refused_counted_and_audited(client, supervisor):
    with time_machine.travel(START, tick=False):
        enrol(supervisor)
        post_login(client, "supervisor")

        response = client.post(reverse("two_factor_verify"), {"code": "123456"})

    assert response.status_code == 200 and "验证码错误或已使用过" in response.content.decode()
    assert not is_logged_in(client)
    assert LoginThrottle.objects.get(kind="username", key="supervisor").failures == 1
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert (failed.outcome, failed.data["stage"]) == ("failed", "second_factor")


def test_a_code_that_was_already_used_is_refused(client, supervisor):
    with time_machine.travel(START, tick=False) as traveller:
        enrol(supervisor)
        traveller.shift(timedelta(seconds=30))
        code = code_at(START + timedelta(seconds=30))
        post_login(client, "supervisor")
        assert client.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
        client.post(reverse("logout"))

        post_login(client, "supervisor")
        replayed = client.post(reverse("two_factor_verify"), {"code": code})

    assert replayed.status_code == 200 and "验证码错误或已使用过" in replayed.content.decode()
    assert not is_logged_in(client)
    assert TwoFactorDevice.objects.get().last_used_step == auth.totp_step(START + timedelta(seconds=30))


def test_the_code_used_at_enrolment_cannot_log_in_again(client, supervisor):
    with time_machine.travel(START, tick=False):
        enrol(supervisor)
        post_login(client, "supervisor")
        replayed = client.post(reverse("two_factor_verify"), {"code": code_at(START)})

    assert replayed.status_code == 200 and not is_logged_in(client)


def test_codes_of_the_previous_and_next_step_are_accepted_older_ones_are_not():
    step = auth.totp_step(START)

    assert auth.matching_step(SECRET, code_at(START - timedelta(seconds=30)), at=START) == step - 1
    assert auth.matching_step(SECRET, code_at(START + timedelta(seconds=30)), at=START) == step + 1
    assert auth.matching_step(SECRET, code_at(START - timedelta(seconds=60)), at=START) is None
    assert auth.matching_step(SECRET, "12345", at=START) is None
    assert auth.matching_step(SECRET, "abcdef", at=START) is None


def test_a_recovery_code_logs_in_once(client, supervisor):
    codes = enrol(supervisor)
    post_login(client, "supervisor")

    first = client.post(reverse("two_factor_verify"), {"code": codes[3].upper()})
    client.post(reverse("logout"))
    post_login(client, "supervisor")
    again = client.post(reverse("two_factor_verify"), {"code": codes[3]})

    assert first.status_code == 302 and again.status_code == 200
    assert RecoveryCode.objects.filter(user=supervisor, used_at__isnull=False).count() == 1
    assert AuditEvent.objects.get(action="auth.login").data == {"second_factor": "recovery_code"}


def test_five_wrong_codes_lock_the_account_and_end_the_attempt(client, supervisor):
    with time_machine.travel(START, tick=False):
        enrol(supervisor)
        post_login(client, "supervisor")
        for _ in range(4):
            client.post(reverse("two_factor_verify"), {"code": "000000"})
        fifth = client.post(reverse("two_factor_verify"), {"code": "000000"})
        right_password_again = post_login(client, "supervisor")

    assert fifth.status_code == 302 and fifth["Location"] == reverse("login")
    assert right_password_again.status_code == 200
    assert auth.GENERIC_LOGIN_ERROR in right_password_again.content.decode()
    assert AuditEvent.objects.get(action="auth.lockout").data["stage"] == "second_factor"


def test_the_second_step_expires_after_five_minutes(client, supervisor):
    with time_machine.travel(START, tick=False) as traveller:
        enrol(supervisor)
        post_login(client, "supervisor")
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = client.post(reverse("two_factor_verify"), {"code": code_at(START + timedelta(minutes=5, seconds=1))})

    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not is_logged_in(client)


def test_a_password_only_session_ends_when_the_user_is_given_a_role_that_needs_two_factor(client, registrar):
    post_login(client, "registrar")
    do_grant_role(registrar, Role.SUPERVISOR, actor=None)

    response = client.get(reverse("workbench"))

    assert response.status_code == 302 and response["Location"] == reverse("login") + "?next=%2F"
    assert not is_logged_in(client)
    assert AuditEvent.objects.get(action="auth.session_ended").data == {"reason": "second_factor_required"}


@override_settings(AUTH_TRUST_FORCE_LOGIN=False)
def test_without_the_test_setting_a_session_not_made_by_the_log_in_page_does_not_count_as_two_factor(client, supervisor):
    client.force_login(supervisor)

    response = client.get(reverse("workbench"))

    assert response.status_code == 302 and not is_logged_in(client)


@override_settings(AUTH_TWO_FACTOR_EXTRA_ROLES=["dispatcher"])
def test_more_roles_can_be_made_to_use_two_factor(client, dispatcher):
    response = post_login(client, "dispatcher")

    assert response["Location"] == reverse("two_factor_setup")


def test_a_logged_in_registrar_enrols_after_entering_the_password_again(client, registrar):
    with time_machine.travel(START, tick=False):
        post_login(client, "registrar")
        client.get(reverse("two_factor_setup"))
        code = code_at(START, session_secret(client))

        wrong_password = client.post(reverse("two_factor_setup"), {"code": code, "password": "Wrong-password-1"})
        assert not TwoFactorDevice.objects.exists()
        enrolled = client.post(reverse("two_factor_setup"), {"code": code, "password": DEFAULT_PASSWORD})

    assert "密码不正确。" in wrong_password.content.decode()
    assert enrolled.status_code == 200 and "两步验证已启用" in enrolled.content.decode()
    assert TwoFactorDevice.objects.get().user == registrar
    assert list(AuditEvent.objects.filter(action__startswith="auth.").order_by("seq").values_list("action", flat=True)) == [
        "auth.login", "auth.two_factor_enrol"]
    assert LoginThrottle.objects.filter(kind="username", failures__gt=0).count() == 0
