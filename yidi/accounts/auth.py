"""Log-in hardening: lockout, rate limits, TOTP two-factor, password policy and inactive accounts.

Requirements: security-requirements.md AUTH-02…AUTH-05, AUTH-07, WEB-08; the design and its settings are in
docs/authentication.md. Session rules (absolute limit, forced steps) are in `yidi.accounts.middleware`.

Rules:
- A failed log-in counts against the user name (whether or not the account exists) and the source address.
  `AUTH_LOCKOUT_FAILURES` (5) failures of one user name within `AUTH_LOCKOUT_MINUTES` (30) lock it for that
  long; `AUTH_LOCKOUT_SOURCE_FAILURES` (20) failures from one address lock the address. A wrong second-factor
  code counts like a wrong password. Only a completed log-in resets the user name's count; the address count
  runs out with its window.
- While locked, even the right password is refused, with the same message as a wrong one
  (`GENERIC_LOGIN_ERROR`), so the page never tells whether an account exists or is locked.
- Every failure, lock, refusal, expired lock (`auth.unlock`) and completed log-in writes an audit row.
- The log-in and code POSTs are rate limited per address (`AUTH_LOGIN_RATE_PER_MINUTE`, 20), in the database.
- Two-factor (TOTP, RFC 6238, 6 digits, 30 s) is mandatory for the three admin roles, leaders, supervisors,
  superusers and the roles in `AUTH_TWO_FACTOR_EXTRA_ROLES`; others may enrol. A code is accepted for the
  current step ±1 and only for a step later than the last one accepted (no replay).
- Staff passwords expire after `AUTH_PASSWORD_MAX_AGE_DAYS` (90; 0 = never); citizens' never do.
- Accounts without a log-in for `AUTH_INACTIVE_ACCOUNT_DAYS` (90; 0 = never) are disabled by a daily job.
"""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yidi.accounts.domain import ADMIN_ROLES, STAFF_ROLES, Role
from yidi.accounts.models import (
    LoginThrottle,
    LoginThrottleKind,
    RecoveryCode,
    RequestRateWindow,
    TwoFactorDevice,
    User,
    UserRole,
)
from yidi.audit.actions import record, record_many
from yidi.audit.models import AuditOutcome
from yidi.core.crypto import get_field_cipher

GENERIC_LOGIN_ERROR = "用户名或密码错误，或账号已被临时锁定"
SECOND_FACTOR_ROLES = ADMIN_ROLES | {Role.LEADER, Role.SUPERVISOR}
TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
TOTP_ISSUER = "一地"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
RATE_WINDOW_SECONDS = 60
_SIX_DIGITS = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Policy:
    lockout_failures: int
    lockout: timedelta
    source_lockout_failures: int
    login_rate_per_minute: int
    session_absolute: timedelta
    password_max_age_days: int
    inactive_account_days: int
    extra_two_factor_roles: frozenset[Role]


def get_policy() -> Policy:
    """The policy numbers from the settings (defaults here, so a settings file that lacks one still works)."""
    return Policy(
        lockout_failures=getattr(settings, "AUTH_LOCKOUT_FAILURES", 5),
        lockout=timedelta(minutes=getattr(settings, "AUTH_LOCKOUT_MINUTES", 30)),
        source_lockout_failures=getattr(settings, "AUTH_LOCKOUT_SOURCE_FAILURES", 20),
        login_rate_per_minute=getattr(settings, "AUTH_LOGIN_RATE_PER_MINUTE", 20),
        session_absolute=timedelta(seconds=getattr(settings, "AUTH_SESSION_ABSOLUTE_SECONDS", 12 * 3600)),
        password_max_age_days=getattr(settings, "AUTH_PASSWORD_MAX_AGE_DAYS", 90),
        inactive_account_days=getattr(settings, "AUTH_INACTIVE_ACCOUNT_DAYS", 90),
        extra_two_factor_roles=frozenset(Role(r) for r in getattr(settings, "AUTH_TWO_FACTOR_EXTRA_ROLES", ())),
    )


# --- pure rules --------------------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    """The key failures are counted under: `Registrar ` and `registrar` share one count."""
    return username.strip().casefold()[:150]


def requires_two_factor(user: User) -> bool:
    return user.is_superuser or bool(user.role_set & (SECOND_FACTOR_ROLES | get_policy().extra_two_factor_roles))


