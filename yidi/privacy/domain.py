"""Rules for personal data: revealing a full value, approving bulk exports, retention (pure: no Django, no clock).

Design and sources: docs/privacy.md; security-requirements.md PI-03, PI-05, PI-06, PI-07, AC-04; SPEC §9.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from yidi.accounts.domain import ADMIN_ROLES, Role
from yidi.core.masking import PersonalKind, mask

# --- reveal (查看完整) ------------------------------------------------------------------------------------


class PersonalField(StrEnum):
    """The party fields that are masked on display and can be revealed one at a time."""

    ID_NUMBER = "id_number"
    PHONE = "phone"
    ADDRESS = "address"

    @property
    def label(self) -> str:
        return PERSONAL_FIELD_LABELS[self]

    @property
    def kind(self) -> PersonalKind:
        return PersonalKind(self.value)


PERSONAL_FIELD_LABELS = {
    PersonalField.ID_NUMBER: "证件号码",
    PersonalField.PHONE: "联系电话",
    PersonalField.ADDRESS: "住址",
}


class RevealBasis(StrEnum):
    READ_SCOPE = "read_scope"  # any matter the person may read (their unit's region scope)
    ASSIGNMENT = "assignment"  # only while their unit is actively assigned to the matter


REVEAL_BASIS_LABELS = {RevealBasis.READ_SCOPE: "辖区范围", RevealBasis.ASSIGNMENT: "本单位承办"}

# Who may reveal, and on what basis. A role missing here never reveals: supervisors (they oversee units, not
# parties), grid workers, citizens and the three admin roles (三员 see no business data).
REVEAL_BASIS: dict[Role, RevealBasis] = {
    Role.DISPATCHER: RevealBasis.READ_SCOPE,
    Role.LEADER: RevealBasis.READ_SCOPE,
    Role.REGISTRAR: RevealBasis.READ_SCOPE,  # the centre's window: calls parties back
    Role.HANDLER: RevealBasis.ASSIGNMENT,
    Role.MEDIATOR: RevealBasis.ASSIGNMENT,
}

REASON_MIN_LENGTH = 4  # as the reason box of components/masked.html (minlength="4")
REASON_MAX_LENGTH = 500
REVEAL_WINDOW = timedelta(hours=1)


class Denial(StrEnum):
    """Why a privacy action was refused; stored in the audit row (`data.denial`)."""

    NOT_FOUND = "not_found"  # no such matter, party or field in the user's scope
    ROLE = "role"  # the user's roles never allow it
    NOT_ASSIGNED = "not_assigned"  # handler or mediator whose unit is not (or no longer) assigned
    REASON = "reason"  # missing or too short a reason
    RATE_LIMITED = "rate_limited"
    INVALID = "invalid"  # nothing to export, too many matters …
    SELF_APPROVAL = "self_approval"
    NOT_PENDING = "not_pending"
    OUT_OF_SCOPE = "out_of_scope"  # the approver may not read every matter of the export
    NOT_APPROVED = "not_approved"
    EXPIRED = "expired"
    USED_UP = "used_up"


class InvalidReason(ValueError):
    """The reason is missing or too short (the message is Chinese)."""


def clean_reason(text: str, *, purpose: str = "查看", hint: str = "，说明为何需要完整信息") -> str:
    """The reason, stripped; `InvalidReason` unless it has `REASON_MIN_LENGTH` to `REASON_MAX_LENGTH` characters."""
    reason = " ".join((text or "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise InvalidReason(f"请填写{purpose}理由（至少 {REASON_MIN_LENGTH} 个字）{hint}")
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidReason(f"{purpose}理由不能超过 {REASON_MAX_LENGTH} 个字")
    return reason


@dataclass(frozen=True)
class RevealGrant:
    role: Role
    basis: RevealBasis


@dataclass(frozen=True)
class RevealDecision:
    allowed: bool
    role: Role | None = None
    basis: RevealBasis | None = None
    denial: Denial | None = None


def reveal_grant(roles: frozenset[Role]) -> RevealGrant | None:
    """The broadest basis the roles give (region scope beats assignment), or None.

    - an admin role (三员) never reveals, whatever else is held (the combination is refused anyway);
    - among several roles the one with region scope wins, so a dispatcher who is also a handler keeps it.
    """
    if roles & ADMIN_ROLES:
        return None
    grants = sorted(
        (RevealGrant(role, REVEAL_BASIS[role]) for role in roles if role in REVEAL_BASIS),
        key=lambda grant: (grant.basis is not RevealBasis.READ_SCOPE, grant.role.value),
    )
    return grants[0] if grants else None


def needs_assignment_check(roles: frozenset[Role]) -> bool:
    grant = reveal_grant(roles)
    return grant is not None and grant.basis is RevealBasis.ASSIGNMENT


def decide_reveal(roles: frozenset[Role], *, unit_is_assigned: bool) -> RevealDecision:
    """May someone who already reads the matter (checked by `accounts.access`) reveal its parties' data?"""
    grant = reveal_grant(roles)
    if grant is None:
        return RevealDecision(False, denial=Denial.ROLE)
    if grant.basis is RevealBasis.ASSIGNMENT and not unit_is_assigned:
        return RevealDecision(False, role=grant.role, basis=grant.basis, denial=Denial.NOT_ASSIGNED)
    return RevealDecision(True, role=grant.role, basis=grant.basis)


