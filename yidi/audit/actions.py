"""Writing the audit log, anchoring it outside the database and verifying it.

Every action calls `record` inside its own transaction, so a failed audit write rolls the business change
back with it. `record` appends to a hash chain (`audit.domain`) under a lock on that chain's
`AuditChainHead` row, held until the transaction ends, so two writers can never fork a chain. On PostgreSQL
rows are spread over `AUDIT_CHAINS` parallel chains: a writer takes the first head nobody holds, so
concurrent transactions do not queue behind each other's commits (one chain would cap appends at one per
commit latency). Each chain is verified on its own; checkpoints sign every chain's head.

Settings (all optional):
- `AUDIT_HMAC_KEY`: the secret that seals new rows and signs checkpoints (default `SECRET_KEY`).
- `AUDIT_HMAC_RETIRED_KEYS`: earlier secrets, kept so the rows and checkpoints they sealed still verify.
- `AUDIT_CHAINS`: how many parallel chains (default 4, at most 16; SQLite always uses one).
- `AUDIT_CHECKPOINT_DIR`: where checkpoints are appended (default `DATA_DIR / "audit-checkpoints"`); put it
  on storage the database administrators cannot write, ideally append-only or WORM.
"""

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from yidi.audit import domain, queries
from yidi.audit.domain import Anchor, AuditKey, Checkpoint, Problem, VerifyResult
from yidi.audit.models import AuditChainHead, AuditEvent, AuditOutcome
from yidi.core import clock
from yidi.core.bulk import insert_values
from yidi.core.request_context import current_source_ip

logger = logging.getLogger("yidi.audit")

CHECKPOINT_FILE = "checkpoints.jsonl"


# --- keys and places ---------------------------------------------------------------------------------


def current_key() -> AuditKey:
    return domain.derive_key(getattr(settings, "AUDIT_HMAC_KEY", "") or settings.SECRET_KEY)


def audit_keys() -> dict[str, AuditKey]:
    """The current key and every retired one, by `key_id`."""
    current = getattr(settings, "AUDIT_HMAC_KEY", "") or settings.SECRET_KEY
    retired = [secret for secret in getattr(settings, "AUDIT_HMAC_RETIRED_KEYS", ()) if secret]
    return domain.keyring(current, retired)


