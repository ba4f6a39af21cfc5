"""Every write of the citizen portal: the service account, phone verification, submission, tracking links,
supplementary material and the citizen's evaluation.

Rules (docs in the module's functions):
- The person never logs in. A verified phone (an SMS code) lets them submit for 30 minutes, or view one matter
  for 30 minutes; a private tracking link does the same for its matter.
- Everything the portal registers is done by one service account (`portal_actor`), so the timeline and the
  audit log say "群众网上自助" and the matter's own actions keep their checks.
- Code requests are limited per phone (1 a minute, 5 an hour) and per source address (20 an hour); 5 wrong
  codes kill the code and lock the phone for 30 minutes. The counts live in the database.
- Tracking never reveals whether a code exists or whose it is: a code with a phone that is not the applicant's
  gets the same answers as a genuine request, but no message is sent and no code verifies.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from yidi.accounts.domain import Role, UnitKind
from yidi.accounts.models import Unit, User, UserRole
from yidi.audit.actions import record
from yidi.audit.models import AuditOutcome
from yidi.cases.actions import attach_file, do_register_case
from yidi.cases.domain import OPEN_STATUSES, CaseDraft, InvalidInput
from yidi.cases.models import Case, CaseParty
from yidi.cases.uploads import check_upload
from yidi.core import clock
from yidi.core.personal import lookup_hash
from yidi.evaluation.actions import do_evaluate_by_citizen
from yidi.integrations.actions import enqueue
from yidi.portal import domain
from yidi.portal.domain import VerificationDenied
from yidi.portal.models import (
    ChallengePurpose,
    PhoneChallenge,
    PortalSubmission,
    PortalThrottle,
    ThrottleKind,
    TrackingLink,
)

PORTAL_USERNAME = "portal-service"
PORTAL_DISPLAY_NAME = "群众网上自助"


# --- the service account --------------------------------------------------------------------------------------


def portal_unit() -> Unit:
    """The unit the portal registers for: `YIDI_PORTAL_UNIT` (a unit code), else the one active centre."""
    code = getattr(settings, "YIDI_PORTAL_UNIT", "")
    if code:
        unit = Unit.objects.filter(code=code, is_active=True).first()
        if unit is None:
            raise ImproperlyConfigured(f"YIDI_PORTAL_UNIT names no active unit: {code!r}")
        return unit
    centres = list(Unit.objects.filter(kind=UnitKind.CENTRE, is_active=True)[:2])
    if len(centres) != 1:
        raise ImproperlyConfigured(
            "The portal needs one unit to register for: set YIDI_PORTAL_UNIT to its code "
            f"({len(centres)} active centre units found)."
        )
    return centres[0]


@transaction.atomic
def portal_actor() -> User:
    """The portal's service account (`portal-service`, role citizen, no usable password: it never logs in),
    created on first use in the portal's unit. Its unit follows the setting if that changes."""
    unit = portal_unit()
    user = User.objects.select_for_update().filter(username=PORTAL_USERNAME).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(username=PORTAL_USERNAME, display_name=PORTAL_DISPLAY_NAME, unit=unit, is_active=True)
                user.set_unusable_password()
                user.save()
                UserRole.objects.create(user=user, role=Role.CITIZEN, is_admin_role=False)
        except IntegrityError:  # created by a parallel request
            user = User.objects.select_for_update().get(username=PORTAL_USERNAME)
        else:
            record(actor=None, action="user.create", object_type="user", object_id=PORTAL_USERNAME,
                   fields=["roles", "unit"], data={"roles": [Role.CITIZEN], "unit": unit.code, "service": "portal"})
    if user.unit_id != unit.pk:
        user.unit = unit
        user.save(update_fields=["unit"])
        record(actor=None, action="user.update", object_type="user", object_id=PORTAL_USERNAME, fields=["unit"],
               data={"unit": unit.code, "service": "portal"})
    return user


# --- phone verification ---------------------------------------------------------------------------------------


def phone_hash(phone: str) -> str:
    """The same keyed hash the person index uses for phones, so a matter's applicant is found by it."""
    return lookup_hash(phone, purpose="phone")


def _code_hash(salt: str, code: str) -> str:
    return lookup_hash(f"{salt}:{code}", purpose="portal_code")


def _throttle(kind: str, key: str) -> PortalThrottle:
    row, _ = PortalThrottle.objects.select_for_update().get_or_create(kind=kind, key=key)
    return row