def is_citizen_only(user: User) -> bool:
    roles = user.role_set
    return bool(roles) and not roles & STAFF_ROLES


def password_expires_at(user: User) -> datetime | None:
    """When a staff member's password must be changed; None when it never expires."""
    days = get_policy().password_max_age_days
    if days <= 0 or is_citizen_only(user) or user.password_changed_at is None:
        return None
    return user.password_changed_at + timedelta(days=days)


def is_password_change_required(user: User, *, now: datetime) -> bool:
    """A staff member must change a password that was never set by themselves or an administrator through
    `set_password` (`password_changed_at` empty) or that is older than the maximum age."""
    if not user.has_usable_password() or is_citizen_only(user):
        return False
    if user.password_changed_at is None:
        return True
    expires_at = password_expires_at(user)
    return expires_at is not None and now >= expires_at


def totp_step(at: datetime) -> int:
    return int(at.timestamp()) // TOTP_PERIOD_SECONDS


def totp_code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS).generate_otp(step)


def matching_step(secret: str, code: str, *, at: datetime) -> int | None:
    """The time step (current, one before or one after) whose code is `code`, or None."""
    code = "".join(code.split())
    if not _SIX_DIGITS.match(code):
        return None
    now_step = totp_step(at)
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp_code(secret, step), code):
            return step
    return None


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.casefold() if ch.isalnum())


def character_classes(password: str) -> int:
    """How many of upper-case letters, lower-case letters, digits and other characters `password` uses."""
    found = set()
    for ch in password:
        if ch.isupper():
            found.add("upper")
        elif ch.islower():
            found.add("lower")
        elif ch.isdigit():
            found.add("digit")
        else:
            found.add("other")  # punctuation, spaces, Chinese characters …
    return len(found)


# --- password validators (AUTH_PASSWORD_VALIDATORS) ----------------------------------------------------------


class CharacterClassValidator:
    """At least `min_classes` of: upper-case letters, lower-case letters, digits, other characters (等保
    complexity; a documented ASVS 6.2.5 deviation, see docs/authentication.md)."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"


class BlocklistValidator:
    """Refuses passwords that contain a common or local word (case-insensitive), e.g. the hotline 12345 or 调解.
    `AUTH_PASSWORD_BLOCKLIST` adds words (county and centre names, …)."""

    DEFAULT_WORDS = (
        "12345", "54321", "qwerty", "asdfgh", "1qaz", "2wsx", "password", "passw0rd", "p@ssw0rd", "admin",
        "root", "woaini", "iloveyou", "abc123", "调解", "矛调", "纠纷", "密码",
    )

    def __init__(self, words: tuple[str, ...] | None = None):
        self.words = tuple(words) if words is not None else self.DEFAULT_WORDS

    def _words(self) -> list[str]:
        extra = getattr(settings, "AUTH_PASSWORD_BLOCKLIST", ())
        return [w.casefold() for w in (*self.words, *extra) if w.strip()]

    def validate(self, password: str, user=None) -> None:
        folded = password.casefold()
        for word in self._words():
            if word in folded:
                raise ValidationError(f"密码不能包含常见词或本单位相关词语（“{word}”）。", code="password_blocklisted")

    def get_help_text(self) -> str:
        return "密码不能包含常见词或本单位相关词语（如 12345、调解）。"


# --- lockout ---------------------------------------------------------------------------------------------------


def source_key(source_ip: str | None) -> str:
    return (source_ip or "unknown")[:64]


def _targets(username: str, source_ip: str | None) -> list[tuple[str, str, int]]:
    policy = get_policy()
    return [
        (LoginThrottleKind.USERNAME, normalise_username(username), policy.lockout_failures),
        (LoginThrottleKind.SOURCE_IP, source_key(source_ip), policy.source_lockout_failures),
    ]


_OBJECT_TYPE = {LoginThrottleKind.USERNAME: "user", LoginThrottleKind.SOURCE_IP: "source_ip"}


def _audit_id(username: str) -> str:
    """The user name as typed, cut to the audit log's object id column."""
    return username[:100]


def _rows_of(username: str, source_ip: str | None):
    matches = Q()
    for kind, key, _ in _targets(username, source_ip):
        matches |= Q(kind=kind, key=key)
    return LoginThrottle.objects.filter(matches)


def is_login_locked(*, username: str, source_ip: str | None, now: datetime | None = None) -> bool:
    return _rows_of(username, source_ip).filter(locked_until__gt=now or timezone.now()).exists()


