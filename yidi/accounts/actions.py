"""Writes to units, accounts, roles and the responsibility list; each one audited in its transaction."""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from yidi.accounts.domain import (
    ADMIN_ROLES,
    HANDLING_LEVEL_LABELS,
    Role,
    RoleConflict,
    UnitKind,
    check_role_set,
)
from yidi.accounts.models import (
    ApiClient,
    ApiScope,
    IdempotencyRecord,
    PlatformType,
    Responsibility,
    ResponsibilityRevision,
    Unit,
    User,
    UserRole,
)
from yidi.audit.actions import record
from yidi.core import clock
from yidi.core.models import TaxonomyLabel
from yidi.regions.models import Region


class AccountError(ValueError):
    """Bad input to an account action; the message is Chinese and says what to fix."""


@transaction.atomic
def do_create_unit(
    *, code: str, name: str, kind: UnitKind, region_code: str, parent_code: str = "", platform_type_code: str = "",
    residency_mode: str = "", function: str = "", actor=None,
) -> Unit:
    """Create or update a unit by its code (idempotent for seeding and provisioning)."""
    kind = UnitKind(kind)
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise AccountError(f"未知的区划代码“{region_code}”")
    parent = None
    if parent_code:
        parent = Unit.objects.filter(code=parent_code).first()
        if parent is None:
            raise AccountError(f"未知的上级单位“{parent_code}”")
    platform_type = None
    if platform_type_code:
        platform_type = PlatformType.objects.filter(code=platform_type_code).first()
        if platform_type is None:
            raise AccountError(f"未知的平台类型“{platform_type_code}”")
    if kind == UnitKind.TOWNSHIP_PLATFORM and platform_type is None:
        raise AccountError("基层治理平台必须指定平台类型")
    unit, created = Unit.objects.update_or_create(
        code=code,
        defaults={
            "name": name, "kind": kind, "region": region, "parent": parent, "platform_type": platform_type,
            "residency_mode": residency_mode, "function": function,
        },
    )
    record(
        actor=actor, action="unit.create" if created else "unit.update", object_type="unit", object_id=code,
        fields=["name", "kind", "region", "parent", "platform_type", "residency_mode", "function"],
    )
    return unit


@transaction.atomic
def do_create_user(
    *, username: str, password: str | None, roles: list[Role], unit_code: str = "", display_name: str = "", actor=None,
) -> User:
    """Provision an account with its roles. Refuses role sets that break 三员分立 and weak passwords."""
    role_set = frozenset(Role(r) for r in roles)
    if not role_set:
        raise AccountError("至少需要一个角色")
    try:
        check_role_set(role_set)
    except RoleConflict as error:
        raise AccountError(str(error)) from None
    if User.objects.filter(username=username).exists():
        raise AccountError(f"账号“{username}”已存在")
    unit = None
    if unit_code:
        unit = Unit.objects.filter(code=unit_code, is_active=True).first()
        if unit is None:
            raise AccountError(f"未知或已停用的单位“{unit_code}”")
    elif role_set - {Role.CITIZEN, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}:
        raise AccountError("工作人员必须属于一个单位（--unit）")
    user = User(username=username, display_name=display_name or username, unit=unit)
    if password is None:
        user.set_unusable_password()  # must be set by an administrator before the first log-in
    else:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise AccountError("密码不符合要求：" + "；".join(error.messages)) from None
        user.set_password(password)
    user.is_staff = bool(role_set & {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})
    user.save()
    for role in sorted(role_set):
        UserRole.objects.create(user=user, role=role, is_admin_role=role in ADMIN_ROLES)
    record(actor=actor, action="user.create", object_type="user", object_id=username,
           fields=["roles", "unit"], data={"roles": sorted(role_set), "unit": unit_code})
    return user


