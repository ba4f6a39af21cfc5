"""Password policy (AUTH-02), the password page and forced change when a staff password expires (AUTH-03)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from yidi.accounts import auth
from yidi.accounts.models import User
from yidi.audit.models import AuditEvent
from yidi.cases.builders import DEFAULT_PASSWORD

START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
NEW_PASSWORD = "Fengqiao-Jingyan-63"


def post_login(client, username="registrar", password=DEFAULT_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def change_form(old=DEFAULT_PASSWORD, new=NEW_PASSWORD, repeat=None):
    return {"old_password": old, "new_password1": new, "new_password2": new if repeat is None else repeat}


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("Short-1a", ["此密码太短，至少要包含 12 个字符。"]),
        ("lowercase-only-pass", ["密码须包含大写字母、小写字母、数字、符号中的至少 3 类。"]),
        ("Password1234!", ["密码不能包含常见词或本单位相关词语（“password”）。"]),
        ("Tiaojie调解2026ab", ["密码不能包含常见词或本单位相关词语（“调解”）。"]),
        ("Call-12345-today", ["密码不能包含常见词或本单位相关词语（“12345”）。"]),
        ("Qwertyuiop12", ["这个密码太常见了。", "密码不能包含常见词或本单位相关词语（“qwerty”）。"]),
        ("Zhouqiang-2026!", ["密码跟 用户名 太相似了。"]),
        ("123456789012", [
            "密码须包含大写字母、小写字母、数字、符号中的至少 3 类。",
            "密码不能包含常见词或本单位相关词语（“12345”）。",
            "密码只包含数字。",
        ]),
    ],
)
def test_a_password_that_breaks_the_policy_is_refused_with_chinese_messages(password, messages):
    with pytest.raises(ValidationError) as error:
        validate_password(password, User(username="zhouqiang", display_name="周强"))

    assert error.value.messages == messages


@pytest.mark.parametrize("password", [NEW_PASSWORD, "枫桥经验Sixty3号诸暨市", "lower-and-digits-2026", "UPPER AND lower words"])
def test_a_long_password_with_three_kinds_of_character_is_accepted(password):
    validate_password(password, User(username="zhouqiang", display_name="周强"))


@pytest.mark.django_db
def test_a_sixty_four_character_password_is_accepted_and_checked_in_full(registrar):
    long_password = "Fq-" + "枫桥经验" * 8 + "a1" * 14 + "Z"
    assert len(long_password) == 64
    validate_password(long_password, registrar)
    auth.do_change_password(registrar, long_password, actor=registrar)

    assert User.objects.get(pk=registrar.pk).check_password(long_password)
    assert not User.objects.get(pk=registrar.pk).check_password(long_password[:-1])


@override_settings(AUTH_PASSWORD_BLOCKLIST=["zhuji"])
def test_local_words_can_be_added_to_the_blocklist():
    with pytest.raises(ValidationError) as error:
        validate_password("Zhuji-Centre-2026", None)

    assert error.value.messages == ["密码不能包含常见词或本单位相关词语（“zhuji”）。"]


@pytest.mark.django_db
def test_the_password_page_changes_the_password_keeps_the_user_logged_in_and_audits_it(client, registrar):
    with time_machine.travel(START, tick=False):
        post_login(client)
        response = client.post(reverse("password_change"), change_form())

    assert response.status_code == 302 and response["Location"] == reverse("workbench")
    registrar.refresh_from_db()
    assert registrar.check_password(NEW_PASSWORD) and registrar.password_changed_at == START
    assert client.get(reverse("account_security")).status_code == 200
    event = AuditEvent.objects.get(action="auth.password_change")
    assert (event.actor_id, event.object_id, event.fields) == (registrar.pk, "registrar", ["password"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (change_form(old="Wrong-password-1"), "old_password", "你的旧密码不正确。请重新输入。"),
        (change_form(new=DEFAULT_PASSWORD), "new_password1", "新密码不能与当前密码相同。"),
        (change_form(repeat="Fengqiao-Jingyan-64"), "new_password2", "输入的两个密码不一致。"),
        (change_form(new="short-1A"), "new_password2", "此密码太短，至少要包含 12 个字符。"),
    ],
)
def test_the_password_page_refuses_bad_input_and_changes_nothing(client, registrar, form, field, message):
    post_login(client)
    stored = User.objects.get(pk=registrar.pk).password

    response = client.post(reverse("password_change"), form)

    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert User.objects.get(pk=registrar.pk).password == stored
    assert not AuditEvent.objects.filter(action="auth.password_change").exists()


@pytest.mark.django_db
def test_an_expired_password_must_be_changed_before_any_other_page(client, registrar):
    with time_machine.travel(registrar.password_changed_at + timedelta(days=90), tick=False):
        logged_in = post_login(client)
        forced = client.get(logged_in["Location"])
        also_forced = client.get(reverse("case_list"))
        page = client.get(reverse("password_change")).content.decode()
        changed = client.post(reverse("password_change"), change_form())
        free_again = client.get(reverse("case_list"))

    assert logged_in["Location"] == reverse("workbench")
    assert (forced.status_code, forced["Location"]) == (302, reverse("password_change"))
    assert (also_forced.status_code, also_forced["Location"]) == (302, reverse("password_change"))
    assert page.count('class="alert alert--warning"') == 1
    assert "您的密码已使用超过 90 天，修改密码后才能继续使用系统。" in page
    assert changed["Location"] == reverse("workbench")
    assert free_again.status_code == 200


@pytest.mark.django_db
def test_a_password_is_valid_until_day_ninety(client, registrar):
    with time_machine.travel(registrar.password_changed_at + timedelta(days=89, hours=23), tick=False):
        post_login(client)
        assert client.get(reverse("workbench")).status_code == 200


@pytest.mark.django_db
def test_an_account_whose_password_was_never_set_by_set_password_must_set_one(client, registrar):
    User.objects.filter(pk=registrar.pk).update(password_changed_at=None)
    post_login(client)

    response = client.get(reverse("workbench"))

    assert response["Location"] == reverse("password_change")
    assert "请先设置新密码，然后才能继续使用系统。" in client.get(reverse("password_change")).content.decode()


@pytest.mark.django_db
def test_a_citizens_password_never_expires(citizen):
    later = citizen.password_changed_at + timedelta(days=400)

    assert auth.is_password_change_required(citizen, now=later) is False
    assert auth.password_expires_at(citizen) is None


@pytest.mark.django_db
@override_settings(AUTH_PASSWORD_MAX_AGE_DAYS=0)
def test_password_expiry_can_be_switched_off(registrar):
    assert auth.is_password_change_required(registrar, now=registrar.password_changed_at + timedelta(days=400)) is False


@pytest.mark.django_db
def test_setting_a_password_starts_its_age(registrar):
    with time_machine.travel(START, tick=False):
        registrar.set_password(NEW_PASSWORD)

    assert registrar.password_changed_at == START


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"])
def test_a_log_in_that_upgrades_the_stored_hash_does_not_restart_the_passwords_age(client, registrar):
    User.objects.filter(pk=registrar.pk).update(
        password=PBKDF2PasswordHasher().encode(DEFAULT_PASSWORD, "salt1234", iterations=1000),
        password_changed_at=START)

    with time_machine.travel(START + timedelta(days=10), tick=False):
        post_login(client)

    registrar.refresh_from_db()
    assert registrar.password.startswith("md5$") and registrar.password_changed_at == START