def next_reveal_at(recent: Sequence[datetime], *, now: datetime, limit: int) -> datetime | None:
    """When the next reveal is allowed, or None when it is allowed now.

    `recent` holds the times of this user's successful reveals, oldest first; only those within
    `REVEAL_WINDOW` before `now` count (a sliding hour).
    """
    window = [at for at in recent if at > now - REVEAL_WINDOW]
    if len(window) < limit:
        return None
    return window[len(window) - limit] + REVEAL_WINDOW


# --- bulk export with a second person's approval ---------------------------------------------------------


class ExportStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


EXPORT_STATUS_LABELS = {ExportStatus.PENDING: "待审批", ExportStatus.APPROVED: "已批准", ExportStatus.REFUSED: "未批准"}


class ExportState(StrEnum):
    """What the requester can do now; derived from the status, the expiry and the downloads."""

    PENDING = "pending"
    REFUSED = "refused"
    READY = "ready"
    EXPIRED = "expired"
    USED_UP = "used_up"

    @property
    def label(self) -> str:
        return EXPORT_STATE_LABELS[self][0]

    @property
    def tone(self) -> str:
        return EXPORT_STATE_LABELS[self][1]


EXPORT_STATE_LABELS = {
    ExportState.PENDING: ("待审批", "yellow"),
    ExportState.REFUSED: ("未批准", "red"),
    ExportState.READY: ("可下载", "green"),
    ExportState.EXPIRED: ("已过期", "grey"),
    ExportState.USED_UP: ("下载次数已用完", "grey"),
}

# Who may approve another person's export (a second pair of eyes in the region).
APPROVER_ROLES = frozenset({Role.DISPATCHER, Role.LEADER, Role.SUPERVISOR})


def export_state(
    status: ExportStatus | str, *, expires_at: datetime | None, download_count: int, max_downloads: int, now: datetime
) -> ExportState:
    status = ExportStatus(status)
    if status is ExportStatus.PENDING:
        return ExportState.PENDING
    if status is ExportStatus.REFUSED:
        return ExportState.REFUSED
    if expires_at is None or now >= expires_at:
        return ExportState.EXPIRED
    if download_count >= max_downloads:
        return ExportState.USED_UP
    return ExportState.READY


def approval_denial(
    *, approver_id: int, requester_id: int, approver_roles: frozenset[Role], status: ExportStatus | str
) -> Denial | None:
    """Why this person may not decide the request, or None.

    - the requester never decides their own request, whatever roles they hold;
    - the approver holds a dispatcher, leader or supervisor role (scope is checked against the data);
    - only a pending request is decided, once.
    """
    if approver_id == requester_id:
        return Denial.SELF_APPROVAL
    if not approver_roles & APPROVER_ROLES or approver_roles & ADMIN_ROLES:
        return Denial.ROLE
    if ExportStatus(status) is not ExportStatus.PENDING:
        return Denial.NOT_PENDING
    return None


def download_denial(state: ExportState) -> Denial | None:
    return {
        ExportState.PENDING: Denial.NOT_APPROVED,
        ExportState.REFUSED: Denial.NOT_APPROVED,
        ExportState.EXPIRED: Denial.EXPIRED,
        ExportState.USED_UP: Denial.USED_UP,
    }.get(state)


def export_expires_at(approved_at: datetime, *, valid_hours: int) -> datetime:
    return approved_at + timedelta(hours=valid_hours)


# --- retention and anonymisation ---------------------------------------------------------------------------


class RecordType(StrEnum):
    """A kind of record with its own retention period (`RetentionRule`), counted from `start_label`."""

    ARCHIVED_CASE = "archived_case"
    NOT_ACCEPTED_CASE = "not_accepted_case"

    @property
    def label(self) -> str:
        return RECORD_TYPE_LABELS[self][0]

    @property
    def start_label(self) -> str:
        return RECORD_TYPE_LABELS[self][1]


RECORD_TYPE_LABELS = {
    RecordType.ARCHIVED_CASE: ("已办结并归档的事项", "归档之日"),
    RecordType.NOT_ACCEPTED_CASE: ("不予受理的事项", "不予受理之日"),
}
# Proposed defaults, seeded as data; the real periods are a local decision (security-requirements.md §6.4:
# the archive rules of the 司法局 and the 档案 authority; 人民调解法 sets none).
DEFAULT_RETENTION_YEARS = {RecordType.ARCHIVED_CASE: 10, RecordType.NOT_ACCEPTED_CASE: 3}

ANONYMISED_TEXT = "（已超过保存期限，内容已匿名化）"


def retention_cutoff(now: datetime, years: int) -> datetime:
    """Records whose retention started at or before this moment are past their retention at `now`.

    Calendar years: from 29 February the cut-off is 28 February of the earlier year.
    """
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")


def redact_text(text: str, names: Iterable[str]) -> str:
    """`text` with the parties' full names, ID numbers and phone numbers replaced by their masked forms.

    - names shorter than two characters are left alone (one character would hit ordinary words);
    - longer names first, so 欧阳明 is masked before a party called 欧阳 could cut it;
    - masking is idempotent, so redacting twice changes nothing more.
    """
    if not text:
        return text
    for name in sorted({n for n in names if len(n) >= 2 and "*" not in n}, key=len, reverse=True):
        text = text.replace(name, mask(name, PersonalKind.NAME))
    text = _ID_NUMBER.sub(lambda m: mask(m.group(0), PersonalKind.ID_NUMBER), text)
    text = _LANDLINE.sub(lambda m: mask(m.group(0), PersonalKind.PHONE), text)
    return _MOBILE.sub(lambda m: mask(m.group(0), PersonalKind.PHONE), text)
