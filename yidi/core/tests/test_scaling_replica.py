"""The read replica for real: a private PostgreSQL primary and a streaming replica (`pg_basebackup -R`) on free ports.

The machine's shared PostgreSQL is never touched, except that this test's own test database is copied from it
(`pg_dump`, read only) into the private primary. The scenario runs in a child process whose settings point
`default` at the primary and `replica` at the replica (this process's databases belong to pytest-django), and
prints what it saw as JSON:
- with replay paused on the replica, a matter registered on the primary is missing from the KPI page (the page
  read the replica) and present on the primary; every query of the page about matters went to `replica`, whose
  connection is `pg_is_in_recovery()`;
- after replay resumes, the page shows the matter;
- the KPI export, a marked view that writes an audit row, wrote it on `default` and sent no write to `replica`;
- a stopped replica: the page still answers, from `default`, and the router logs a warning.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
PG_ROOT = Path("/usr/lib/postgresql")
TIMEOUT_SECONDS = 120


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's binaries."""
    found = [path.parent for path in PG_ROOT.glob("*/bin/initdb") if path.parent.parent.name.isdigit()]
    return max(found, key=lambda path: int(path.parent.name)) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def why_no_private_cluster() -> str:
    """Why private clusters cannot be run here ('' when they can)."""
    if connection.vendor != "postgresql":
        return "needs the PostgreSQL test database (set DATABASE_URL=postgres://…): it is copied into the cluster"
    if postgres_bin() is None:
        return f"no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) under {PG_ROOT}/*/bin"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses to run as root"
    return ""


class PrivateClusters:
    """PostgreSQL clusters of our own in a temporary directory, run as the `postgres` user when we are root."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="yidi-scaling-"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")
        self.ports: dict[str, int] = {}

    def command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin / tool), *args]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_postgres else command

    def run(self, tool: str, *args: str) -> str:
        done = subprocess.run(self.command(tool, *args), capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done.stdout

    def data_dir(self, name: str) -> str:
        return str(self.root / name)

    def _start(self, name: str, port: int) -> None:
        options = (f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c shared_buffers=32MB")
        self.run("pg_ctl", "-D", self.data_dir(name), "-o", options, "-l", str(self.root / f"{name}.log"), "-w",
                 "-t", "60", "start")
        self.ports[name] = port

    def start_primary(self, name: str = "primary") -> int:
        self.run("initdb", "-D", self.data_dir(name), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8")
        self._start(name, free_port())
        return self.ports[name]

    def start_replica(self, primary: str = "primary", name: str = "replica") -> int:
        """A hot standby streaming from `primary`: `pg_basebackup -R` writes standby.signal and the connection."""
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.ports[primary]), "-U", "postgres", "-D",
                 self.data_dir(name), "-R", "-X", "stream", "-c", "fast")
        self._start(name, free_port())
        return self.ports[name]

    def stop_command(self, name: str) -> list[str]:
        return self.command("pg_ctl", "-D", self.data_dir(name), "-m", "fast", "-w", "stop")

    def url(self, name: str, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports[name]}/{database}"

    def copy_test_database(self, name: str, database: str) -> None:
        """Create `database` in the cluster `name` as a copy of this process's (migrated) test database."""
        source = connection.settings_dict
        dump = self.root / "test-database.dump"
        env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
        subprocess.run([str(self.bin / "pg_dump"), "-Fc", "--no-owner", "-h", source["HOST"] or "127.0.0.1",
                        "-p", str(source["PORT"] or 5432), "-U", source["USER"] or "postgres", "-f", str(dump),
                        source["NAME"]], check=True, env=env, timeout=TIMEOUT_SECONDS, capture_output=True)
        dump.chmod(0o644)
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.ports[name]), "-U", "postgres", database)
        self.run("pg_restore", "--no-owner", "-h", "127.0.0.1", "-p", str(self.ports[name]), "-U", "postgres",
                 "-d", database, str(dump))

    def close(self) -> None:
        for name in list(self.ports):
            subprocess.run(self.stop_command(name), capture_output=True, timeout=TIMEOUT_SECONDS)
        shutil.rmtree(self.root, ignore_errors=True)


def run_child(module: str, function: str, env: dict[str, str]) -> dict:
    """Run `function` of `module` in a fresh process with `env`; returns the JSON it printed last."""
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yidi.settings_test", "YIDI_ALLOW_INSECURE_KEY": "1",
                 "PYTHONPATH": str(ROOT), **env}
    done = subprocess.run(
        [sys.executable, "-c", f"from {module} import {function}; {function}()"],
        cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS * 2)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the child process --------------------------------------------------------------------------------------------