@transaction.atomic
def do_grant_role(user: User, role: Role, *, actor) -> UserRole:
    role = Role(role)
    current = frozenset(Role(r) for r in user.roles.values_list("role", flat=True))
    try:
        check_role_set(current | {role})
    except RoleConflict as error:
        raise AccountError(str(error)) from None
    try:
        with transaction.atomic():
            granted = UserRole.objects.create(user=user, role=role, is_admin_role=role in ADMIN_ROLES)
    except IntegrityError:
        raise AccountError("三员分立：该用户已持有管理员角色或已有此角色") from None
    user.__dict__.pop("_role_codes", None)
    record(actor=actor, action="user.grant_role", object_type="user", object_id=user.username, data={"role": role})
    return granted


def _responsibility_snapshot(item: Responsibility) -> dict:
    data = model_to_dict(item, fields=["unit", "dispute_type", "level", "is_lead", "note"])
    data["unit_code"] = item.unit.code
    data["dispute_type_code"] = item.dispute_type.code
    return data


@transaction.atomic
def do_save_responsibility(
    *, unit_code: str, dispute_type_code: str, level: str, is_lead: bool = True, note: str = "", actor=None
) -> Responsibility:
    """Add or change one line of the responsibility list; the change history keeps every version."""
    if level not in HANDLING_LEVEL_LABELS:
        raise AccountError(f"未知的处置层级“{level}”")
    unit = Unit.objects.filter(code=unit_code).first()
    if unit is None:
        raise AccountError(f"未知的单位“{unit_code}”")
    dispute_type = TaxonomyLabel.objects.filter(taxonomy__code="mediation_type", code=dispute_type_code).first()
    if dispute_type is None:
        raise AccountError(f"未知的纠纷类型“{dispute_type_code}”")
    item, created = Responsibility.objects.update_or_create(
        unit=unit, dispute_type=dispute_type, level=level, defaults={"is_lead": is_lead, "note": note}
    )
    _revise(item, "create" if created else "update", actor=actor)
    return item


@transaction.atomic
def do_delete_responsibility(item: Responsibility, *, actor) -> None:
    _revise(item, "delete", actor=actor)
    item.delete()


def _revise(item: Responsibility, operation: str, *, actor) -> None:
    snapshot = _responsibility_snapshot(item)
    ResponsibilityRevision.objects.create(
        responsibility_id_ref=item.pk, operation=operation, snapshot=snapshot, changed_at=clock.now(),
        changed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    record(actor=actor, action=f"responsibility.{operation}", object_type="responsibility", object_id=item.pk,
           data=snapshot)


# --- integration clients of the native API ------------------------------------------------------------------

API_CLIENT_ROLES = (Role.REGISTRAR, Role.HANDLER)
API_CLIENT_USERNAME_PREFIX = "api-client-"
TOKEN_PREFIX_LENGTH = 8
LAST_USED_RESOLUTION = timedelta(minutes=1)  # `last_used_at` is written at most once a minute per client
_CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def do_create_api_client(*, name: str, unit_code: str, scopes: list[str], actor=None) -> tuple[ApiClient, str]:
    """Create an integration client and its service account; return the client and its token (shown only now).

    - the name is a slug (lower-case letters, digits, `-`), unique;
    - scopes come from `ApiScope`, at least one;
    - the service account (`api-client-<name>`) holds the clerk and handler roles in the client's unit and has no
      usable password, so it acts through the same access chokepoint and actions as the unit's staff and never
      logs in; the scopes then narrow what the client may call.
    """
    if not _CLIENT_NAME.match(name):
        raise AccountError("客户端名称只能使用小写字母、数字和“-”，3～60个字符")
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown or not scopes:
        raise AccountError(f"未知的权限范围：{'、'.join(unknown)}" if unknown else "至少需要一个权限范围")
    if ApiClient.objects.filter(name=name).exists():
        raise AccountError(f"客户端“{name}”已存在")
    user = do_create_user(
        username=API_CLIENT_USERNAME_PREFIX + name, password=None, roles=list(API_CLIENT_ROLES), unit_code=unit_code,
        display_name=f"接口客户端 {name}", actor=actor,
    )
    token = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name, unit=user.unit, user=user, scopes=sorted(set(scopes)), token_prefix=token[:TOKEN_PREFIX_LENGTH],
        token_hash=token_hash(token), created_at=clock.now(), created_by=actor,
    )
    record(actor=actor, action="api_client.create", object_type="api_client", object_id=name,
           fields=["unit", "scopes"], data={"unit": unit_code, "scopes": client.scopes,
                                             "token_prefix": client.token_prefix})
    return client, token


