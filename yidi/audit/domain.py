"""The tamper-evident chain of the audit log: pure rules, no Django, no I/O (security requirements §3).

Each row is sealed when it is written:

    mac = HMAC-SHA256(mac_key, 0x00 ‖ canonical_bytes(row) ‖ prev_mac)

- `canonical_bytes` is a JSON array in a fixed field order (`CHAINED_FIELDS`), ASCII only, no spaces, object
  keys sorted at every depth. It covers `seq` and `key_id`, so a row cannot be moved or re-keyed unnoticed.
- It reads the same whatever database the row came back from: times are UTC ISO 8601 with microseconds,
  IP addresses in `ipaddress` compressed form, and JSON numbers by value (an integral float is written as
  the integer whose digits the database keeps, so `3.0` stored in PostgreSQL `jsonb` and read back as `3.0`
  or `3` seals the same; `-0.0` is `0`; NaN and infinities are refused).
- `prev_mac` is the previous row's `mac` (64 zeros before the first row): deleting, inserting or
  reordering rows breaks the link, editing a row breaks its MAC, and neither can be repaired without the key.
- The 0x00 / 0x01 prefixes separate row MACs from checkpoint signatures (RFC 6962-style domain separation).
- Keys are derived from a configured secret (`derive_key`); `key_id` is a fingerprint of the secret, stored
  in every row and checkpoint, so a retired secret still verifies the rows it sealed (rotation).

Checkpoints `(seq, mac, at, key_id, signature)` anchor the head of the chain outside the database: a
truncated tail (seq beyond the end) or a chain rewritten with the key (mac differs) is caught against them.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

ROW_FORMAT = "yidi-audit-row-v1"
CHECKPOINT_FORMAT = "yidi-audit-checkpoint-v1"
GENESIS_MAC = "0" * 64  # the `prev_mac` of the first row

# The sealed content of a row, in canonical order; a row as read for verification is these values
# followed by `prev_mac` and `mac` (`ROW_FIELDS`).
CHAINED_FIELDS = (
    "seq",
    "key_id",
    "at",
    "actor_id",
    "actor_username",
    "actor_roles",
    "actor_unit_code",
    "source_ip",
    "action",
    "object_type",
    "object_id",
    "fields",
    "outcome",
    "reason",
    "data",
)
ROW_FIELDS = (*CHAINED_FIELDS, "prev_mac", "mac")
# Rows are sealed into up to this many parallel chains (numbered from 1), so that concurrent writers need not
# wait for each other's commits. A row's chain is not in its MAC: moving a row to another chain breaks the
# `prev_mac` links of both chains.
MAX_CHAINS = 16
_CONTENT = len(CHAINED_FIELDS)
_PREV, _MAC = _CONTENT, _CONTENT + 1


# --- keys --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AuditKey:
    """The keys derived from one configured secret. `repr` never shows key material."""

    key_id: str
    mac_key: bytes
    checkpoint_key: bytes

    def __repr__(self) -> str:
        return f"AuditKey(key_id={self.key_id!r})"


@lru_cache(maxsize=16)
def derive_key(secret: str) -> AuditKey:
    """Derive the row-MAC key, the checkpoint key and the public key id from a secret (HMAC-based KDF)."""
    if not secret:
        raise ValueError("the audit key is empty")
    raw = secret.encode("utf-8")

    def sub(label: bytes) -> bytes:
        return hmac.digest(raw, b"yidi.audit." + label, "sha256")

    return AuditKey(key_id=sub(b"key-id")[:8].hex(), mac_key=sub(b"row-mac"), checkpoint_key=sub(b"checkpoint"))


def keyring(current: str, retired: Iterable[str] = ()) -> dict[str, AuditKey]:
    """`key_id` → key for the current secret and every retired one (retired keys only verify)."""
    keys = {}
    for secret in [*retired, current]:
        key = derive_key(secret)
        keys[key.key_id] = key
    return keys


# --- canonical form and MAC --------------------------------------------------------------------------


def canonical_time(moment: datetime) -> str:
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            raise ValueError("audit times must be timezone-aware")
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


@lru_cache(maxsize=4096)
def _canonical_ipv6(value: str) -> str:
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return value


def canonical_ip(value: str | None) -> str:
    """An IPv6 address in compressed form; anything else as it is (a valid IPv4 address has one form)."""
    if not value:
        return ""
    value = str(value)
    return _canonical_ipv6(value) if ":" in value else value


def _number(value: float) -> int | float:
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and infinite numbers cannot be audited")
    if value.is_integer():
        return int(Decimal(repr(value)))  # the digits a database keeps for this float, as an integer
    return value


def canonical_value(value: Any) -> Any:
    """`value` (decoded JSON) with every float put in its database-independent form."""
    kind = type(value)
    if kind is dict:
        return {key: canonical_value(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [canonical_value(item) for item in value]
    if kind is float:
        return _number(value)
    return value


def _make_encode() -> Callable[[Any], str]:
    """Canonical JSON text: `json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"),
    allow_nan=False)`. The C encoder is built once rather than per call (verification encodes every row); if
    this Python's C encoder takes other arguments or behaves differently, the plain encoder is used."""
    encoder = json.JSONEncoder(ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    try:
        fast = make(None, encoder.default, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, False)
        probe = [{"b": 1.5, "a": [None, True, "中"]}, 10**20, -0.25]
        if "".join(fast(probe, 0)) != encoder.encode(probe):
            return encoder.encode
        try:
            fast([math.nan], 0)
        except ValueError:
            return lambda value: "".join(fast(value, 0))
    except TypeError:
        pass
    return encoder.encode


_encode = _make_encode()


def _may_hold_integral_float(text: str) -> bool:
    """In the encoder's output a float that `_number` would change (`3.0`, `-0.0`, `1e+16`) ends in `.0`
    before a delimiter or has an `e+` exponent. Text inside strings may match too: then the slow path runs
    for nothing, which is still correct. (Substring tests: far cheaper than a regular expression.)"""
    return ".0," in text or ".0]" in text or ".0}" in text or "e+" in text


def canonical_bytes(values: Sequence[Any]) -> bytes:
    """The bytes a row's MAC covers: its `CHAINED_FIELDS` values in order, as canonical JSON."""
    (seq, key_id, at, actor_id, username, roles, unit_code, source_ip, action, object_type, object_id, fields,
     outcome, reason, data) = values
    document = [
        ROW_FORMAT, seq, key_id, canonical_time(at), actor_id, username, roles, unit_code, canonical_ip(source_ip),
        action, object_type, object_id, fields, outcome, reason, data,
    ]
    text = _encode(document)
    if _may_hold_integral_float(text):
        document[12], document[15] = canonical_value(fields), canonical_value(data)
        text = _encode(document)
    return text.encode("ascii")


def row_mac(values: Sequence[Any], *, prev_mac: str, mac_key: bytes) -> str:
    """The MAC that seals a row whose content is `values` (`CHAINED_FIELDS` order) after `prev_mac`."""
    return hmac.digest(mac_key, b"\x00" + canonical_bytes(values) + prev_mac.encode(), "sha256").hex()


# --- checkpoints -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The head of one chain at a moment, signed: `seq` rows existed in chain `chain` and the last one had
    `mac`. (Chain 1's checkpoints sign and print exactly as before there were several chains.)"""

    seq: int
    mac: str
    at: datetime
    key_id: str
    signature: str
    chain: int = 1


def _checkpoint_payload(seq: int, mac: str, at: datetime, key_id: str, chain: int = 1) -> bytes:
    document = [CHECKPOINT_FORMAT, seq, mac, canonical_time(at), key_id]
    if chain != 1:
        document.append(chain)
    return b"\x01" + json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode()


def sign_checkpoint(*, seq: int, mac: str, at: datetime, key: AuditKey, chain: int = 1) -> Checkpoint:
    payload = _checkpoint_payload(seq, mac, at, key.key_id, chain)
    signature = hmac.digest(key.checkpoint_key, payload, "sha256").hex()
    return Checkpoint(seq=seq, mac=mac, at=at, key_id=key.key_id, signature=signature, chain=chain)


def is_authentic(checkpoint: Checkpoint, keys: Mapping[str, AuditKey]) -> bool:
    key = keys.get(checkpoint.key_id)
    if key is None:
        return False
    payload = _checkpoint_payload(checkpoint.seq, checkpoint.mac, checkpoint.at, checkpoint.key_id, checkpoint.chain)
    return hmac.compare_digest(hmac.digest(key.checkpoint_key, payload, "sha256").hex(), checkpoint.signature)


def checkpoint_to_line(checkpoint: Checkpoint) -> str:
    item = {
        "seq": checkpoint.seq,
        "mac": checkpoint.mac,
        "at": canonical_time(checkpoint.at),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }
    if checkpoint.chain != 1:
        item["chain"] = checkpoint.chain
    return json.dumps(item, sort_keys=True)


def checkpoint_from_line(line: str) -> Checkpoint:
    """Parse one JSON line; `ValueError` if it is not a well-formed checkpoint."""
    try:
        item = json.loads(line)
        checkpoint = Checkpoint(
            seq=item["seq"], mac=item["mac"], at=datetime.fromisoformat(item["at"]), key_id=item["key_id"],
            signature=item["signature"], chain=item.get("chain", 1),
        )
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"malformed checkpoint: {error}") from None
    if type(checkpoint.seq) is not int or checkpoint.seq < 0 or checkpoint.at.tzinfo is None:
        raise ValueError("malformed checkpoint: bad seq or time")
    if type(checkpoint.chain) is not int or not 1 <= checkpoint.chain <= MAX_CHAINS:
        raise ValueError("malformed checkpoint: bad chain")
    if not all(isinstance(v, str) for v in (checkpoint.mac, checkpoint.key_id, checkpoint.signature)):
        raise ValueError("malformed checkpoint: bad mac, key id or signature")
    return checkpoint


# --- verification ------------------------------------------------------------------------------------


class Problem(StrEnum):
    GAP = "gap"
    ORDER = "order"
    UNKNOWN_KEY = "unknown_key"
    LINK_BREAK = "link_break"
    MAC_MISMATCH = "mac_mismatch"
    ANCHOR_MISMATCH = "anchor_mismatch"
    TRUNCATED = "truncated"
    BAD_CHECKPOINT = "bad_checkpoint"

    @property
    def label(self) -> str:
        return PROBLEM_LABELS[self]


PROBLEM_LABELS = {
    Problem.GAP: "序号不连续（有记录被删除）",
    Problem.ORDER: "序号重复或倒序",
    Problem.UNKNOWN_KEY: "密钥编号未知（记录由未登记的密钥生成）",
    Problem.LINK_BREAK: "前序校验码不符（有记录被删除、插入或调换顺序）",
    Problem.MAC_MISMATCH: "校验码不符（记录被篡改或伪造）",
    Problem.ANCHOR_MISMATCH: "与检查点不符（日志链被整体重写）",
    Problem.TRUNCATED: "日志末尾缺失（记录被截断）",
    Problem.BAD_CHECKPOINT: "检查点无效（检查点文件被篡改或密钥未登记）",
}


@dataclass(frozen=True)
class Anchor:
    """A (seq, mac) the chain must contain, from a signed checkpoint or the chain-head row."""

    seq: int
    mac: str
    source: str  # where it comes from, for the report (e.g. "checkpoint 2026-11-28T08:00:00+00:00")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # rows checked
    first_bad_seq: int | None
    reason: str  # empty when ok; otherwise the problem code and an explanation (English)
    problem: Problem | None = None
    last_seq: int | None = None  # the last row checked
    anchors: int = 0  # checkpoints and chain-head anchors compared
    chain: int | None = None  # the chain the first failure is in (None: a checkpoint file, or all is well)


def verify_rows(
    rows: Iterable[Sequence[Any]],
    *,
    keys: Mapping[str, AuditKey],
    start_seq: int = 1,
    prev_mac: str = GENESIS_MAC,
    anchors: Iterable[Anchor] = (),
) -> VerifyResult:
    """Check rows (`ROW_FIELDS` order, ascending `seq`) starting at `start_seq` whose predecessor has `prev_mac`.

    In this order, for each row; the first failure is returned:
    - `seq` is the next number (a higher one is a GAP: rows were deleted; a lower one is ORDER);
    - its `key_id` is known (UNKNOWN_KEY);
    - its `prev_mac` is the previous row's `mac` (LINK_BREAK: rows deleted, inserted or swapped);
    - its `mac` seals its content (MAC_MISMATCH: edited or forged);
    - it matches every anchor at its `seq` (ANCHOR_MISMATCH: rewritten with the key).
    After the last row, an anchor beyond it means the tail was cut off (TRUNCATED).
    """
    by_seq: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_seq.setdefault(anchor.seq, []).append(anchor)
    mac_keys = {key_id: key.mac_key for key_id, key in keys.items()}
    expected = start_seq
    checked = 0
    matched = 0

    def fail(problem: Problem, seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, seq, f"{problem.value}: {reason}", problem, expected - 1 if checked else None,
                            matched)

    for row in rows:
        seq = row[0]
        if seq != expected:
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
                return fail(Problem.GAP, expected, f"row {missing} is missing (the next row is {seq})")
            return fail(Problem.ORDER, seq, f"row {seq} comes after row {expected - 1}")
        mac_key = mac_keys.get(row[1])
        if mac_key is None:
            return fail(Problem.UNKNOWN_KEY, seq, f"row {seq} was sealed with unknown key {row[1]!r}")
        if row[_PREV] != prev_mac:
            return fail(Problem.LINK_BREAK, seq, f"row {seq} does not follow row {seq - 1} (prev_mac differs)")
        mac = row[_MAC]
        if row_mac(row[:_CONTENT], prev_mac=prev_mac, mac_key=mac_key) != mac:
            return fail(Problem.MAC_MISMATCH, seq, f"row {seq}'s content does not match its MAC")
        if seq in by_seq:
            for anchor in by_seq.pop(seq):
                if anchor.mac != mac:
                    return fail(Problem.ANCHOR_MISMATCH, seq, f"row {seq} differs from {anchor.source}")
                matched += 1
        prev_mac = mac
        expected += 1
        checked += 1

    beyond = [anchor for seq in sorted(by_seq) if seq >= expected for anchor in by_seq[seq]]
    if beyond:
        last = beyond[-1]
        return fail(
            Problem.TRUNCATED, expected,
            f"the chain ends at row {expected - 1} but {last.source} records row {last.seq}",
        )
    return VerifyResult(True, checked, None, "", None, expected - 1 if checked else None, matched)
