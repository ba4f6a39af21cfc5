"""Password hashing (AUTH-06; docs/decisions/0004-password-hashing-costs.md): Argon2id with fixed costs, old
hashes upgraded on log-in, and at most `YIDI_PASSWORD_HASH_SLOTS` hashes at once in a process."""

import threading
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.test import override_settings
from django.urls import reverse

import yidi.settings as production
from yidi.accounts import hashers
from yidi.accounts.models import User
from yidi.cases.builders import DEFAULT_PASSWORD

PRODUCTION_HASHERS = override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS)
START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def fresh_slots():
    """The semaphore is made on first use from the settings: make it again for the test, and after it."""
    hashers._slots = None
    yield
    hashers._slots = None


def test_production_stores_passwords_with_argon2id_at_the_documented_costs():
    assert production.PASSWORD_HASHERS[0] == "yidi.accounts.hashers.BoundedArgon2PasswordHasher"
    with PRODUCTION_HASHERS:
        encoded = make_password("Fengqiao-Jingyan-63")

        assert encoded.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
        assert check_password("Fengqiao-Jingyan-63", encoded) is True
        assert check_password("Fengqiao-Jingyan-64", encoded) is False


@pytest.mark.django_db
def test_a_hash_with_djangos_default_costs_still_logs_in_and_is_stored_again_with_ours(client, registrar):
    old = Argon2PasswordHasher().encode(DEFAULT_PASSWORD, "saltsaltsalt")
    assert "$m=102400,t=2,p=8$" in old
    User.objects.filter(pk=registrar.pk).update(password=old, password_changed_at=START)

    with PRODUCTION_HASHERS, time_machine.travel(START, tick=False):
        response = client.post(reverse("login"), {"username": "registrar", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    registrar.refresh_from_db()
    assert registrar.password.startswith("argon2$argon2id$v=19$m=47104,t=1,p=1$")
    assert registrar.password_changed_at == START  # an upgrade of the hash is not a new password


@pytest.mark.django_db
def test_a_wrong_password_against_an_old_hash_changes_nothing(client, registrar):
    old = Argon2PasswordHasher().encode(DEFAULT_PASSWORD, "saltsaltsalt")
    User.objects.filter(pk=registrar.pk).update(password=old)

    with PRODUCTION_HASHERS:
        response = client.post(reverse("login"), {"username": "registrar", "password": "Not-The-Password-1"})

    assert response.status_code == 200 and "_auth_user_id" not in client.session
    registrar.refresh_from_db()
    assert registrar.password == old


@pytest.mark.parametrize("slots", [1, 2])
def test_no_more_hashes_run_at_once_than_the_process_has_slots(monkeypatch, settings, fresh_slots, slots):
    settings.YIDI_PASSWORD_HASH_SLOTS = slots
    running, most, lock = 0, 0, threading.Lock()

    def slow_hash(self, password, salt):  # stands in for the real one, which is too quick to overlap reliably
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return f"argon2$fake${salt}"

    monkeypatch.setattr(Argon2PasswordHasher, "encode", slow_hash)
    start = threading.Barrier(6)

    def log_in():
        start.wait()
        hashers.BoundedArgon2PasswordHasher().encode("Fengqiao-Jingyan-63", "saltsaltsalt")

    threads = [threading.Thread(target=log_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most == slots and running == 0


def test_a_hash_that_fails_gives_its_slot_back(monkeypatch, settings, fresh_slots):
    settings.YIDI_PASSWORD_HASH_SLOTS = 1

    def broken(self, password, encoded):
        raise MemoryError("no memory for the hash")

    monkeypatch.setattr(Argon2PasswordHasher, "verify", broken)
    with pytest.raises(MemoryError):
        hashers.BoundedArgon2PasswordHasher().verify("x", "argon2$argon2id$whatever")

    assert hashers.hashing_slots().acquire(blocking=False) is True  # the slot is free again
    hashers.hashing_slots().release()