def _is_locked_holding_rows(*, username: str, source_ip: str | None, now: datetime) -> bool:
    """`is_login_locked`, keeping the rows locked until the transaction ends, so no lock can start between
    this check and the log-in the transaction completes."""
    locked = False
    for kind, key, _ in _targets(username, source_ip):  # always user name, then address: no deadlocks
        row = LoginThrottle.objects.select_for_update().filter(kind=kind, key=key).first()
        locked = locked or (row is not None and row.locked_until is not None and row.locked_until > now)
    return locked


def _locked_row(kind: str, key: str) -> LoginThrottle:
    row, _ = LoginThrottle.objects.select_for_update().get_or_create(kind=kind, key=key)
    return row


def _restart_if_expired(row: LoginThrottle, *, now: datetime, window: timedelta) -> dict | None:
    """Restart a count whose window or lock has run out; return the `auth.unlock` audit entry for a lock."""
    if row.locked_until is not None and row.locked_until <= now:
        entry = {
            "action": "auth.unlock", "object_type": _OBJECT_TYPE[row.kind], "object_id": _audit_id(row.key),
            "data": {"locked_until": row.locked_until.isoformat(), "failures": row.failures},
        }
        row.failures, row.window_started_at, row.locked_until = 0, None, None
        return entry
    if row.locked_until is None and row.window_started_at is not None and row.window_started_at + window <= now:
        row.failures, row.window_started_at = 0, None
    return None


@transaction.atomic
def do_record_login_failure(*, username: str, source_ip: str | None, stage: str = "password") -> bool:
    """Count one failed log-in (`stage` "password" or "second_factor"); returns whether the user name or the
    address is now locked. Writes `auth.login_failed` (outcome failed), or `auth.lockout` (outcome denied)
    when this failure starts a lock, after any `auth.unlock` of an expired lock."""
    now, policy = timezone.now(), get_policy()
    entries, newly_locked, counts, still_locked = [], [], {}, False
    for kind, key, limit in _targets(username, source_ip):
        row = _locked_row(kind, key)
        unlock = _restart_if_expired(row, now=now, window=policy.lockout)
        if unlock:
            entries.append(unlock)
        if row.locked_until is None:
            row.failures += 1
            row.window_started_at = row.window_started_at or now
            if limit > 0 and row.failures >= limit:
                row.locked_until = now + policy.lockout
                newly_locked.append(str(kind))
        still_locked = still_locked or row.locked_until is not None
        counts[str(kind)] = row.failures
        row.save(update_fields=["failures", "window_started_at", "locked_until"])
    data = {"stage": stage, "failures": counts[LoginThrottleKind.USERNAME],
            "source_failures": counts[LoginThrottleKind.SOURCE_IP]}
    if newly_locked:
        entries.append({
            "action": "auth.lockout", "object_type": "user", "object_id": _audit_id(username),
            "outcome": AuditOutcome.DENIED, "reason": "连续登录失败，临时锁定",
            "data": {**data, "locked": newly_locked, "locked_until": (now + policy.lockout).isoformat()},
        })
    else:
        entries.append({
            "action": "auth.login_failed", "object_type": "user", "object_id": _audit_id(username),
            "outcome": AuditOutcome.FAILED, "data": data,
        })
    record_many(actor=None, entries=entries)
    return still_locked


@transaction.atomic
def do_refuse_locked_login(*, username: str, source_ip: str | None, stage: str = "password") -> None:
    record(
        actor=None, action="auth.login_refused", object_type="user", object_id=_audit_id(username),
        outcome=AuditOutcome.DENIED, reason="账号或来源地址已被临时锁定", data={"stage": stage},
    )


def check_password_login(*, username: str, password: str, source_ip: str | None) -> User | None:
    """The account whose password this is, unless the user name or the address is locked; every refusal is
    counted and audited. The password is checked even when locked, so a locked account answers as slowly as
    any other."""
    locked = is_login_locked(username=username, source_ip=source_ip)
    user = authenticate(None, username=username, password=password)
    if locked:
        do_refuse_locked_login(username=username, source_ip=source_ip)
        return None
    if user is None or is_service_account(user):
        do_record_login_failure(username=username, source_ip=source_ip)
        return None
    return user


def is_service_account(user: User) -> bool:
    """An account that acts for a system, never for a person at the log-in page: an API client's, or the citizen
    portal's (the citizen role only). Even with a password set by mistake in the admin, it cannot log in."""
    return is_citizen_only(user) or hasattr(user, "api_client")


