"""Integration clients of the native API: creation prints the token once, only its hash is stored, revocation
refuses the token at once, and both are audited."""

import hashlib
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from yidi.accounts.actions import (
    AccountError,
    authenticate_api_client,
    do_create_api_client,
    do_revoke_api_client,
)
from yidi.accounts.models import ApiClient, Unit, User
from yidi.audit.models import AuditEvent
from yidi.core import clock

pytestmark = pytest.mark.django_db
CHANNELS_URL = "/api/v1/reference/channels"


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_create_command_prints_the_token_once_and_stores_only_its_hash():
    out = StringIO()

    call_command("create_api_client", "--name", "hotline-12345", "--unit", "fq-platform",
                 "--scopes", "cases:read", "reference:read", stdout=out)

    token = out.getvalue().strip().splitlines()[-1]
    client = ApiClient.objects.get(name="hotline-12345")
    assert len(token) == 43
    assert client.token_prefix == token[:8]
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert client.scopes == ["cases:read", "reference:read"]
    assert client.unit.code == "fq-platform"
    assert token not in str(ApiClient.objects.filter(pk=client.pk).values().first())  # not stored in clear
    assert client.user.username == "api-client-hotline-12345"
    assert client.user.has_usable_password() is False
    assert sorted(client.user.role_codes) == ["handler", "registrar"]
    assert AuditEvent.objects.filter(action="api_client.create", object_id="hotline-12345").count() == 1


def test_create_refuses_unknown_scopes_and_duplicate_names():
    do_create_api_client(name="court-odr", unit_code="fq-platform", scopes=["cases:read"])

    with pytest.raises(AccountError, match="未知的权限范围：cases:delete"):
        do_create_api_client(name="other", unit_code="fq-platform", scopes=["cases:delete"])
    with pytest.raises(AccountError, match="已存在"):
        do_create_api_client(name="court-odr", unit_code="fq-platform", scopes=["cases:read"])
    assert ApiClient.objects.count() == 1
    assert not User.objects.filter(username="api-client-other").exists()


def test_a_valid_token_is_accepted_and_last_used_is_recorded(client):
    api_client, token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    assert api_client.last_used_at is None

    with time_machine.travel("2026-03-02 09:00:00+08:00", tick=False):
        response = client.get(CHANNELS_URL, **_bearer(token))

    assert response.status_code == 200
    api_client.refresh_from_db()
    assert api_client.last_used_at.isoformat() == "2026-03-02T01:00:00+00:00"


def test_the_token_look_up_reads_the_client_its_unit_and_account_in_one_query(django_assert_num_queries):
    _client, token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    _moved, moved_token = do_create_api_client(name="moved", unit_code="fq-platform", scopes=["reference:read"])
    User.objects.filter(username="api-client-moved").update(unit=Unit.objects.get(code="jy-platform"))
    ApiClient.objects.update(last_used_at=clock.now())  # used a moment ago: no refresh write in these look-ups

    with django_assert_num_queries(1):
        found = authenticate_api_client(token)
        assert (found.name, found.unit.code, found.user.unit.code) == ("sync", "fq-platform", "fq-platform")
    with django_assert_num_queries(2):  # an account moved to another unit: its own unit, read when asked
        moved = authenticate_api_client(moved_token)
        assert (moved.unit.code, moved.user.unit.code) == ("fq-platform", "jy-platform")


def test_revoked_token_is_refused_with_401_and_the_revocation_is_audited(client):
    _api_client, token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    assert client.get(CHANNELS_URL, **_bearer(token)).status_code == 200
    out = StringIO()

    call_command("revoke_api_client", "--name", "sync", stdout=out)
    response = client.get(CHANNELS_URL, **_bearer(token))

    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated",
                               "message": "未认证：请在 Authorization 头中提供有效的令牌（Bearer）"}
    assert AuditEvent.objects.filter(action="api_client.revoke", object_id="sync").count() == 1
    with pytest.raises(CommandError, match="已于"):
        call_command("revoke_api_client", "--name", "sync", stdout=out)
    with pytest.raises(AccountError, match="未知的客户端"):
        do_revoke_api_client("nobody")


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer not-a-real-token-at-all", "Basic dXNlcjpwYXNz"])
def test_missing_or_wrong_tokens_get_401_json(client, header):
    do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}

    response = client.get(CHANNELS_URL, **extra)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_token_with_the_right_prefix_but_another_secret_is_refused(client):
    _api_client, token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    forged = token[:8] + ("A" if token[8] != "A" else "B") + token[9:]

    assert client.get(CHANNELS_URL, **_bearer(forged)).status_code == 401


def test_a_missing_scope_is_403_forbidden_scope(client):
    _api_client, token = do_create_api_client(name="reader", unit_code="fq-platform", scopes=["cases:read"])

    response = client.get(CHANNELS_URL, **_bearer(token))

    assert response.status_code == 403
    assert response.json() == {"code": "forbidden_scope", "message": "此客户端没有“读取基础数据”（reference:read）权限"}


def test_the_admin_lists_clients_without_their_hashes_and_revokes(client, admin):
    api_client, _token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    client.force_login(admin)

    listing = client.get("/admin/accounts/apiclient/")
    revoke = client.post("/admin/accounts/apiclient/", {"action": "revoke", "_selected_action": [api_client.pk]})

    assert listing.status_code == 200
    assert api_client.token_hash not in listing.content.decode()
    assert revoke.status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_client.revoke", object_id="sync", actor=admin).count() == 1


def test_service_accounts_cannot_log_in_even_with_a_password_set_in_the_admin(client):
    from django.urls import reverse

    from yidi.accounts.domain import Role
    from yidi.cases.builders import DEFAULT_PASSWORD, make_user

    make_user("portal-like", Role.CITIZEN)  # a usable password, the citizen role only
    api_client, _token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["reference:read"])
    api_user = api_client.user
    api_user.set_password(DEFAULT_PASSWORD)
    api_user.save()
    for username in ("portal-like", api_user.username):
        response = client.post(reverse("login"), {"username": username, "password": DEFAULT_PASSWORD})
        assert response.status_code == 200 and "_auth_user_id" not in client.session, username


def test_stored_first_answers_are_kept_seven_days_then_purged():
    from datetime import timedelta

    from yidi.accounts.actions import purge_idempotency_records
    from yidi.accounts.models import IdempotencyRecord
    from yidi.core import clock

    api_client, _token = do_create_api_client(name="sync", unit_code="fq-platform", scopes=["cases:write"])
    now = clock.now()
    for key, age in (("old", timedelta(days=7, seconds=1)), ("recent", timedelta(days=6, hours=23))):
        IdempotencyRecord.objects.create(client=api_client, key=key, request_hash="h", status_code=201,
                                         response="{}", created_at=now - age)

    assert purge_idempotency_records(now=now) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