def checkpoint_dir() -> Path:
    configured = getattr(settings, "AUDIT_CHECKPOINT_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-checkpoints"


# --- writing -----------------------------------------------------------------------------------------


def _as_stored(value: Any) -> Any:
    """`value` as the JSON column gives it back (tuples become lists, keys strings), so the MAC computed
    now is the MAC of what a later read returns. NaN and infinities are refused."""
    return json.loads(json.dumps(value, allow_nan=False))


def chain_count(connection) -> int:
    """How many chains writers spread over: `AUDIT_CHAINS` (default 4) where writers run concurrently
    (PostgreSQL); 1 on SQLite, whose writers are serialised anyway."""
    if not connection.features.has_select_for_update_skip_locked:
        return 1
    return max(1, min(int(getattr(settings, "AUDIT_CHAINS", 4)), AuditChainHead.MAX_CHAINS))


def _head_sql(connection) -> tuple[str, str, str]:
    """Raw SQL for the heads (the ORM would double the cost of an append); the table name is the model's:
    lock a given head, lock the first free one of the first N (PostgreSQL), move a head."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT id, last_seq, last_mac FROM {table} WHERE id = %s{lock}",  # noqa: S608
        f"SELECT id, last_seq, last_mac FROM {table} WHERE id <= %s ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1",  # noqa: S608
        f"UPDATE {table} SET last_seq = %s, last_mac = %s WHERE id = %s",  # noqa: S608
    )


def _rebuild_head(chain: int) -> None:
    """Create a missing head from its chain's newest row, so a deleted head row cannot restart the chain at 1
    (the unique (`chain`, `seq`) would refuse the duplicates anyway)."""
    newest = AuditEvent.objects.filter(chain=chain).order_by("-seq").values_list("seq", "mac").first()
    last_seq, last_mac = newest or (0, domain.GENESIS_MAC)
    AuditChainHead.objects.get_or_create(pk=chain, defaults={"last_seq": last_seq, "last_mac": last_mac})


def _lock_head(cursor, connection) -> tuple[int, int, str]:
    """Lock a chain head and return its (chain, last_seq, last_mac).

    With several chains, the first head no other transaction holds (`SKIP LOCKED`): two writers never wait
    for each other's commit. If every head is held, wait for the one this process prefers. Missing heads are
    rebuilt first.
    """
    one, free, _ = _head_sql(connection)
    chains = chain_count(connection)
    if chains > 1:
        cursor.execute(free, [chains])
        found = cursor.fetchone()
        if found is not None:
            return found
        missing = set(range(1, chains + 1)) - set(AuditChainHead.objects.values_list("id", flat=True))
        preferred = min(missing) if missing else 1 + os.getpid() % chains
    else:
        preferred = AuditChainHead.SINGLETON
    cursor.execute(one, [preferred])
    found = cursor.fetchone()
    if found is None:
        _rebuild_head(preferred)
        cursor.execute(one, [preferred])
        found = cursor.fetchone()
    return found


def _append(rows: list[dict[str, Any]]) -> list[AuditEvent] | list[dict[str, Any]]:
    """Seal `rows` (column values by attname) in order onto the end of the chain and insert them, in the
    caller's transaction. One row is saved through the ORM and comes back as the saved `AuditEvent`; a batch
    is inserted as plain values and comes back as the rows with `seq`, `key_id`, `prev_mac` and `mac` set.

    Three statements while the head is locked: read the head (FOR UPDATE), insert the rows (one statement
    however many), move the head. The head stays locked until the caller's transaction ends, so appends are
    serialised in commit order and a rolled-back transaction leaves no gap. Call `record` as the last write
    of an action: everything after it in the transaction runs with the head held.
    """
    key = current_key()
    alias = AuditEvent.objects.db
    connection = connections[alias]
    update_sql = _head_sql(connection)[2]
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        chain, last_seq, last_mac = _lock_head(cursor, connection)
        for row in rows:
            last_seq += 1
            row["chain"], row["seq"], row["key_id"], row["prev_mac"] = chain, last_seq, key.key_id, last_mac
            values = [row[name] for name in domain.CHAINED_FIELDS]
            row["mac"] = last_mac = domain.row_mac(values, prev_mac=last_mac, mac_key=key.mac_key)
        if len(rows) == 1:
            sealed = [AuditEvent(**rows[0])]
            sealed[0].save(force_insert=True)
        else:
            sealed = rows
            columns = ("chain", *domain.ROW_FIELDS)
            insert_values(AuditEvent, columns, [[row[name] for name in columns] for row in rows])
        cursor.execute(update_sql, [last_seq, last_mac, chain])
    return sealed


def model_to_row(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in ("chain", *domain.ROW_FIELDS)}


def _new_row(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: str | int,
    fields: Iterable[str] = (),
    outcome: str = AuditOutcome.SUCCESS,
    reason: str = "",
    data: dict[str, Any] | None = None,
    at=None,
    source_ip=None,
) -> dict[str, Any]:
    """The column values of one audit row, before sealing (plain values: the sweep writes thousands)."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return {
        "at": at or clock.now(),
        "actor_id": actor.pk if is_user else None,
        "actor_username": actor.get_username() if is_user else "system",
        "actor_roles": ",".join(actor.role_codes) if is_user else "",
        "actor_unit_code": actor.unit.code if is_user and actor.unit_id else "",
        "source_ip": source_ip,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "fields": _as_stored(list(fields)),
        "outcome": outcome,
        "reason": reason,
        "data": _as_stored(data or {}),
    }


def record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: str | int,
    fields: Iterable[str] = (),
    outcome: str = AuditOutcome.SUCCESS,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row for `actor` (a user, or None for the system) in the caller's transaction."""
    row = _new_row(
        actor=actor, action=action, object_type=object_type, object_id=object_id, fields=fields, outcome=outcome,
        reason=reason, data=data, source_ip=current_source_ip(),
    )
    return _append([row])[0]


