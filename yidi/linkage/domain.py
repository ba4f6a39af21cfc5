"""三级联动 rules, without a database: directions, message types and formats, idempotency keys, which step is
reported up, and the texts a cross-region transfer leaves on the matter.

Rules:
- A peer is the instance above (上级平台, city or province) or below (下级平台, a county); one per direction and
  region code.
- Every message is JSON of format `yidi-linkage/1` with an `id` (the outbox idempotency key, the same on every
  retry) and a `type`; see docs/linkage.md.
- A timeline step is reported up when it changes the status, or is registration, taking over a transfer
  (the lead unit changes) or a change of classification and grade.
- A mirror keeps the latest state: a report is applied only when its version (matters) or sequence (figures)
  is higher than the stored one, so repeated and out-of-order deliveries converge.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

FORMAT = "yidi-linkage/1"
KEY_PREFIX = "linkage"
COUNTY_CODE_LENGTH = 6
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_REGION = re.compile(r"^\d{2,12}$")


class PeerDirection(StrEnum):
    ABOVE = "above"
    BELOW = "below"


DIRECTION_LABELS = {PeerDirection.ABOVE: "上级平台", PeerDirection.BELOW: "下级平台"}


class MessageType(StrEnum):
    CASE_REPORT = "case.report"  # up: a new matter or a change of its state
    FIGURES_REPORT = "figures.report"  # up: a month's figures
    TRANSFER_REQUEST = "transfer.request"  # up: move a matter to another county (跨区域移交)
    ASSIGNMENT = "assignment"  # down: a matter assigned by the instance above (上级交办), or a transfer forwarded
    TRANSFER_RESULT = "transfer.result"  # down: where a requested transfer went (or why it did not)


MESSAGE_TYPE_LABELS = {
    MessageType.CASE_REPORT: "事项上报",
    MessageType.FIGURES_REPORT: "月度数据上报",
    MessageType.TRANSFER_REQUEST: "跨区域移交申请",
    MessageType.ASSIGNMENT: "上级交办",
    MessageType.TRANSFER_RESULT: "移交结果",
}
# Where each message is posted, below the peer's base URL.
PATHS = {
    MessageType.CASE_REPORT: "/api/v1/linkage/reports/cases",
    MessageType.FIGURES_REPORT: "/api/v1/linkage/reports/figures",
    MessageType.TRANSFER_REQUEST: "/api/v1/linkage/transfers",
    MessageType.ASSIGNMENT: "/api/v1/linkage/assignments",
    MessageType.TRANSFER_RESULT: "/api/v1/linkage/transfer-results",
}
# Who sends each message: the instance below sends up, the instance above sends down.
SENDER_DIRECTION = {
    MessageType.CASE_REPORT: PeerDirection.BELOW,
    MessageType.FIGURES_REPORT: PeerDirection.BELOW,
    MessageType.TRANSFER_REQUEST: PeerDirection.BELOW,
    MessageType.ASSIGNMENT: PeerDirection.ABOVE,
    MessageType.TRANSFER_RESULT: PeerDirection.ABOVE,
}


class AssignmentKind(StrEnum):
    ASSIGNMENT = "assignment"
    TRANSFER = "transfer"


ASSIGNMENT_KIND_LABELS = {AssignmentKind.ASSIGNMENT: "上级交办", AssignmentKind.TRANSFER: "跨区域移交"}


class AssignmentStatus(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    FAILED = "failed"
    REFUSED = "refused"


ASSIGNMENT_STATUS_LABELS = {
    AssignmentStatus.SENT: "已下派，待接收",
    AssignmentStatus.RECEIVED: "已接收登记",
    AssignmentStatus.FAILED: "下派失败",
    AssignmentStatus.REFUSED: "未下派（无对应下级平台）",
}


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    FORWARDED = "forwarded"
    REFUSED = "refused"


TRANSFER_STATUS_LABELS = {
    TransferStatus.REQUESTED: "已报请上级平台",
    TransferStatus.FORWARDED: "已移交",
    TransferStatus.REFUSED: "上级平台未能移交",
}

REPORTED_SIDE_ACTIONS = frozenset({"register", "accept_transfer", "set_labels"})


class LinkageError(ValueError):
    """A linkage request that breaks a rule (message in Chinese, `code` stable for the API)."""

    def __init__(self, code: str, message: str, *, field: str = ""):
        self.code = code
        self.field = field
        super().__init__(message)


def idempotency_key(peer_id: int, message_type: MessageType, *parts: object) -> str:
    """`linkage:<peer id>:<type>:<part>:…` — one message per peer and step; the receiver de-duplicates on it."""
    return ":".join([KEY_PREFIX, str(peer_id), str(message_type), *(str(part) for part in parts)])


@dataclass(frozen=True)
class ParsedKey:
    peer_id: int
    message_type: MessageType
    parts: tuple[str, ...]


def parse_key(key: str) -> ParsedKey | None:
    pieces = key.split(":")
    if len(pieces) < 3 or pieces[0] != KEY_PREFIX or not pieces[1].isdigit():
        return None
    try:
        message_type = MessageType(pieces[2])
    except ValueError:
        return None
    return ParsedKey(int(pieces[1]), message_type, tuple(pieces[3:]))


def is_reported_step(action: str, from_status: str, to_status: str) -> bool:
    return from_status != to_status or action in REPORTED_SIDE_ACTIONS


def is_newer(stored: int | None, incoming: int) -> bool:
    """Whether a report with `incoming` version (or sequence) replaces the stored one (None: nothing stored)."""
    return stored is None or incoming > stored


def parse_month(value: str) -> tuple[int, int]:
    """(year, month) of `YYYY-MM`; raises `LinkageError` otherwise."""
    found = _MONTH.match(value or "")
    if not found:
        raise LinkageError("invalid_month", f"月份“{value}”格式不正确，应为 YYYY-MM，如 2026-03", field="month")
    return int(found.group(1)), int(found.group(2))


def month_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def is_region_code(value: str) -> bool:
    return bool(_REGION.match(value or ""))


def belongs_to(case_code: str, region_code: str) -> bool:
    """A matter code starts with its county's six digits (`cases.domain.case_code_prefix`)."""
    return len(region_code) >= COUNTY_CODE_LENGTH and case_code.startswith(region_code[:COUNTY_CODE_LENGTH] + "-")


def transfer_decline_reason(to_name: str, reason: str) -> str:
    return f"不属本辖区管辖，报请上级平台移交{to_name}办理：{reason.strip()}"


def transfer_route_told(to_name: str) -> str:
    return f"已报请上级平台移交{to_name}社会矛盾纠纷调处化解中心办理，请留意其联系"