@transaction.atomic
def do_revoke_api_client(name: str, *, actor=None) -> ApiClient:
    """Revoke a client: its token is refused from the next request on. Revoking twice changes nothing more."""
    client = ApiClient.objects.select_for_update().filter(name=name).first()
    if client is None:
        raise AccountError(f"未知的客户端“{name}”")
    if client.revoked_at is not None:
        raise AccountError(f"客户端“{name}”已于 {client.revoked_at:%Y-%m-%d %H:%M} 吊销")
    client.revoked_at = clock.now()
    client.save(update_fields=["revoked_at"])
    record(actor=actor, action="api_client.revoke", object_type="api_client", object_id=name,
           fields=["revoked_at"], data={"token_prefix": client.token_prefix})
    return client


def authenticate_api_client(token: str) -> ApiClient | None:
    """The active client whose token this is, or None (unknown, revoked, or its unit or account disabled).

    The row is found by the token's first characters, then the SHA-256 is compared in constant time.
    `last_used_at` is refreshed at most once a minute (a conditional update, no lock).
    """
    if len(token) < TOKEN_PREFIX_LENGTH or len(token) > 200:
        return None
    digest = token_hash(token)
    candidates = ApiClient.objects.select_related("user", "unit").filter(
        token_prefix=token[:TOKEN_PREFIX_LENGTH], revoked_at__isnull=True
    )
    client = next((c for c in candidates if hmac.compare_digest(c.token_hash, digest)), None)
    if client is None or not (client.unit.is_active and client.user.is_active):
        return None
    if client.user.unit_id == client.unit_id:  # the service account is of the client's unit (as created): one join
        User.unit.field.set_cached_value(client.user, client.unit)  # less on every request; otherwise read lazily
    now = clock.now()
    if client.last_used_at is None or client.last_used_at < now - LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk, last_used_at=client.last_used_at).update(last_used_at=now)
        client.last_used_at = now
    return client


class IdempotencyKeyReused(Exception):
    """The key was already used by this client for a different request."""


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


@transaction.atomic
def do_run_idempotent(
    client: ApiClient, *, key: str, request_hash: str, produce: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run `produce` (a create returning status and JSON body) once per (client, key); return
    (status, body, replayed).

    - the key's row is inserted first, in the same transaction as the create: a concurrent request with the same
      key waits on the unique index, then (once the first commits) finds the stored response and replays it;
    - the same key with another request (`request_hash`) raises `IdempotencyKeyReused`;
    - if `produce` raises, the transaction, the key's row with it, is rolled back: nothing is kept.
    """
    now = clock.now()
    try:
        with transaction.atomic():
            stored = IdempotencyRecord.objects.create(
                client=client, key=key, request_hash=request_hash, status_code=0, response="", created_at=now
            )
    except IntegrityError:
        stored = IdempotencyRecord.objects.get(client=client, key=key)
        if not hmac.compare_digest(stored.request_hash, request_hash):
            raise IdempotencyKeyReused(key) from None
        return stored.status_code, json.loads(stored.response), True
    status, body = produce()
    stored.status_code, stored.response = status, json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False)
    stored.save(update_fields=["status_code", "response"])
    return status, body, False


IDEMPOTENCY_KEEP_DAYS = 7  # REL-03: a retry within at least 24 hours must find its first answer


def purge_idempotency_records(*, now=None) -> int:
    """Delete the stored first answers older than `IDEMPOTENCY_KEEP_DAYS` (daily, by `yidi worker`)."""
    cutoff = (now or clock.now()) - timedelta(days=IDEMPOTENCY_KEEP_DAYS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