def record_many(*, actor, entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Several audit rows by one actor in one append: one head lock, one insert, one head move (the deadline
    sweep writes thousands at a time). Each entry holds `record`'s other keyword arguments. Returns the sealed
    rows as column values (no model instances)."""
    at, source_ip = clock.now(), current_source_ip()
    rows = [_new_row(actor=actor, at=at, source_ip=source_ip, **entry) for entry in entries]
    if not rows:
        return []
    sealed = _append(rows)
    return [model_to_row(event) for event in sealed] if len(rows) == 1 else sealed


# --- checkpoints -------------------------------------------------------------------------------------


def write_checkpoint() -> list[Checkpoint]:
    """Sign each chain's newest committed row (seq, mac) and append the lines to the checkpoint file (and the
    log); returns them, chain by chain.

    Called periodically (e.g. every 10 minutes). Each line anchors its chain as it was: rows later cut off
    the tail, or a chain later rewritten even with the key, no longer match it.
    """
    key, at = current_key(), clock.now()
    checkpoints = []
    for chain in queries.chain_numbers() or [AuditChainHead.SINGLETON]:
        newest = AuditEvent.objects.filter(chain=chain).order_by("-seq").values_list("seq", "mac").first()
        seq, mac = newest or (0, domain.GENESIS_MAC)
        checkpoints.append(domain.sign_checkpoint(seq=seq, mac=mac, at=at, key=key, chain=chain))
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(domain.checkpoint_to_line(checkpoint) + "\n" for checkpoint in checkpoints).encode()
    descriptor = os.open(folder / CHECKPOINT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, lines)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    for checkpoint in checkpoints:
        logger.info("audit checkpoint chain=%s seq=%s mac=%s key_id=%s", checkpoint.chain, checkpoint.seq,
                    checkpoint.mac, checkpoint.key_id)
    return checkpoints


def read_checkpoints(keys: dict[str, AuditKey]) -> tuple[list[Checkpoint], VerifyResult | None]:
    """Every checkpoint in the checkpoint folder, oldest file first; or a failed result for the first
    line that is malformed or not signed by a known key."""
    checkpoints = []
    folder = checkpoint_dir()
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    checkpoint = domain.checkpoint_from_line(line)
                except ValueError as error:
                    return [], _bad_checkpoint(None, f"{path.name} line {number}: {error}")
                if not domain.is_authentic(checkpoint, keys):
                    return [], _bad_checkpoint(
                        checkpoint.seq, f"{path.name} line {number}: signature invalid or key {checkpoint.key_id!r} unknown"
                    )
                checkpoints.append(checkpoint)
    return checkpoints, None


def _bad_checkpoint(seq: int | None, reason: str) -> VerifyResult:
    problem = Problem.BAD_CHECKPOINT
    return VerifyResult(False, 0, seq, f"{problem.value}: {reason}", problem)


# --- verification ------------------------------------------------------------------------------------


def verify_chain(from_seq: int | None = None, to_seq: int | None = None) -> VerifyResult:
    """Check every chain from `from_seq` (default its first row) to `to_seq` (default its end) in batches;
    the first failure is returned with its chain, otherwise the totals.

    Besides each row (see `domain.verify_rows`), a chain must reach and match every signed checkpoint of it in
    the range and its head row; a checkpoint beyond the last row means the tail was cut off.
    """
    keys = audit_keys()
    checkpoints, failure = read_checkpoints(keys)
    if failure is not None:
        return failure
    chains = sorted(set(queries.chain_numbers()) | {cp.chain for cp in checkpoints}) or [AuditChainHead.SINGLETON]
    checked = anchors = 0
    last_seq = None
    for chain in chains:
        result = _verify_one(chain, [cp for cp in checkpoints if cp.chain == chain], keys, from_seq, to_seq)
        checked, anchors = checked + result.checked, anchors + result.anchors
        if not result.ok:
            prefix = f"chain {chain}: " if chain != AuditChainHead.SINGLETON else ""
            return replace(result, checked=checked, anchors=anchors, chain=chain, reason=prefix + result.reason)
        if result.last_seq is not None:
            last_seq = max(last_seq or 0, result.last_seq)
    return VerifyResult(True, checked, None, "", None, last_seq, anchors)


def _verify_one(chain: int, checkpoints: list[Checkpoint], keys, from_seq: int | None, to_seq: int | None):
    start = max(from_seq or 1, 1)
    anchors = [
        Anchor(cp.seq, cp.mac, f"the checkpoint of {domain.canonical_time(cp.at)}")
        for cp in checkpoints
        if cp.seq >= start and (to_seq is None or cp.seq <= to_seq)
    ]
    head = AuditChainHead.objects.filter(pk=chain).values_list("last_seq", "last_mac").first()
    if head and head[0] >= start and (to_seq is None or head[0] <= to_seq):
        anchors.append(Anchor(head[0], head[1], "the chain head"))
    prev_mac = domain.GENESIS_MAC
    if start > 1:
        before = AuditEvent.objects.filter(chain=chain, seq=start - 1).values_list("mac", flat=True).first()
        if before is None:
            problem = Problem.GAP
            return VerifyResult(False, 0, start - 1, f"{problem.value}: row {start - 1} is missing", problem)
        prev_mac = before
    rows = queries.iter_chain_rows(chain=chain, from_seq=start, to_seq=to_seq)
    return domain.verify_rows(rows, keys=keys, start_seq=start, prev_mac=prev_mac, anchors=anchors)


def do_verify_chain(*, actor, from_seq: int | None = None, to_seq: int | None = None) -> VerifyResult:
    """Verify the chain, then audit the run (who, range, result). The reading is not in a transaction, so
    on SQLite writers are not held up while a long chain is checked."""
    result = verify_chain(from_seq, to_seq)
    if not result.ok:  # for the log shipper's alerting; the audit row below records it too
        logger.error("audit chain verification failed in chain %s at seq %s: %s", result.chain,
                     result.first_bad_seq, result.reason)
    record(
        actor=actor, action="audit.verify", object_type="audit_log", object_id="chain",
        outcome=AuditOutcome.SUCCESS if result.ok else AuditOutcome.FAILED,
        reason=result.reason,
        data={"from_seq": from_seq, "to_seq": to_seq, "checked": result.checked, "last_seq": result.last_seq,
              "first_bad_seq": result.first_bad_seq, "chain": result.chain, "anchors": result.anchors},
    )
    return result


def record_log_access(*, actor, action: str, filters: dict[str, str], rows: int, page: int | None = None) -> None:
    """Audit an auditor's search or export of the log (what they asked for and how many rows matched)."""
    data: dict[str, Any] = {"filters": filters, "rows": rows}
    if page is not None:
        data["page"] = page
    record(actor=actor, action=action, object_type="audit_log", object_id="search", data=data)
