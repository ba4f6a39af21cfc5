"""Audit chain speed (issue 5, Speed): `audit verify` checks >= 50,000 rows/s, and with chaining on,
registering matters on PostgreSQL with two writers stays >= 400/s.

Run: `python bench/bench_audit.py` (prints a table). `run()` returns the figures as dicts with keys
figure, value, unit, floor, ratio, target.

Everything happens in a throwaway PostgreSQL database, `yidi_bench_audit`, created (and dropped at the
end) on the server named by `YIDI_BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
used only to create and drop it), so the dev database is never touched. `run()` measures in a child
process because Django can be set up only once per process.

- verify: 200,000 generated rows (deterministic actors, actions, objects, JSON details, Chinese reasons),
  sealed by the real chain code and bulk-inserted, then `verify_chain()` over all of them. Floor: the same
  keyset batches of the same columns read from the database as the driver returns them (no JSON decoding,
  no checking), i.e. the cost of merely fetching the rows; verification cannot beat it.
- matters: two forked processes, each with its own connection, register matters through `make_case` (the
  real `do_register_case` action, one transaction each, with its audit row chained under the head lock).
  Floor: the same with `record` patched to a no-op, i.e. the rate the rest of the action allows.
- appends: the chain alone, two processes each committing one audit row per transaction. Floor: the same
  transactions inserting one plain row, i.e. what the commit latency of this disk allows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_DATABASE = "yidi_bench_audit"
SERVER_URL = os.environ.get("YIDI_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
VERIFY_ROWS = 200_000
WRITERS = 2
MATTERS_PER_WRITER = 150
TARGET_VERIFY_ROWS_PER_S = 50_000
TARGET_MATTERS_PER_S = 400
COUNTY = "330681"


# --- the throwaway database ---------------------------------------------------------------------------


def _server(dbname: str | None = None) -> str:
    base, _, _ = SERVER_URL.rpartition("/")
    return f"{base}/{dbname}" if dbname else SERVER_URL


def _recreate_database() -> None:
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def _setup_django(checkpoints: str) -> None:
    os.environ["DATABASE_URL"] = _server(BENCH_DATABASE)
    os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
    os.environ.setdefault("YIDI_ALLOW_INSECURE_KEY", "1")
    os.environ["YIDI_DB_CONN_MAX_AGE"] = "0"
    import django
    from django.conf import settings

    django.setup()
    settings.AUDIT_CHECKPOINT_DIR = checkpoints  # never the dev checkpoints

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _load_county() -> None:
    from yidi.accounts.domain import Role, UnitKind
    from yidi.cases.builders import make_unit, make_user
    from yidi.regions.loader import load_county

    load_county(COUNTY)
    centre = make_unit(
        "centre", kind=UnitKind.CENTRE, region_code=COUNTY, name="诸暨市社会矛盾纠纷调处化解中心"
    )
    make_user("registrar", Role.REGISTRAR, unit=centre, name="李窗口")


# --- verification -------------------------------------------------------------------------------------

ACTIONS = [
    "case.register",
    "case.accept",
    "case.assign",
    "case.sign",
    "case.conclude",
    "person.reveal",
    "user.login",
]
REASONS = ["", "", "", "当事人要求查看完整身份证号码以便核实身份", "退回：不属于本单位职责范围，请重新分派"]


def _generate_rows(count: int, *, batch: int = 5000) -> None:
    """Append `count` sealed rows after the current head, in bulk (the chain code, not the ORM per row)."""
    from django.db import transaction

    from yidi.audit import domain
    from yidi.audit.actions import current_key
    from yidi.audit.models import AuditChainHead, AuditEvent

    key = current_key()
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        seq, prev_mac = head.last_seq, head.last_mac
        pending = []
        for i in range(count):
            seq += 1
            action = ACTIONS[i % len(ACTIONS)]
            event = AuditEvent(
                seq=seq,
                key_id=key.key_id,
                at=start + timedelta(seconds=7 * i, microseconds=i % 997),
                actor_username=f"user{i % 300:03d}",
                actor_roles="handler" if i % 3 else "dispatcher,handler",
                actor_unit_code=f"unit-{i % 40:02d}",
                source_ip=f"10.{i % 7}.{i % 200}.{i % 250 + 1}",
                action=action,
                object_type=action.split(".")[0],
                object_id=f"330681109-2026-{i % 50_000:06d}",
                fields=["status", "lead_unit"] if i % 2 else ["parties", "description"],
                reason=REASONS[i % len(REASONS)],
                data={
                    "channel": "walk_in",
                    "grade": ["red", "orange", "yellow", "blue"][i % 4],
                    "score": (i % 100) / 8,
                }
                if i % 4
                else {},
                prev_mac=prev_mac,
            )
            values = [getattr(event, name) for name in domain.CHAINED_FIELDS]
            event.mac = prev_mac = domain.row_mac(values, prev_mac=prev_mac, mac_key=key.mac_key)
            pending.append(event)
            if len(pending) == batch:
                AuditEvent.objects.bulk_create(pending)
                pending = []
        AuditEvent.objects.bulk_create(pending)
        AuditChainHead.objects.filter(pk=1).update(last_seq=seq, last_mac=prev_mac)
    from django.db import connection

    with connection.cursor() as cursor:  # as autovacuum would after a bulk load: the planner needs counts
        cursor.execute("ANALYZE audit_auditevent")


def _best_rate(measure, repeat: int = 3) -> float:
    return max(measure() for _ in range(repeat))


def _verify_rate() -> float:
    from yidi.audit.actions import verify_chain

    started = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - started
    if not result.ok:
        raise RuntimeError(f"the generated chain does not verify: {result}")
    return result.checked / elapsed


def _fetch_rate() -> float:
    from yidi.audit import queries

    started = time.perf_counter()
    count = sum(1 for _ in queries.iter_raw_chain_rows())
    return count / (time.perf_counter() - started)


# --- matters, two writers -----------------------------------------------------------------------------


def _in_processes(work, count: int) -> float:
    """Seconds for `WRITERS` forked processes, each running `work(count)` on its own connection, to finish
    together (real writers are separate server processes; threads would share one interpreter lock)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS + 1)

    def child() -> None:
        work(0)  # warm up this process's caches and connection before the clock starts
        barrier.wait()
        work(count)
        connections.close_all()

    processes = [context.Process(target=child) for _ in range(WRITERS)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError("a writer process failed")
    return elapsed


def _register(count: int) -> None:
    from yidi.accounts.models import User
    from yidi.cases.builders import make_case

    registrar = User.objects.select_related("unit").get(username="registrar")
    for _ in range(count or 2):  # 0: a warm-up of two
        make_case(registrar)


def _writers_rate(*, chained: bool) -> float:
    """Matters registered per second by two writer processes through the real action (triage, person index,
    code, clocks, timeline, audit), each matter its own transaction."""
    patch = mock.patch("yidi.cases.actions.record", lambda **kwargs: None) if not chained else nullcontext()
    with patch:
        elapsed = _in_processes(_register, MATTERS_PER_WRITER)
    return WRITERS * MATTERS_PER_WRITER / elapsed


def _append(count: int) -> None:
    from django.db import transaction

    from yidi.audit.actions import record

    for n in range(count or 2):
        with transaction.atomic():
            record(actor=None, action="case.register", object_type="case", object_id=f"330681-2026-{n:06d}",
                   fields=["status"], data={"channel": "walk_in"})


def _plain_insert(count: int) -> None:
    from django.db import connection, transaction

    for n in range(count or 2):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_plain (payload) VALUES (%s)", [f"330681-2026-{n:06d}"])


def _append_rates() -> tuple[float, float]:
    """Chained audit appends per second, two writer processes, one append per transaction; and the floor: the
    same transactions inserting one plain row (what commit latency alone allows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, payload text)")
    count = 400
    floor = WRITERS * count / _in_processes(_plain_insert, count)
    chained = WRITERS * count / _in_processes(_append, count)
    return chained, floor


def _chain_is_intact_after_writers() -> int:
    from yidi.audit.actions import verify_chain

    result = verify_chain()
    if not result.ok:
        raise RuntimeError(f"two writers broke the chain: {result}")
    return result.checked


# --- figures ------------------------------------------------------------------------------------------


def measure() -> list[dict[str, object]]:
    """Create the throwaway database, measure, drop it. Needs a process where Django is not set up yet."""
    _recreate_database()
    try:
        with tempfile.TemporaryDirectory() as checkpoints:
            _setup_django(checkpoints)
            _load_county()
            floor_matters = _best_rate(lambda: _writers_rate(chained=False), repeat=2)
            matters = _best_rate(lambda: _writers_rate(chained=True), repeat=2)
            appends, floor_appends = _append_rates()
            _chain_is_intact_after_writers()
            _generate_rows(VERIFY_ROWS)
            floor_rows = _best_rate(_fetch_rate)
            rows = _best_rate(_verify_rate)
            from django.db import connections

            connections.close_all()
    finally:
        _drop_database()

    def figure(name: str, value: float, unit: str, floor: float, target: float) -> dict[str, object]:
        return {
            "figure": name,
            "value": round(value, 1),
            "unit": unit,
            "floor": round(floor, 1),
            "ratio": round(value / floor, 2),
            "target": target,
        }

    return [
        figure(
            f"audit verify, {VERIFY_ROWS:,} rows (PostgreSQL)",
            rows,
            "rows/s",
            floor_rows,
            TARGET_VERIFY_ROWS_PER_S,
        ),
        figure(
            f"matters registered, {WRITERS} writer processes, chained audit (PostgreSQL)",
            matters,
            "matters/s",
            floor_matters,
            TARGET_MATTERS_PER_S,
        ),
        figure(
            f"audit appends, {WRITERS} writer processes, one per transaction (PostgreSQL)",
            appends,
            "appends/s",
            floor_appends,
            TARGET_MATTERS_PER_S,
        ),
    ]


def run() -> list[dict[str, object]]:
    """The figures, measured in a child process (Django is set up once per process)."""
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench_audit failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    if "--json" in sys.argv:
        print(json.dumps(measure()))
        return
    rows = run()
    print(f"{'figure':<62} {'value':>12} {'unit':<10} {'floor':>12} {'ratio':>7} {'target':>8}")
    for row in rows:
        print(
            f"{row['figure']:<62} {row['value']:>12} {row['unit']:<10} {row['floor']!s:>12} "
            f"{row['ratio']!s:>7} {row['target']!s:>8}"
        )


if __name__ == "__main__":
    main()
