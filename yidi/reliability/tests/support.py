"""Tools of the fault tests.

- `committing`: real commits in the suite's test database (threads with their own connections, a backend
  terminated mid-action), and every row they added removed afterwards. Not `transaction=True`: its teardown
  flushes every table, which the audit log's TRUNCATE trigger refuses and which would wipe the county loaded once
  per test database.
- `own_database`: a database of its own for real `yidi` processes (a SQLite file, or a PostgreSQL database named
  `h10_…` on the suite's server).
- `process_env`, `manage`, `start`, `wait_for`, `kill`: run and stop real `yidi` processes.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

ROOT = Path(__file__).resolve().parents[3]
HOOKS = Path(__file__).resolve().parent / "hooks"  # `sitecustomize` of the processes under test (fault hooks)

is_postgresql = connection.vendor == "postgresql"


def postgresql_only(why: str):
    """Skip on SQLite, saying what of PostgreSQL the test needs."""
    return pytest.mark.skipif(not is_postgresql, reason=f"PostgreSQL only: {why}")


# --- real commits in the test database ----------------------------------------------------------------------


def _tables():
    """(model, pk column, is integer) of every table the cleanup looks after; the audit log is restored apart."""
    from yidi.audit.models import AuditChainHead, AuditEvent

    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy or model in (AuditEvent, AuditChainHead):
            continue
        yield model, meta.pk.column, meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")


def _marks() -> dict:
    """The highest key of each table with an integer key, and every key of the others (a few sessions, tasks)."""
    marks = {}
    for model, _column, is_integer in _tables():
        if is_integer:
            marks[model] = model._base_manager.aggregate(top=Max("pk"))["top"] or 0
        else:
            marks[model] = set(model._base_manager.values_list("pk", flat=True))
    return marks


def _remove_rows_added_since(marks: dict) -> None:
    """Delete every row added after `marks`, in one transaction with the foreign keys checked at its end."""
    with transaction.atomic(), connection.cursor() as cursor:
        if is_postgresql:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for model, column, is_integer in _tables():
            table, key = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(column)
            if is_integer:
                cursor.execute(f"DELETE FROM {table} WHERE {key} > %s", [marks[model]])
                continue
            added = set(model._base_manager.values_list("pk", flat=True)) - marks[model]
            if added:
                model._base_manager.filter(pk__in=added)._raw_delete(model._base_manager.db)


@contextmanager
def committing(django_db_blocker) -> Iterator[None]:
    """Let the test commit for real; afterwards remove every row it added, put the code sequences and the audit
    chain heads back, and close the connection (its backend may have been terminated)."""
    from yidi.audit.testing import restore_heads, snapshot_heads
    from yidi.core.models import CodeSequence

    with django_db_blocker.unblock():
        heads = snapshot_heads()
        sequences = dict(CodeSequence.objects.values_list("pk", "last_value"))
        marks = _marks()
        try:
            yield
        finally:
            connection.close()  # a terminated or broken connection is not reused for the cleanup
            restore_heads(heads)
            _remove_rows_added_since(marks)
            for pk, value in sequences.items():
                CodeSequence.objects.filter(pk=pk).update(last_value=value)
            connection.close()


def postgres_admin_url(database: str = "postgres") -> str:
    server = settings.DATABASES["default"]
    password = f":{server['PASSWORD']}" if server.get("PASSWORD") else ""
    return (f"postgresql://{server['USER']}{password}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/"
            f"{database}")


def terminate_backend(pid: int) -> None:
    """Kill one PostgreSQL backend from a second connection, as an administrator or a crash would, and wait
    until it is gone."""
    import psycopg

    with psycopg.connect(postgres_admin_url(settings.DATABASES["default"]["NAME"]), autocommit=True) as side:
        assert side.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()[0] is True


# --- real processes on a database of their own ----------------------------------------------------------------


@contextmanager
def own_database(tmp_path: Path) -> Iterator[str]:
    """A database URL for processes under test: a SQLite file, or a fresh PostgreSQL database `h10_…`."""
    if not is_postgresql:
        yield f"sqlite:///{tmp_path}/fault.sqlite3"
        return
    import psycopg

    name = f"h10_{uuid.uuid4().hex[:10]}"
    admin = postgres_admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.replace("postgresql://", "postgres://").rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def process_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `yidi` process: its own database and data folder, the fault hooks on its path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("YIDI_", "DJANGO_", "H10_"))}
    env.update({
        "DATABASE_URL": database_url, "YIDI_DATA_DIR": str(tmp_path / "data"), "YIDI_ALLOW_INSECURE_KEY": "1",
        "YIDI_SECURE_COOKIES": "0", "DJANGO_SETTINGS_MODULE": "yidi.settings", "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join([str(HOOKS), str(ROOT)]),
    })
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-5000:]
    return done.stdout


def shell(env: dict[str, str], script: str) -> str:
    return manage(env, "shell", "--no-imports", "-c", script)


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """`python -m yidi.cli <args>` in a session of its own (so that it can be killed with all its threads)."""
    return subprocess.Popen([sys.executable, "-m", "yidi.cli", *args], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    output = "\n".join(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:] for path in logs if path.exists())
    raise AssertionError(f"timed out waiting for {what}\n{output}")


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    process.wait(timeout=30)