@transaction.atomic
def do_record_login(user: User, *, source_ip: str | None, second_factor: str) -> bool:
    """A completed log-in (`second_factor`: "none", "totp" or "recovery_code"): resets the user name's count
    and writes `auth.login`. Returns False, and audits a refusal instead, if a lock started meanwhile."""
    now, policy = timezone.now(), get_policy()
    unlocks = []
    for kind, key, _ in _targets(user.username, source_ip):
        row = LoginThrottle.objects.select_for_update().filter(kind=kind, key=key).first()
        if row is None:
            continue
        unlock = _restart_if_expired(row, now=now, window=policy.lockout)
        if unlock:
            unlocks.append(unlock)
        if row.locked_until is not None:
            row.save(update_fields=["failures", "window_started_at", "locked_until"])
            record_many(actor=None, entries=unlocks)
            do_refuse_locked_login(username=user.username, source_ip=source_ip, stage="complete")
            return False
        if kind == LoginThrottleKind.USERNAME:
            row.failures, row.window_started_at = 0, None
        row.save(update_fields=["failures", "window_started_at", "locked_until"])
    record_many(actor=None, entries=unlocks)
    record(actor=user, action="auth.login", object_type="user", object_id=user.username,
           data={"second_factor": second_factor})
    return True


@transaction.atomic
def do_record_logout(user: User, *, reason: str = "logout") -> None:
    """`reason`: "logout" (the user), "absolute_timeout" or "second_factor_required" (the server ended it)."""
    action = "auth.logout" if reason == "logout" else "auth.session_ended"
    record(actor=user, action=action, object_type="user", object_id=user.username, data={"reason": reason})


# --- rate limit --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int = 0


@transaction.atomic
def do_count_request(*, scope: str, source_ip: str | None, limit_per_minute: int | None = None) -> RateDecision:
    """Count one request of `scope` from `source_ip` in the current minute. The first request over the limit
    in a minute is audited (`auth.rate_limited`); the following ones are not, so a flood cannot flood the log."""
    limit = get_policy().login_rate_per_minute if limit_per_minute is None else limit_per_minute
    if limit <= 0:
        return RateDecision(True)
    now = timezone.now()
    started_at = now.replace(second=0, microsecond=0)
    key = source_key(source_ip)
    row, created = RequestRateWindow.objects.select_for_update().get_or_create(
        scope=scope, key=key, window_started_at=started_at
    )
    if created:
        RequestRateWindow.objects.filter(scope=scope, key=key, window_started_at__lt=started_at).delete()
    row.hits += 1
    row.save(update_fields=["hits"])
    if row.hits <= limit:
        return RateDecision(True)
    if row.hits == limit + 1:
        record(actor=None, action="auth.rate_limited", object_type="source_ip", object_id=key,
               outcome=AuditOutcome.DENIED, data={"scope": scope, "limit_per_minute": limit})
    return RateDecision(False, RATE_WINDOW_SECONDS - now.second)


# --- two-factor ----------------------------------------------------------------------------------------------------

_ENROLMENT_CONTEXT = b"accounts.two_factor.enrolment"


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits


def seal_enrolment_secret(secret: str) -> str:
    """The secret being enrolled, encrypted for the session (sessions are stored in clear JSON)."""
    return get_field_cipher().encrypt(secret, context=_ENROLMENT_CONTEXT)


def open_enrolment_secret(sealed: str) -> str:
    return get_field_cipher().decrypt(sealed, context=_ENROLMENT_CONTEXT)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS).provisioning_uri(
        name=user.username, issuer_name=TOTP_ISSUER
    )


def qr_code_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG (no style attributes, so the strict CSP allows it)."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, dark="#1f2933", light="#ffffff", svgclass=None, lineclass=None, title="两步验证绑定二维码"
    )