def replica_scenario() -> None:  # pragma: no cover - runs in the child process
    import logging
    import time

    import django

    django.setup()
    from django.db import close_old_connections, connections, router, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from yidi.accounts.domain import Role
    from yidi.accounts.models import Unit
    from yidi.audit.models import AuditEvent
    from yidi.cases.builders import make_case, make_user
    from yidi.cases.models import Case
    from yidi.core import db_router

    setup_test_environment()  # the test client's host name, the in-memory mail box
    primary, replica = connections["default"], connections["replica"]

    def scalar(alias: str, sql: str, params=()):
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def wait_for_replay() -> None:
        lsn = scalar("default", "SELECT pg_current_wal_lsn()::text")
        for _ in range(400):  # at most 20 s
            if scalar("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]):
                return
            time.sleep(0.05)  # replication is another process: there is nothing to wait on but the position
        raise RuntimeError("the replica did not catch up within 20 s")

    recorded: dict[str, list[str]] = {"default": [], "replica": []}

    def recorder(alias):
        def wrapper(execute, sql, params, many, context):
            recorded[alias].append(sql)
            return execute(sql, params, many, context)
        return wrapper

    def get(client, url):
        close_old_connections()  # what the WSGI handler does at each request (the test client does not)
        recorded["default"].clear()
        recorded["replica"].clear()
        with primary.execute_wrapper(recorder("default")), replica.execute_wrapper(recorder("replica")):
            return client.get(url)

    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            warnings.append(record.getMessage())

    logging.getLogger("yidi.core.db_router").addHandler(Collect(level=logging.WARNING))

    centre = Unit.objects.get(code="centre")
    supervisor = make_user("replica-supervisor", Role.SUPERVISOR, unit=centre, name="周督查")
    registrar = make_user("replica-registrar", Role.REGISTRAR, unit=centre, name="李窗口")
    client = Client()
    client.force_login(supervisor)
    wait_for_replay()
    scalar("replica", "SELECT pg_wal_replay_pause()")
    case = make_case(registrar)
    kpis = reverse("analytics_kpis")

    out: dict = {"in_recovery": {"default": scalar("default", "SELECT pg_is_in_recovery()"),
                                 "replica": scalar("replica", "SELECT pg_is_in_recovery()")}}
    response = get(client, kpis)
    out["paused"] = {
        "status": response.status_code,
        "page_says_no_data": "无数据" in response.content.decode(),
        "matters_on_primary": Case.objects.using("default").filter(pk=case.pk).count(),
        "matters_on_replica": Case.objects.using("replica").filter(pk=case.pk).count(),
        "case_queries_on_replica": sum('"cases_case"' in sql for sql in recorded["replica"]),
        "case_queries_on_default": sum('"cases_case"' in sql for sql in recorded["default"]),
    }
    scalar("replica", "SELECT pg_wal_replay_resume()")
    wait_for_replay()
    response = get(client, kpis)
    out["resumed"] = {"status": response.status_code, "page_says_no_data": "无数据" in response.content.decode()}

    audit_rows = AuditEvent.objects.using("default").count()
    response = get(client, reverse("analytics_kpis_export", kwargs={"table_format": "csv"}))
    writes = ("INSERT", "UPDATE", "DELETE")
    out["export"] = {
        "status": response.status_code,
        "audit_rows_added_on_primary": AuditEvent.objects.using("default").count() - audit_rows,
        "writes_on_replica": [sql[:80] for sql in recorded["replica"] if sql.lstrip().upper().startswith(writes)],
        "audit_insert_on_default": any(sql.startswith('INSERT INTO "audit_auditevent"') for sql in recorded["default"]),
        "reads_on_replica": len(recorded["replica"]),
    }
    with db_router.reading_from_replica():
        marked = {"read": Case.objects.db, "write": router.db_for_write(Case), "audit_read": AuditEvent.objects.db}
        with transaction.atomic():
            marked["read_in_transaction"] = Case.objects.db
    out["marked"] = marked
    out["unmarked_read"] = Case.objects.db

    subprocess.run(json.loads(os.environ["SCENARIO_STOP_REPLICA"]), check=True, capture_output=True, timeout=60)
    response = get(client, kpis)
    out["replica_down"] = {
        "status": response.status_code, "page_says_no_data": "无数据" in response.content.decode(),
        "queries_on_replica": len(recorded["replica"]), "queries_on_default": len(recorded["default"]),
        "warnings": warnings,
    }
    print(json.dumps(out, ensure_ascii=False))


# --- the test -----------------------------------------------------------------------------------------------------


@pytest.fixture
def clusters(django_db_setup):
    reason = why_no_private_cluster()
    if reason:
        pytest.skip(reason)
    clusters = PrivateClusters()
    try:
        clusters.start_primary()
        clusters.copy_test_database("primary", "yidi")
        clusters.start_replica()
        yield clusters
    finally:
        clusters.close()


@pytest.mark.django_db  # the test database is set up (and copied into the private primary)
def test_dashboard_reads_from_the_streaming_replica_and_writes_stay_on_the_primary(clusters):
    seen = run_child("yidi.core.tests.test_scaling_replica", "replica_scenario", {
        "DATABASE_URL": clusters.url("primary", "yidi"),
        "YIDI_REPLICA_DATABASE_URL": clusters.url("replica", "yidi"),
        "YIDI_DATA_DIR": str(clusters.root),
        "SCENARIO_STOP_REPLICA": json.dumps(clusters.stop_command("replica")),
    })

    assert seen["in_recovery"] == {"default": False, "replica": True}
    paused = seen["paused"]
    assert paused["status"] == 200
    assert paused["page_says_no_data"] is True  # the page read the replica, where replay is paused
    assert (paused["matters_on_primary"], paused["matters_on_replica"]) == (1, 0)
    assert paused["case_queries_on_replica"] > 0
    assert paused["case_queries_on_default"] == 0
    assert seen["resumed"] == {"status": 200, "page_says_no_data": False}
    export = seen["export"]
    assert export["status"] == 200
    assert export["audit_rows_added_on_primary"] == 1
    assert export["audit_insert_on_default"] is True
    assert export["writes_on_replica"] == []
    assert export["reads_on_replica"] > 0
    assert seen["marked"] == {"read": "replica", "write": "default", "audit_read": "default",
                              "read_in_transaction": "default"}
    assert seen["unmarked_read"] == "default"
    down = seen["replica_down"]
    assert (down["status"], down["page_says_no_data"], down["queries_on_replica"]) == (200, False, 0)
    assert down["queries_on_default"] > 0
    assert len(down["warnings"]) == 1
    assert down["warnings"][0].startswith("read replica unreachable, reading from the primary for the next 30 s")