def _phone_locked(row: PortalThrottle, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _audit_denied(action: str, *, key: str, reason: str, data: dict | None = None) -> None:
    record(actor=None, action=action, object_type="phone", object_id=key[:16], outcome=AuditOutcome.DENIED,
           reason=reason, data=data)


@dataclass(frozen=True)
class CodeRequest:
    challenge_id: int
    expires_at: datetime


def _applicant_phone_matches(case_code: str, phone_key: str) -> bool:
    """Whether `phone_key` is the phone of an applicant of the matter `case_code` (or the verified phone it was
    submitted with through the portal)."""
    if PortalSubmission.objects.filter(case__code=case_code, phone_hash=phone_key).exists():
        return True
    return CaseParty.objects.filter(
        case__code=case_code, role__in=["applicant", "agent"], person__phone_hash=phone_key
    ).exists()


def _count_denial(denied: VerificationDenied, *, key: str, scope: str) -> None:
    """A rate-limit refusal is audited in its own transaction (the caller's rolls back nothing: it wrote none)."""
    with transaction.atomic():
        _audit_denied("portal.rate_limited", key=key, reason=str(denied), data={"scope": scope})


def do_request_code(phone: str, *, purpose: ChallengePurpose, source_ip: str | None, case_code: str = "") -> CodeRequest:
    """Send a 6-digit code to `phone` (for tracking: only if it is the phone of the matter `case_code`).

    Raises `VerificationDenied` for a locked phone or a rate limit; a denial writes nothing but its audit row.
    """
    try:
        request, code = _request_code(phone, purpose=purpose, source_ip=source_ip, case_code=case_code)
    except VerificationDenied as denied:
        if denied.retry_after_seconds:
            _count_denial(denied, key=phone_hash(phone), scope="code_request")
        raise
    if code:  # sent once the record of it is committed; a code whose record is lost would be useless
        _send_code(phone, code, key=f"portal-code-{request.challenge_id}")
    return request


@transaction.atomic
def _request_code(
    phone: str, *, purpose: ChallengePurpose, source_ip: str | None, case_code: str
) -> tuple[CodeRequest, str]:
    """The challenge, and the code to send (empty for a tracking request that matches no matter)."""
    now = clock.now()
    key = phone_hash(phone)
    source = (source_ip or "unknown")[:64]
    phone_row = _throttle(ThrottleKind.PHONE, key)  # always phone, then address: no deadlocks
    _throttle(ThrottleKind.SOURCE, source)
    if _phone_locked(phone_row, now):
        wait = int((phone_row.locked_until - now).total_seconds())
        raise VerificationDenied(domain.MSG_LOCKED, retry_after_seconds=max(1, wait))
    recent = PhoneChallenge.objects.filter(phone_hash=key, created_at__gt=now - timedelta(hours=1))
    last = recent.order_by("-created_at").first()
    if last is not None and last.created_at > now - domain.PHONE_MIN_INTERVAL:
        wait = domain.PHONE_MIN_INTERVAL - (now - last.created_at)
        raise VerificationDenied(domain.MSG_TOO_SOON, retry_after_seconds=max(1, int(wait.total_seconds())))
    if recent.count() >= domain.PHONE_CODES_PER_HOUR:
        raise VerificationDenied(domain.MSG_PHONE_HOURLY, retry_after_seconds=3600)
    from_source = PhoneChallenge.objects.filter(source_key=source, created_at__gt=now - timedelta(hours=1)).count()
    if from_source >= domain.SOURCE_CODES_PER_HOUR:
        raise VerificationDenied(domain.MSG_SOURCE_HOURLY, retry_after_seconds=3600)
    genuine = purpose == ChallengePurpose.SUBMIT or _applicant_phone_matches(case_code, key)
    code = "".join(secrets.choice("0123456789") for _ in range(domain.CODE_DIGITS))
    salt = secrets.token_hex(16)
    challenge = PhoneChallenge.objects.create(
        phone_hash=key, purpose=purpose, case_code=case_code[:24], is_genuine=genuine, salt=salt,
        code_hash=_code_hash(salt, code), created_at=now, expires_at=now + domain.CODE_VALID_FOR, source_key=source,
    )
    # The audit row is the same for both kinds of tracking request: the log is no oracle either.
    record(actor=None, action="portal.code_sent", object_type="phone", object_id=key[:16],
           data={"purpose": str(purpose), "case_code": case_code[:24]})
    return CodeRequest(challenge.pk, challenge.expires_at), code if genuine else ""


def _send_code(phone: str, code: str, *, key: str) -> None:
    from yidi.integrations.transports import send_sms_now

    send_sms_now(phone, domain.SMS_CODE_TEXT.format(code=code), key=key)


@dataclass(frozen=True)
class Verified:
    phone_hash: str
    purpose: str
    case_code: str = ""


def do_check_code(challenge_id: int, code: str) -> Verified:
    """Check the code typed for a challenge. A wrong code counts; the fifth kills the challenge and locks the
    phone for 30 minutes. Raises `VerificationDenied` (wrong, expired, locked) with the message to show."""
    outcome = _check_code(challenge_id, code)
    if isinstance(outcome, VerificationDenied):
        raise outcome
    return outcome


@transaction.atomic
def _check_code(challenge_id: int, code: str) -> Verified | VerificationDenied:
    """Returns the denial instead of raising it, so the counted attempt commits."""
    now = clock.now()
    challenge = PhoneChallenge.objects.filter(pk=challenge_id).first()
    if challenge is None:
        return VerificationDenied(domain.MSG_NO_CODE)
    phone_row = _throttle(ThrottleKind.PHONE, challenge.phone_hash)
    challenge = PhoneChallenge.objects.select_for_update().get(pk=challenge_id)
    if _phone_locked(phone_row, now) or challenge.killed_at is not None:
        return VerificationDenied(domain.MSG_LOCKED)
    if challenge.used_at is not None or challenge.expires_at <= now:
        return VerificationDenied(domain.MSG_EXPIRED_CODE)
    code = "".join(code.split())
    right = challenge.is_genuine and hmac.compare_digest(_code_hash(challenge.salt, code), challenge.code_hash)
    if not right:
        challenge.attempts += 1
        fields = ["attempts"]
        if challenge.attempts >= domain.CODE_MAX_ATTEMPTS:
            challenge.killed_at = now
            fields.append("killed_at")
            phone_row.locked_until = now + domain.PHONE_LOCK
            phone_row.save(update_fields=["locked_until"])
            _audit_denied("portal.code_lockout", key=challenge.phone_hash, reason=domain.MSG_LOCKED,
                          data={"purpose": challenge.purpose, "locked_until": phone_row.locked_until.isoformat()})
            challenge.save(update_fields=fields)
            return VerificationDenied(domain.MSG_LOCKED)
        challenge.save(update_fields=fields)
        record(actor=None, action="portal.code_failed", object_type="phone", object_id=challenge.phone_hash[:16],
               outcome=AuditOutcome.FAILED, data={"purpose": challenge.purpose, "attempts": challenge.attempts})
        return VerificationDenied(domain.MSG_WRONG_CODE)
    challenge.used_at = now
    challenge.save(update_fields=["used_at"])
    record(actor=None, action="portal.code_verified", object_type="phone", object_id=challenge.phone_hash[:16],
           data={"purpose": challenge.purpose, "case_code": challenge.case_code})
    return Verified(challenge.phone_hash, challenge.purpose, challenge.case_code)


# --- submission ---------------------------------------------------------------------------------------------------


PORTAL_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
PORTAL_TYPE_MESSAGE = "不支持的文件类型（按文件内容识别），仅接受 JPG、PNG 照片和 PDF 文件"


def check_portal_upload(upload) -> tuple[str, bytes]:
    """`check_upload` (size, and the type read from the bytes), narrowed to photos and PDFs."""
    try:
        content_type, data = check_upload(upload)
    except InvalidInput as error:
        if str(error).startswith("不支持的文件类型"):  # the staff pages' list names Word and Excel too
            raise InvalidInput("file", PORTAL_TYPE_MESSAGE) from None
        raise
    if content_type not in PORTAL_CONTENT_TYPES:
        raise InvalidInput("file", PORTAL_TYPE_MESSAGE)
    return content_type, data


@dataclass(frozen=True)
class Submitted:
    case: Case
    token: str = ""  # the tracking link's token; empty when this POST repeated an earlier one
    is_repeat: bool = False


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def find_submission(nonce: str, *, phone: str) -> Case | None:
    """The matter an earlier POST of this form registered (same nonce, same verified phone)."""
    found = PortalSubmission.objects.select_related("case").filter(nonce=nonce, phone_hash=phone_hash(phone)).first()
    return found.case if found else None


@dataclass(frozen=True)
class SubmissionExtras:
    phone: str
    nonce: str
    mediation_mode: str
    requests: str
    uploads: list = field(default_factory=list)


def do_submit_matter(draft: CaseDraft, *, extras: SubmissionExtras, tracking_url, actor=None) -> Submitted:
    """Register the person's matter (channel online) with their files, record the submission and a private
    tracking link, and text them the code and the link after the commit.

    - a nonce already used returns its matter (a double POST never registers two);
    - any refused file refuses the whole submission (`InvalidInput` with field "files"): nothing is kept.
    `tracking_url(token)` builds the absolute link for the message.
    """
    earlier = find_submission(extras.nonce, phone=extras.phone)
    if earlier is not None:
        return Submitted(earlier, is_repeat=True)
    try:
        return _submit(draft, extras=extras, tracking_url=tracking_url, actor=actor or portal_actor())
    except IntegrityError:  # a parallel POST with the same nonce won the race: everything here rolled back
        earlier = find_submission(extras.nonce, phone=extras.phone)
        if earlier is None:
            raise
        return Submitted(earlier, is_repeat=True)


@transaction.atomic
def _submit(draft: CaseDraft, *, extras: SubmissionExtras, tracking_url, actor) -> Submitted:
    if len(extras.uploads) > domain.MAX_ATTACHMENTS:
        raise InvalidInput("files", f"最多上传 {domain.MAX_ATTACHMENTS} 个文件")
    now = clock.now()
    case = do_register_case(draft, actor=actor)
    for upload in extras.uploads:
        try:
            attach_file(case, upload, actor=actor, description="群众网上提交", check=check_portal_upload)
        except InvalidInput as error:
            raise InvalidInput("files", f"“{upload.name[:60]}”：{error}") from None
    PortalSubmission.objects.create(
        case=case, phone_hash=phone_hash(extras.phone), mediation_mode=extras.mediation_mode,
        requests=extras.requests, submitted_at=now, nonce=extras.nonce,
    )
    token, token_hash = _new_token()
    TrackingLink.objects.create(case=case, token_hash=token_hash, created_at=now,
                                expires_at=now + domain.TRACKING_LINK_VALID_FOR)
    text = domain.SMS_SUBMITTED_TEXT.format(code=case.code, link=tracking_url(token))
    _queue_sms(extras.phone, text, key=f"portal-submitted-{case.code}", case_code=case.code)
    return Submitted(case, token)


def _queue_sms(phone: str, text: str, *, key: str, case_code: str) -> None:
    """Through the outbox: it commits with the matter, is retried, and is sent once."""
    enqueue(kind="sms", destination=phone, idempotency_key=key, text=text, subject_type="case",
            subject_id=case_code)


# --- tracking links --------------------------------------------------------------------------------------------


def find_tracking_link(token: str) -> Case | None:
    """The matter of a tracking link that exists and has not expired."""
    if not token or len(token) > 100:
        return None
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    link = TrackingLink.objects.select_related("case").filter(token_hash=token_hash, expires_at__gt=clock.now()).first()
    return link.case if link else None


# --- after submission: material and evaluation -------------------------------------------------------------------


def _lock_open_case(code: str) -> Case:
    case = Case.objects.select_for_update(of=("self",)).filter(code=code).first()
    if case is None:
        raise InvalidInput("code", "事项不存在")
    return case


@transaction.atomic
def do_add_material(code: str, uploads: list) -> list:
    """Supplementary material (补充材料) from the person, while the matter is open. The caller has checked the
    person's grant for the matter."""
    if not uploads:
        raise InvalidInput("files", "请选择要上传的文件")
    if len(uploads) > domain.MAX_ATTACHMENTS:
        raise InvalidInput("files", f"一次最多上传 {domain.MAX_ATTACHMENTS} 个文件")
    actor = portal_actor()
    case = _lock_open_case(code)
    if case.status not in OPEN_STATUSES:
        raise InvalidInput("files", "事项已办结，不能再补充材料")
    stored = []
    for upload in uploads:
        try:
            stored.append(attach_file(case, upload, actor=actor, description="群众网上补充材料",
                                      check=check_portal_upload))
        except InvalidInput as error:
            raise InvalidInput("files", f"“{upload.name[:60]}”：{error}") from None
    return stored


def do_evaluate(code: str, *, evaluation: str, note: str) -> Case:
    """The person's evaluation (满意/基本满意/不满意), through the evaluation app's action, which checks the
    window and the round and reopens the matter after 不满意."""
    if evaluation == "dissatisfied" and not note.strip():
        raise InvalidInput("note", "选择“不满意”时，请写明不满意的原因")
    return do_evaluate_by_citizen(code, actor=portal_actor(), evaluation=evaluation, note=note.strip())
