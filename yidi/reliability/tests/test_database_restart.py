"""The PostgreSQL server restarts while the API is under load: every acknowledged registration survives, every
failed request gets a clear answer in bounded time (no hang), and the server serves again on its own.

The machine's shared PostgreSQL server is never touched: the test starts a private cluster (`initdb` into a
temporary folder, `pg_ctl start` on a free port; as the `postgres` user when the test runs as root), migrates a
database `h10_restart` on it, and runs a real `yidi serve` against it. Four clients post registrations through
the API (`POST /api/v1/cases`) for the whole run; in the middle the cluster is restarted with
`pg_ctl restart -m fast` (connections cut, in-flight transactions rolled back, committed ones kept).
"""

import glob
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from yidi.reliability.tests.support import kill, manage, postgresql_only, process_env, shell, start, wait_for

pytestmark = [postgresql_only("restarts a private PostgreSQL cluster under the server"), pytest.mark.postgres]
CLIENTS = 4
TIMEOUT_SECONDS = 15  # a client gives up after this: a request that takes it is a hang
BEFORE_SECONDS, AFTER_SECONDS = 4, 6  # load before the restart, and after it is back
SETUP = """
from conftest import build_world
from yidi.accounts.actions import do_create_api_client
build_world()
_client, token = do_create_api_client(name="h10-load", unit_code="centre", scopes=["cases:read", "cases:write"])
print(token)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


@dataclass
class Cluster:
    bindir: Path
    data: Path
    port: int

    def run(self, tool: str, *args: str, timeout: float = 120) -> str:
        """A PostgreSQL tool, as the `postgres` user when we are root (initdb and the server refuse root)."""
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
        assert done.returncode == 0, f"{tool} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        return done.stdout

    def pg_ctl(self, *args: str) -> str:
        return self.run("pg_ctl", "-D", str(self.data / "data"), "-l", str(self.data / "server.log"), "-w",
                        "-t", "60", *args)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@contextmanager
def private_cluster():
    bindir = _server_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed on this machine")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: initdb refuses to run as root")
    data = Path(tempfile.mkdtemp(prefix="h10-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    cluster = Cluster(bindir, data, _free_port())
    try:
        cluster.run("initdb", "-D", str(data / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--no-locale", "--no-sync")
        options = f"-p {cluster.port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=50"
        cluster.pg_ctl("-o", options, "start")
        cluster.run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "h10_restart")
        yield cluster
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(bindir / "pg_ctl"), "-D", str(data / "data"),
                        "-m", "immediate", "stop"] if os.geteuid() == 0 else
                       [str(bindir / "pg_ctl"), "-D", str(data / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class Outcome:
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer (connection refused or cut)
    body: dict | str
    error: str = ""


def _post(base: str, token: str, number: int) -> Outcome:
    body = {
        "channel": "walk_in", "request_type": "mediation", "title": f"压力测试登记第{number}件",
        "description": "邻居加盖杂物间堵住共用排水沟，请求调解。", "region": "330681109290",
        "parties": [{"role": "applicant", "name": "陈建国", "phone": "13805751234"}],
    }
    request = urllib.request.Request(f"{base}/api/v1/cases", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Outcome(started, time.monotonic() - started, response.status, json.loads(response.read()))
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = text
        return Outcome(started, time.monotonic() - started, error.code, answer)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as error:
        return Outcome(started, time.monotonic() - started, None, "", f"{type(error).__name__}: {error}")


def _load(base: str, token: str, stop: threading.Event, outcomes: list, counter) -> None:
    while not stop.is_set():
        outcomes.append(_post(base, token, next(counter)))


def test_a_database_restart_under_load_loses_no_acknowledged_registration(tmp_path):
    import itertools

    import psycopg

    with private_cluster() as cluster:
        env = process_env(cluster.url("h10_restart"), tmp_path, YIDI_API_RATE_PER_MINUTE="0")
        manage(env, "migrate", "--no-input")
        token = shell(env, SETUP).strip().splitlines()[-1]
        port, log = _free_port(), tmp_path / "serve.log"
        base = f"http://127.0.0.1:{port}"
        server = start(env, log, "serve", "--port", str(port), "--threads", "8")
        try:
            wait_for(lambda: _post(base, token, 0).status == 201, seconds=120, what="the server to answer",
                     logs=[log])
            outcomes, stop, counter = [], threading.Event(), itertools.count(1)
            clients = [threading.Thread(target=_load, args=(base, token, stop, outcomes, counter))
                       for _ in range(CLIENTS)]
            for client in clients:
                client.start()
            time.sleep(BEFORE_SECONDS)
            restart_began = time.monotonic()
            cluster.pg_ctl("-m", "fast", "restart")
            restarted = time.monotonic()
            time.sleep(AFTER_SECONDS)
            stop.set()
            for client in clients:
                client.join(timeout=TIMEOUT_SECONDS + 5)
            assert not any(client.is_alive() for client in clients), "a client hung"
            assert server.poll() is None  # the same server process throughout
            after = _post(base, token, 0)
        finally:
            kill(server)

        with psycopg.connect(cluster.url("h10_restart").replace("postgres://", "postgresql://")) as conn:
            stored = {code for (code,) in conn.execute("SELECT code FROM cases_case")}

    acknowledged = [o for o in outcomes if o.status == 201]
    failed = [o for o in outcomes if o.status != 201]
    # every acknowledged registration survived the restart
    assert {o.body["code"] for o in acknowledged} <= stored
    assert len({o.body["code"] for o in acknowledged}) == len(acknowledged)
    # every failure was a clear answer, in bounded time: a 5xx with the project's error body, or a cut connection
    for outcome in failed:
        assert outcome.seconds < TIMEOUT_SECONDS, outcome
        assert (outcome.status is None and outcome.error) or (
            outcome.status in (500, 503) and (
                outcome.body == {"code": "server_error", "message": "服务器内部错误，请稍后重试"}
                or "系统出现错误" in str(outcome.body))), outcome
    # load ran on both sides of the restart, and once the database was back the server served again on its own
    assert any(o.started < restart_began for o in acknowledged)
    assert any(o.started > restarted for o in acknowledged)
    late = [o for o in outcomes if o.started > restarted + 2]
    assert late and all(o.status == 201 for o in late), [o for o in late if o.status != 201][:3]
    assert after.status == 201
    cut = sum(o.status is None for o in failed)
    stale = sum(o.started > restarted for o in failed)
    print(f"restart under load: {len(acknowledged)} registrations acknowledged, {len(failed)} clear failures "
          f"({len(failed) - cut} error answers, {cut} cut connections, {stale} after the restart; slowest "
          f"{max((o.seconds for o in failed), default=0):.2f}s), restart took {restarted - restart_began:.2f}s")