def format_secret(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def has_two_factor(user: User) -> bool:
    return TwoFactorDevice.objects.filter(user=user).exists()


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


@dataclass(frozen=True)
class SecondFactorResult:
    ok: bool
    method: str = ""  # "totp" or "recovery_code"
    locked: bool = False
    recovery_codes: tuple[str, ...] = ()


@transaction.atomic
def do_enrol_two_factor(
    user: User, *, secret: str, code: str, source_ip: str | None, completes_login: bool
) -> SecondFactorResult:
    """Bind the authenticator whose `secret` produced `code`, and issue new recovery codes (returned once,
    stored hashed). `completes_login`: this is the enrolment step of a log-in (mandatory two-factor), so a
    wrong code counts as a failed log-in and the right one completes the log-in (`auth.login`)."""
    now = timezone.now()
    if completes_login and _is_locked_holding_rows(username=user.username, source_ip=source_ip, now=now):
        do_refuse_locked_login(username=user.username, source_ip=source_ip, stage="second_factor")
        return SecondFactorResult(False, locked=True)
    step = matching_step(secret, code, at=now)
    if step is None:
        if completes_login:
            return SecondFactorResult(False, locked=do_record_login_failure(
                username=user.username, source_ip=source_ip, stage="second_factor"))
        return SecondFactorResult(False)
    TwoFactorDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "enrolled_at": now, "last_used_step": step}
    )
    RecoveryCode.objects.filter(user=user).delete()
    codes = _new_recovery_codes()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=make_password(normalise_recovery_code(c))) for c in codes
    )
    if completes_login:
        do_record_login(user, source_ip=source_ip, second_factor="totp")  # cannot find a lock: rows are held
    record(actor=user, action="auth.two_factor_enrol", object_type="user", object_id=user.username,
           fields=["two_factor_device", "recovery_codes"])
    return SecondFactorResult(True, "totp", recovery_codes=tuple(codes))


def _consume_totp(user: User, code: str, *, now: datetime) -> bool:
    device = TwoFactorDevice.objects.filter(user=user).first()
    if device is None:
        return False
    step = matching_step(device.secret, code, at=now)
    if step is None:
        return False
    # compare-and-swap: two requests with the same code cannot both succeed
    return TwoFactorDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step) == 1


def _consume_recovery_code(user: User, code: str, *, now: datetime) -> bool:
    normalised = normalise_recovery_code(code)
    if len(normalised) != 10:
        return False
    for item in RecoveryCode.objects.filter(user=user, used_at__isnull=True).order_by("pk"):
        if check_password(normalised, item.code_hash):
            return RecoveryCode.objects.filter(pk=item.pk, used_at__isnull=True).update(used_at=now) == 1
    return False


@transaction.atomic
def do_verify_two_factor(user: User, code: str, *, source_ip: str | None) -> SecondFactorResult:
    """The second step of a log-in: a TOTP code (single-use) or an unused recovery code. Success resets the
    failure count and writes `auth.login`; a wrong code counts as a failed log-in."""
    now = timezone.now()
    if _is_locked_holding_rows(username=user.username, source_ip=source_ip, now=now):
        do_refuse_locked_login(username=user.username, source_ip=source_ip, stage="second_factor")
        return SecondFactorResult(False, locked=True)
    method = ""
    if _consume_totp(user, code, now=now):
        method = "totp"
    elif _consume_recovery_code(user, code, now=now):
        method = "recovery_code"
    if not method:
        locked = do_record_login_failure(username=user.username, source_ip=source_ip, stage="second_factor")
        return SecondFactorResult(False, locked=locked)
    do_record_login(user, source_ip=source_ip, second_factor=method)  # cannot find a lock: rows are held
    return SecondFactorResult(True, method)


@dataclass(frozen=True)
class ConfirmResult:
    ok: bool
    locked: bool = False
    error_field: str = ""  # "password" or "code"
    error: str = ""


@transaction.atomic
def do_confirm_identity(user: User, *, password: str, code: str, source_ip: str | None) -> ConfirmResult:
    """Re-authentication before a sensitive action (AUTH-09): the password again, and the authenticator code
    for accounts that have one. A failure counts towards the log-in lockout like a failed log-in; success
    writes `auth.reauth`."""
    now = timezone.now()
    if _is_locked_holding_rows(username=user.username, source_ip=source_ip, now=now):
        do_refuse_locked_login(username=user.username, source_ip=source_ip, stage="reauth")
        return ConfirmResult(False, locked=True)
    if not user.check_password(password):
        locked = do_record_login_failure(username=user.username, source_ip=source_ip, stage="reauth")
        return ConfirmResult(False, locked=locked, error_field="password", error="密码不正确。")
    if has_two_factor(user) and not _consume_totp(user, code.strip(), now=now):
        locked = do_record_login_failure(username=user.username, source_ip=source_ip, stage="reauth")
        return ConfirmResult(False, locked=locked, error_field="code",
                             error="验证码错误或已使用过，请输入验证器上最新显示的 6 位数字。")
    record(actor=user, action="auth.reauth", object_type="user", object_id=user.username,
           data={"second_factor": "totp" if has_two_factor(user) else "none"})
    return ConfirmResult(True)


