"""API: create-matter with triage (POST /api/v1/cases with a bearer token) against the real server, beside a
trivial JSON endpoint (GET /api/v1/ping) of the same server in the same run. Target (issue #8): ≥ 200 requests/s
on two cores with PostgreSQL, p99 ≤ 100 ms at 16 concurrent clients.

The server runs as its own process (`yidi serve`, on a throwaway PostgreSQL database `yidi_bench_api`, created
and dropped here); the clients run in another process: 16 threads, each with one keep-alive connection, each
sending its next request as soon as the last one is answered, for `SECONDS` per endpoint.

Run: `python bench/bench_api.py [--workers N]`: the server is `yidi serve` with one process (waitress, 16 threads)
or N processes (gunicorn, 16 / N threads each). Besides the rates and latencies it reports the server's CPU time
per created matter (all its processes; PostgreSQL's own CPU not included), the figure that does not depend on how
busy the machine is. `YIDI_BENCH_API_DATABASE` names the throwaway database (default `yidi_bench_api`).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from harness import (
    POSTGRES_ADMIN_URL,
    ROOT,
    drop_postgres_database,
    figure,
    percentile,
    print_table,
    setup_django,
)

DATABASE = os.environ.get("YIDI_BENCH_API_DATABASE", "yidi_bench_api")
CLIENTS = 16
SECONDS = 15.0
DRIVER = r"""
import http.client, json, sys, threading, time
host, port, path, method, token, seconds, clients, bodies = json.loads(sys.stdin.read())
latencies, errors, lock = [], [], threading.Lock()
deadline = time.perf_counter() + seconds

def client(number):
    connection = http.client.HTTPConnection(host, port, timeout=30)
    mine, sent = [], 0
    while time.perf_counter() < deadline:
        body = json.dumps(bodies[(number * 100000 + sent) % len(bodies)] if bodies else None).encode() if method == "POST" else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"} if token else {}
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except Exception as error:  # a refused or dropped connection is an error of the run, not a lost thread
            with lock:
                errors.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=30)
            continue
        mine.append(time.perf_counter() - started)
        sent += 1
        if response.status >= 300:
            with lock:
                errors.append(response.status)
    with lock:
        latencies.extend(mine)

threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
started = time.perf_counter()
for thread in threads: thread.start()
for thread in threads: thread.join()
print(json.dumps({"latencies": latencies, "seconds": time.perf_counter() - started, "errors": errors[:20],
                  "error_count": len(errors)}))
"""
TEXTS = (
    "邻居在楼道堆放杂物堵塞通道，多次沟通无果",
    "公司拖欠三个月工资共计两万元，老板拒不支付",
    "小区物业收费不合理，电梯长期故障无人维修",
    "在网店购买的电器有质量问题，商家拒绝退货",
    "承包的山林边界与邻村发生争议，双方多次争吵",
)


def _bodies(count: int) -> list[dict]:
    return [{
        "channel": "hotline_12345", "request_type": "complaint", "title": f"诉求{n}",
        "description": f"{TEXTS[n % len(TEXTS)]}（第{n}号）", "region": "330681109",
        "parties": [{"role": "applicant", "name": "王小明", "phone": f"1390575{n % 10000:04d}"}],
    } for n in range(count)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _drive(port: int, path: str, method: str, token: str, bodies: list[dict]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER], input=json.dumps(["127.0.0.1", port, path, method, token, SECONDS, CLIENTS,
                                                         bodies]),
        capture_output=True, text=True, check=True,
    )
    result = json.loads(done.stdout)
    if result["error_count"]:
        raise RuntimeError(f"{method} {path}: {result['error_count']} answers were errors: {result['errors']}")
    return result


def _session_cpu_seconds(session: int) -> float:
    """CPU seconds (user + system) used so far by every process of the server's session (its workers too)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    import http.client

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/api/v1/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer within 120 s")


def run(vendor: str = "postgres", *, workers: int = 1) -> list[dict]:
    setup_django("postgres", database=DATABASE)
    from django.db import connections

    from yidi.accounts.actions import do_create_api_client
    from yidi.accounts.domain import Role, UnitKind
    from yidi.cases.builders import make_unit, make_user
    from yidi.regions.loader import load_county

    load_county("330681")
    centre = make_unit("centre", kind=UnitKind.CENTRE, region_code="330681", name="诸暨市社会矛盾纠纷调处化解中心")
    make_user("bench-dispatcher", Role.DISPATCHER, unit=centre)
    _, token = do_create_api_client(name="bench-client", unit_code="centre", scopes=["cases:read", "cases:write"])
    connections.close_all()
    port = _free_port()
    data_dir = tempfile.mkdtemp(prefix="yidi-bench-api-")
    env = {**os.environ, "YIDI_DATA_DIR": data_dir, "YIDI_API_RATE_PER_MINUTE": "0"}
    threads = max(1, CLIENTS // workers)
    command = [sys.executable, "-m", "yidi.cli", "serve", "--port", str(port), "--threads", str(threads),
               "--workers", str(workers)]
    log_path = os.path.join(data_dir, "server.log")  # a file, not a pipe: a pipe nobody reads blocks the server
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        _wait_until_up(port, server)
        _drive(port, "/api/v1/ping", "GET", "", [])  # warm-up: every worker thread and connection
        ping = _drive(port, "/api/v1/ping", "GET", "", [])
        cpu_before = _session_cpu_seconds(server.pid)
        create = _drive(port, "/api/v1/cases", "POST", token, _bodies(5000))
        create_cpu = _session_cpu_seconds(server.pid) - cpu_before
    except Exception:
        with open(log_path, errors="replace") as log:
            sys.stderr.write("server log (last 3,000 characters):\n" + log.read()[-3000:] + "\n")
        raise
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        drop_postgres_database(DATABASE)
    rows = []
    served = f"{workers} process{'es' if workers > 1 else ''} × {threads} threads, {CLIENTS} clients, postgres"
    ping_rate = len(ping["latencies"]) / ping["seconds"]
    create_rate = len(create["latencies"]) / create["seconds"]
    rows.append(figure(f"API GET /ping: req/s ({served})", ping_rate, "req/s", target="baseline"))
    rows.append(figure(f"API POST /cases with triage: req/s ({served})", create_rate, "req/s", floor=ping_rate,
                       target="≥ 200 req/s (floor: /ping, same server)"))
    rows.append(figure("API POST /cases: server CPU per request", create_cpu * 1000 / max(1, len(create["latencies"])),
                       "ms", target="≤ 10 ms for 200 req/s on 2 cores", higher_is_better=False))
    for name, result in (("/ping", ping), ("POST /cases", create)):
        for share in (0.5, 0.95, 0.99):
            rows.append(figure(f"API {name}: p{round(share * 100)} latency", percentile(result["latencies"], share)
                               * 1000, "ms", target="p99 ≤ 100 ms" if share == 0.99 and name != "/ping" else "",
                               higher_is_better=False))
    return rows


def _workers(argv: list[str]) -> int:
    return int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 1


if __name__ == "__main__":
    print_table(run(workers=_workers(sys.argv)))
    print(f"(PostgreSQL admin URL: {POSTGRES_ADMIN_URL.rsplit('@', 1)[-1]})")
