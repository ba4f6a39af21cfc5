"""A worker killed with SIGKILL in the middle of a delivery loses no outbound message (issue #8, "Done when").

Real processes on a database of their own (a SQLite file, or a PostgreSQL database when the suite runs on
PostgreSQL): the messages are written by one process, a real `yidi worker` delivers them and hangs inside a
delivery (the receiver already has that message), the test kills it with SIGKILL, and a second `yidi worker`
finishes the job. Every message reaches the receiver, and each is recorded as sent exactly once; only the one in
flight at the kill reaches the receiver twice, with the same idempotency key, so the receiver applies it once.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = 12
HANG_AT = 5

ENQUEUE = f"""
from django.db import transaction
from yidi.integrations.actions import enqueue
with transaction.atomic():
    for n in range({MESSAGES}):
        enqueue(kind="fault", destination="receiver", idempotency_key=f"fault:{{n}}", text=f"message {{n}}",
                subject_type="test", subject_id=str(n))
"""
REPORT = """
from yidi.integrations.models import OutboxMessage, OutboxAttempt
for m in OutboxMessage.objects.order_by("id"):
    print(m.idempotency_key, m.status, m.attempts, OutboxAttempt.objects.filter(message=m, ok=True).count())
"""


@pytest.fixture
def database(tmp_path):
    """A database of its own for the processes under test (the suite's test database lives in this process)."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path}/fault.sqlite3"
        return
    import psycopg

    name = f"yidi_fault_{uuid.uuid4().hex[:10]}"
    server = settings.DATABASES["default"]
    admin = f"postgresql://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.replace("postgresql://", "postgres://").rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("YIDI_", "DJANGO_"))}
    env.update({
        "DATABASE_URL": database_url, "YIDI_DATA_DIR": str(tmp_path / "data"), "YIDI_ALLOW_INSECURE_KEY": "1",
        "DJANGO_SETTINGS_MODULE": "yidi.settings", "YIDI_OUTBOX_LEASE_SECONDS": "1",
        "YIDI_OUTBOX_TRANSPORTS": "fault=yidi.integrations.tests.receiver.FileReceiverTransport",
        "YIDI_TEST_RECEIVER_LOG": str(tmp_path / "received.log"), "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "yidi.cli", "worker"], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def _received(tmp_path: Path) -> list[str]:
    path = tmp_path / "received.log"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _wait_for(condition, *, seconds: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    output = "\n".join(path.read_text(errors="replace")[-3000:] for path in logs if path.exists())
    raise AssertionError(f"timed out waiting for {what}\n{output}")


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.mark.django_db
def test_a_worker_killed_mid_delivery_loses_no_message(database, tmp_path):
    env = _env(database, tmp_path)
    _manage(env, "migrate", "--no-input")
    _manage(env, "shell", "--no-imports", "-c", ENQUEUE)
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"

    first = _worker({**env, "YIDI_TEST_RECEIVER_HANG_AT": str(HANG_AT)}, first_log)
    try:
        _wait_for(lambda: len(_received(tmp_path)) >= HANG_AT, seconds=120, what="the first deliveries",
                  logs=[first_log])
        time.sleep(0.5)  # it is now asleep inside delivery number HANG_AT, which the receiver already has
    finally:
        _kill(first)
    assert first.returncode == -signal.SIGKILL
    assert len(_received(tmp_path)) == HANG_AT

    time.sleep(1.5)  # the killed worker's lease on its message runs out
    second = _worker(env, second_log)
    try:
        _wait_for(lambda: len(set(_received(tmp_path))) == MESSAGES and _report(env).count(" sent ") == MESSAGES,
                  seconds=120, what="every message to be delivered and recorded", logs=[first_log, second_log])
    finally:
        _kill(second)

    received = _received(tmp_path)
    assert sorted(set(received)) == sorted(f"fault:{n}" for n in range(MESSAGES))
    # at least once: only the message in flight at the kill arrived twice, under its one idempotency key
    assert len(received) == MESSAGES + 1
    duplicated = [key for key in set(received) if received.count(key) == 2]
    assert duplicated == [received[HANG_AT - 1]]
    # each message is recorded as sent once, with one successful attempt
    assert sorted(_report(env).splitlines()) == sorted(f"fault:{n} sent 1 1" for n in range(MESSAGES))


def _report(env: dict[str, str]) -> str:
    return _manage(env, "shell", "--no-imports", "-c", REPORT)


@pytest.mark.django_db
def test_a_periodic_task_left_running_by_a_dead_worker_does_not_block_it_for_good():
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from yidi.cli import STALE_RUNNING_SECONDS, _waiting
    from yidi.integrations.tasks import deliver_outbox_task

    assert not _waiting(DBTaskResult, deliver_outbox_task)
    row = DBTaskResult.objects.create(task_path=deliver_outbox_task.module_path, args_kwargs={"args": [], "kwargs": {}},
                                      backend_name="default", run_after=timezone.now())
    assert _waiting(DBTaskResult, deliver_outbox_task)  # queued: not enqueued again

    row.status, row.started_at = "RUNNING", timezone.now() - timedelta(seconds=STALE_RUNNING_SECONDS - 60)
    row.save(update_fields=["status", "started_at"])
    assert _waiting(DBTaskResult, deliver_outbox_task)  # running now

    row.started_at = timezone.now() - timedelta(seconds=STALE_RUNNING_SECONDS + 60)
    row.save(update_fields=["started_at"])
    assert not _waiting(DBTaskResult, deliver_outbox_task)  # its worker died: the schedule goes on