def count_unused_recovery_codes(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def do_install_two_factor(user: User, *, secret: str, actor) -> TwoFactorDevice:
    """Bind a known secret without a code: provisioning by an administrator (a token handed out in person) or
    the demo's published secret. New recovery codes are not issued; the user's old ones are removed."""
    device, _ = TwoFactorDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "enrolled_at": timezone.now(), "last_used_step": 0}
    )
    RecoveryCode.objects.filter(user=user).delete()
    record(actor=actor, action="auth.two_factor_install", object_type="user", object_id=user.username,
           fields=["two_factor_device"])
    return device


@transaction.atomic
def do_reset_two_factor(user: User, *, actor, reason: str) -> None:
    """Remove an account's authenticator and recovery codes (lost phone). For the security admin; the user
    enrols again at the next log-in if two-factor is mandatory for them."""
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    record(actor=actor, action="auth.two_factor_reset", object_type="user", object_id=user.username,
           fields=["two_factor_device", "recovery_codes"], reason=reason)


# --- passwords -------------------------------------------------------------------------------------------------


@transaction.atomic
def do_change_password(user: User, new_password: str, *, actor) -> None:
    """Set a password the caller has validated (`validate_password`); restarts the password's age."""
    user.set_password(new_password)
    user.save(update_fields=["password", "password_changed_at"])
    record(actor=actor, action="auth.password_change", object_type="user", object_id=user.username,
           fields=["password"])


# --- periodic jobs -----------------------------------------------------------------------------------------------

DISABLE_BATCH_SIZE = 200


def do_disable_inactive_accounts(*, now: datetime | None = None) -> list[str]:
    """Disable active accounts without a log-in for `AUTH_INACTIVE_ACCOUNT_DAYS` (never logged in: counted
    from the account's creation). One transaction and one audit row per account (`user.disable_inactive`).
    Their sessions die with them: the authentication middleware treats a disabled account as anonymous.
    Idempotent: a second run finds nothing."""
    days = get_policy().inactive_account_days
    if days <= 0:
        return []
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    stale = Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    # Service accounts (the citizen portal's: the citizen role and no usable password) never log in by design.
    service = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX) & Q(
        pk__in=UserRole.objects.filter(role=Role.CITIZEN).values("user_id")
    )
    stale &= ~service
    disabled: list[str] = []
    last_pk = 0
    while True:
        batch = list(
            User.objects.filter(stale, is_active=True, pk__gt=last_pk).order_by("pk")
            .values_list("pk", "username", "last_login")[:DISABLE_BATCH_SIZE]
        )
        if not batch:
            return disabled
        for pk, username, last_login in batch:
            if _disable_one(pk, username, last_login, stale=stale, days=days):
                disabled.append(username)
        last_pk = batch[-1][0]


@transaction.atomic
def _disable_one(pk: int, username: str, last_login: datetime | None, *, stale: Q, days: int) -> bool:
    # compare-and-swap: an account that logged in meanwhile is left alone
    if User.objects.filter(stale, pk=pk, is_active=True).update(is_active=False) != 1:
        return False
    record(actor=None, action="user.disable_inactive", object_type="user", object_id=username,
           fields=["is_active"], reason=f"超过 {days} 天未登录，自动停用",
           data={"last_login_at": last_login.isoformat() if last_login else None, "inactive_days": days})
    return True


def purge_login_counters(*, now: datetime | None = None) -> int:
    """Delete failure counts whose window and lock are over and rate windows older than an hour."""
    now = now or timezone.now()
    lockout = get_policy().lockout
    finished = (Q(locked_until__isnull=True) | Q(locked_until__lte=now)) & (
        Q(window_started_at__isnull=True) | Q(window_started_at__lte=now - lockout)
    )
    # an expired lock keeps its row until the next attempt audits the unlock, or a day has passed
    finished &= Q(locked_until__isnull=True) | Q(locked_until__lte=now - timedelta(days=1))
    throttles, _ = LoginThrottle.objects.filter(finished).delete()
    windows, _ = RequestRateWindow.objects.filter(window_started_at__lt=now - timedelta(hours=1)).delete()
    return throttles + windows
