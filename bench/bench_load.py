"""Load (issue #10 item 4): 50 concurrent users of a real server on PostgreSQL, a realistic mix of work.

Run: `python bench/bench_load.py` (prints the table, with the server's memory); `--quick` for a short run.

The system under test is what a county runs: `yidi serve` (waitress, its default 8 threads) and `yidi worker`
(background tasks), on a throwaway PostgreSQL database `yidi_bench_load` (created and dropped here) holding the
demonstration county's organisation, real matters driven through the actions (`bench/generate.py`'s templates)
and a few thousand copies of them. The clients run in another process (this file with `--drive`): one thread
per user, each with its own keep-alive connection, cookies and CSRF token, over loopback:
- 12 registrars (窗口): open the form, the live triage panel, register a matter through the form, accept it,
  look at their own matters and search;
- 8 dispatchers (指挥调度): the workbench, the 待交办 queue, a matter's page, assign it to 枫桥镇综治工作平台;
- 20 handlers of that platform: the workbench, the 待签收 queue, a matter's page, sign it; their matters in hand;
- 10 API clients (12345 and the like), each with its own bearer token: create matters, list and read them.
A matter a registrar accepted goes to the dispatchers, a matter assigned goes to the handlers, so every action is
one a real user could take and no two users act on the same matter (a refused action would be an error).

Phases, after every user has logged in (session + CSRF; the log-in rate limit per address is off, since all 50
come from 127.0.0.1): warm-up (not counted), then **paced** (each user thinks 0.5–2.5 s between requests: 50
people at work), then **saturated** (no think time: what the server can take), then the floor: 50 clients on the
trivial endpoint `GET /api/v1/ping` of the same server. Every answer that is not the expected one (a status of
400 or more, a form sent back with errors, a refused action, a time-out) is an error, printed; there must be none.

The server's memory (VmRSS from /proc) is sampled during the run; `bench_rss` reports it (it reads this run's
readings from `YIDI_BENCH_RUN_DIR` when `make bench` ran this module first).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
if "--quick" in sys.argv:
    os.environ["YIDI_BENCH_QUICK"] = "1"

from harness import (
    QUICK,
    ROOT,
    drop_postgres_database,
    figure,
    free_port,
    percentile,
    print_table,
    rss_mb,
    setup_django,
    stop_process,
    wait_until_up,
)

DATABASE = "yidi_bench_load"
COUNTY = "330681"
TOWNSHIP = "330681109"  # 枫桥镇: matters registered here are assigned to its platform
PLATFORM = f"{TOWNSHIP}-comprehensive_governance"
PASSWORD = "Yidi-bench-2026-load"
ROLES = {"registrar": 12, "dispatcher": 8, "handler": 20, "api": 10}
THREADS = 8  # `yidi serve`'s default
PHASES = {"warm-up": 5, "paced": 15, "saturated": 10} if QUICK else {"warm-up": 10, "paced": 40, "saturated": 20}
FLOOR_SECONDS = 5 if QUICK else 10
THINK = (0.5, 2.5)
TEMPLATES, COPIES = (60, 1000) if QUICK else (100, 3000)
LIST_KINDS = ("workbench", "list", "search")
DETAIL_KINDS = ("detail",)
TEXTS = (
    "{place}两户村民因宅基地边界发生争执，一方砌墙占用通道约{n}米，多次协商未果，双方情绪激动",
    "{place}某袜业公司拖欠{n}名工人三个月工资共计{amount}元，老板拒不支付，工人要求尽快解决",
    "{place}小区物业收费不合理，电梯长期故障无人维修，{n}户业主联名反映要求物业公司整改",
    "{place}村民在网店购买的电器有质量问题，价值{amount}元，商家拒绝退货，请求调解",
    "{place}承包的山林与邻村边界不清发生争议，涉及林地约{n}亩，双方多次争吵，存在冲突风险",
    "{place}夫妻因赡养老人问题发生矛盾，老人要求子女每月支付赡养费{amount}元，子女不同意",
    "{place}道路交通事故，电瓶车与小轿车相撞致一人受伤，医疗费约{amount}元，双方对赔偿有争议",
    "{place}养殖场排放污水污染下游农田约{n}亩，村民要求赔偿损失并停止排放",
)


# --- the database -------------------------------------------------------------------------------------------


def prepare(data_dir: str) -> dict:
    """Create the throwaway database and everything the users need; return what the driver needs."""
    os.environ["YIDI_DATA_DIR"] = data_dir
    setup_django("postgres", database=DATABASE)
    import generate
    from django.db import connections
    from django.utils import timezone

    from yidi.accounts.actions import do_create_api_client
    from yidi.accounts.domain import Role
    from yidi.accounts.models import Unit
    from yidi.cases import demo
    from yidi.cases.builders import make_user
    from yidi.regions.models import Region

    today = timezone.localdate()
    generate.build_templates(COUNTY, TEMPLATES, 1, today)
    pool = max(1_000, int(COPIES * 0.6))
    generate.build_pool(pool, 1)
    plan = generate.Plan(matters=COPIES, years=3, seed=1, until=today, pool=pool)
    generate.finish(plan, generate.copy_matters(plan, pool), time.monotonic())
    homes = {"registrar": ("centre", Role.REGISTRAR), "dispatcher": ("command", Role.DISPATCHER),
             "handler": (PLATFORM, Role.HANDLER)}
    users = []
    for kind, (unit_code, role) in homes.items():
        unit = Unit.objects.get(code=unit_code)
        for n in range(1, ROLES[kind] + 1):
            user = make_user(f"load-{kind}-{n:02d}", role, unit=unit, name=f"压测{n:02d}", password=PASSWORD)
            users.append({"kind": kind, "username": user.username})
    for n in range(1, ROLES["api"] + 1):
        _, token = do_create_api_client(name=f"load-api-{n:02d}", unit_code="centre",
                                        scopes=["cases:read", "cases:write"])
        users.append({"kind": "api", "token": token})
    rng = random.Random(20261128)
    villages = list(Region.objects.filter(parent_id=TOWNSHIP, level="village").values_list("code", "short_name"))
    people = [{"name": demo.person_name(rng), "id_number": demo.id_number(rng), "phone": demo.mobile(rng)}
              for _ in range(2000)]
    connections.close_all()
    return {"users": users, "villages": villages, "people": people, "password": PASSWORD,
            "township": TOWNSHIP, "platform": PLATFORM}


# --- the server ---------------------------------------------------------------------------------------------


def _server_env(data_dir: str) -> dict:
    return {
        **os.environ, "YIDI_DATA_DIR": data_dir, "YIDI_ALLOW_INSECURE_KEY": "1", "YIDI_SECURE_COOKIES": "0",
        "YIDI_LOGIN_RATE_PER_MINUTE": "0", "DJANGO_SETTINGS_MODULE": "yidi.settings",
    }


def session(*, phases: dict | None = None, floor_seconds: float = FLOOR_SECONDS) -> dict:
    """Prepare the database, start the server and the worker, drive the users, stop everything, drop the
    database; return the driver's result with the server's memory readings."""
    phases = phases or PHASES
    data_dir = tempfile.mkdtemp(prefix="yidi-bench-load-")
    began = time.monotonic()
    setup = prepare(data_dir)
    _say(f"database {DATABASE} ready in {time.monotonic() - began:.0f} s")
    env = _server_env(data_dir)
    port = free_port()
    server = worker = None
    # the server's output goes to a file, not a pipe nobody reads: a full pipe would stall the server
    with Path(data_dir, "server.log").open("w") as log:
        try:
            server = subprocess.Popen(
                [sys.executable, "-m", "yidi.cli", "serve", "--port", str(port), "--threads", str(THREADS)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            worker = subprocess.Popen([sys.executable, "-m", "yidi.cli", "worker"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result = _drive_server(port, server, worker, setup, phases, floor_seconds, data_dir)
        finally:
            for process in (worker, server):
                if process is not None:
                    stop_process(process)
            drop_postgres_database(DATABASE)
    result["users"] = dict(ROLES)
    result["threads"] = THREADS
    shutil.rmtree(Path(data_dir, "static"), ignore_errors=True)  # collectstatic's copy; keep the log and timings
    Path(data_dir, "result.json").write_text(json.dumps(result))
    _say(f"{result['requests']:,} requests, {result['error_count']} errors; raw timings in {data_dir}/result.json")
    return result


def _drive_server(port: int, server, worker, setup: dict, phases: dict, floor_seconds: float, data_dir: str) -> dict:
    began = time.monotonic()
    wait_until_up(port, server)
    started_rss = rss_mb(server.pid)
    _say(f"server up in {time.monotonic() - began:.0f} s; {sum(ROLES.values())} users for "
         f"{sum(phases.values())} s …")
    config = {**setup, "port": port, "phases": phases, "floor_seconds": floor_seconds, "think": THINK,
              "server_pid": server.pid, "worker_pid": worker.pid}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--drive"], input=json.dumps(config),
                          capture_output=True, text=True, timeout=sum(phases.values()) + floor_seconds + 600)
    if done.returncode != 0:
        raise RuntimeError(f"the load driver failed:\n{done.stderr[-3000:]}\nserver:\n{_tail(data_dir)}")
    result = json.loads(done.stdout)
    if server.poll() is not None:
        raise RuntimeError(f"the server stopped during the load:\n{_tail(data_dir)}")
    result["rss"]["started"] = started_rss
    result["rss"]["worker_after_load"] = rss_mb(worker.pid)
    result["queue_warnings"] = Path(data_dir, "server.log").read_text(errors="replace").count("Task queue depth")
    return result


def _tail(data_dir: str) -> str:
    """The end of the server's log, without waitress's queue-depth warnings."""
    lines = Path(data_dir, "server.log").read_text(errors="replace").splitlines()
    return "\n".join([line for line in lines if "Task queue depth" not in line][-40:])


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] bench_load: {message}", file=sys.stderr, flush=True)


def rss_readings(result: dict) -> dict:
    return {**result["rss"], "threads": result["threads"], "seconds": result["phase_seconds"]}


def run() -> list[dict]:
    result = session()
    if os.environ.get("YIDI_BENCH_RUN_DIR"):
        Path(os.environ["YIDI_BENCH_RUN_DIR"], "load-rss.json").write_text(json.dumps(rss_readings(result)))
    for error in result["errors"]:
        print(f"error: {error}", file=sys.stderr)
    return figures(result)


def figures(result: dict) -> list[dict]:
    users = result["users"]
    who = (f"{sum(users.values())} users: {users['registrar']} registrars, {users['dispatcher']} dispatchers, "
           f"{users['handler']} handlers, {users['api']} API clients")
    seconds = result["phase_seconds"]
    paced, saturated = result["phases"].get("paced", {}), result["phases"].get("saturated", {})
    floor = result["floor"]
    floor_rate = len(floor["latencies"]) / floor["seconds"]
    rows = [
        figure(f"load, paced ({who}; think {THINK[0]}–{THINK[1]} s, {seconds['paced']} s): requests/s",
               _count(paced) / seconds["paced"], "req/s", target="(offered load)"),
        figure(f"load, saturated (the same users, no think time, {seconds['saturated']} s): requests/s",
               _count(saturated) / seconds["saturated"], "req/s", floor=floor_rate,
               target="(floor: GET /api/v1/ping, same server)"),
        figure(f"load floor: GET /api/v1/ping, 50 clients, {result['floor']['seconds']:.0f} s", floor_rate, "req/s",
               target="(floor)"),
    ]
    for phase_name, phase in (("paced", paced), ("saturated", saturated)):
        everything = [latency for values in phase.values() for latency in values]
        if not everything:
            continue
        for share in (0.5, 0.95, 0.99):
            rows.append(figure(f"load, {phase_name}: all requests, p{round(share * 100)}",
                               percentile(everything, share) * 1000, "ms", higher_is_better=False))
    for kind in sorted(paced, key=lambda k: -len(paced[k])):
        values = paced[kind]
        p50, p95, p99 = (percentile(values, share) * 1000 for share in (0.5, 0.95, 0.99))
        target = "≤ 150 ms" if kind in LIST_KINDS else "≤ 100 ms" if kind in DETAIL_KINDS else ""
        rows.append(figure(f"load, paced: {kind} p95 (n {len(values)}, p50 {p50:.0f}, p99 {p99:.0f} ms)", p95,
                           "ms", target=target, higher_is_better=False))
    done = result["done"]
    rows.append(figure("load: work done (" + ", ".join(f"{k} {v}" for k, v in sorted(done.items())) + ")",
                       sum(done.values()), "actions"))
    logins = result["phases"].get("login", {}).get("login", [])
    if logins:
        rows.append(figure(f"load: log-in (password, session) p95 (n {len(logins)}, p50 "
                           f"{percentile(logins, 0.5) * 1000:.0f} ms)", percentile(logins, 0.95) * 1000, "ms",
                           higher_is_better=False))
    rows.append(figure(f"load: errors of {result['requests']:,} requests", result["error_count"], "errors",
                       target="0", met=result["error_count"] == 0, higher_is_better=False))
    return rows


def _count(phase: dict) -> int:
    return sum(len(values) for values in phase.values())


# --- the driver (its own process; no Django) ----------------------------------------------------------------

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"|name="csrfmiddlewaretoken" value="([^"]+)"')
_CASE_LINK = re.compile(r'href="/cases/(\d{6,12}-\d{4}-\d{6})/"')
_ERROR_TEXT = re.compile(r'class="[^"]*(?:errorlist|alert-error|error)[^"]*"[^>]*>(.*?)</', re.S)


class Refused(Exception):
    """An answer that is not the one a working system gives."""


class Browser:
    """One user's connection, cookies and CSRF token; every request timed and recorded."""

    def __init__(self, driver: Driver):
        import http.client

        self.driver = driver
        self._http = http.client
        self.connection = http.client.HTTPConnection("127.0.0.1", driver.port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, kind: str, method: str, path: str, *, form: dict | None = None, body: dict | None = None,
                token: str = "", expect: tuple[int, ...] = (200,), headers: dict | None = None) -> tuple[str, str]:
        from urllib.parse import urlencode

        sent = {**(headers or {})}
        data = None
        if form is not None:
            data = urlencode({**form, "csrfmiddlewaretoken": self.csrf}, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=data, headers=sent)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, self._http.HTTPException) as error:
            self.connection.close()
            self.driver.record(kind, started, time.perf_counter() - started, f"{method} {path}: {error!r}")
            raise Refused(str(error)) from None
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in rest.lower() or not value.strip('"'):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        text = payload.decode("utf-8", "replace")
        if match := _CSRF.search(text):
            self.csrf = match.group(1) or match.group(2)
        problem = None
        if response.status not in expect:
            found = _ERROR_TEXT.findall(text)
            detail = " / ".join(re.sub(r"<[^>]+>|\s+", " ", f).strip() for f in found[:3]) or text[:300]
            problem = f"{method} {path}: {response.status} (expected {expect}): {detail}"
        self.driver.record(kind, started, elapsed, problem)
        if problem:
            raise Refused(problem)
        return response.getheader("Location") or "", text


class Driver:
    def __init__(self, config: dict):
        self.config = config
        self.port = config["port"]
        self.phases = config["phases"]
        self.lock = threading.Lock()
        self.samples: list = []  # (phase, kind, seconds)
        self.errors: list[str] = []
        self.error_count = 0
        self.requests = 0
        self.done: dict[str, int] = {}
        self.accepted: list[str] = []  # accepted by a registrar: for a dispatcher to assign
        self.assigned: list[str] = []  # assigned to the platform: for a handler to sign
        self.start = 0.0  # the end of the log-ins: the phases start here
        offsets, at = {}, 0.0
        for name, seconds in self.phases.items():
            offsets[name] = (at, at + seconds)
            at += seconds
        self.offsets, self.length = offsets, at

    def phase(self, moment: float) -> str:
        if not self.start:
            return "login"
        elapsed = moment - self.start
        for name, (low, high) in self.offsets.items():
            if low <= elapsed < high:
                return name
        return "after"

    def record(self, kind: str, started: float, seconds: float, problem: str | None) -> None:
        phase = self.phase(started) if kind != "login" else "login"
        with self.lock:
            self.requests += 1
            if problem:
                self.error_count += 1
                if len(self.errors) < 30:
                    self.errors.append(f"[{phase}] {kind}: {problem}")
            else:
                self.samples.append((phase, kind, seconds))

    def finished(self, what: str) -> None:
        with self.lock:
            self.done[what] = self.done.get(what, 0) + 1

    def take(self, pile: list[str]) -> str | None:
        with self.lock:
            return pile.pop(0) if pile else None

    def put(self, pile: list[str], code: str) -> None:
        with self.lock:
            pile.append(code)

    def running(self) -> bool:
        return time.perf_counter() < self.start + self.length

    def think(self, rng: random.Random) -> None:
        if self.phase(time.perf_counter()) in ("warm-up", "paced"):
            time.sleep(rng.uniform(*self.config["think"]))


class User:
    def __init__(self, driver: Driver, account: dict, number: int):
        self.driver, self.account, self.number = driver, account, number
        self.rng = random.Random(number)
        self.browser = Browser(driver)

    def log_in(self) -> None:
        self.browser.request("login form", "GET", "/accounts/login/")
        self.browser.request("login", "POST", "/accounts/login/", expect=(302,), form={
            "username": self.account["username"], "password": self.driver.config["password"]})
        self.browser.request("workbench", "GET", "/")

    def loop(self) -> None:
        step = getattr(self, f"as_{self.account['kind']}")
        while self.driver.running():
            try:
                step()
            except Refused:
                time.sleep(0.5)  # recorded already; carry on as a user would
        self.browser.connection.close()

    def _detail(self, code: str) -> str:
        return self.browser.request("detail", "GET", f"/cases/{code}/")[1]

    def _act(self, code: str, action: str, form: dict | None = None) -> None:
        fields = {f"{action}-{name}": value for name, value in (form or {}).items()}  # the page's form prefix
        location, _ = self.browser.request(action, "POST", f"/cases/{code}/actions/{action}/", form=fields,
                                           expect=(302,))
        self.driver.finished(action)
        self.browser.request("detail", "GET", location)

    def _browse(self, path: str, kind: str = "list") -> None:
        page = self.browser.request(kind, "GET", path)[1]
        codes = _CASE_LINK.findall(page)
        if codes:
            self.driver.think(self.rng)
            self._detail(self.rng.choice(codes))

    def as_registrar(self) -> None:
        driver, rng, config = self.driver, self.rng, self.driver.config
        self.browser.request("register form", "GET", "/cases/new/")
        driver.think(rng)
        village, name = rng.choice(config["villages"])
        person = rng.choice(config["people"])
        text = rng.choice(TEXTS).format(place=name, n=rng.randint(2, 60), amount=rng.randint(3, 90) * 1000)
        form = {
            "channel": "walk_in", "request_type": "mediation", "title": text[:26], "description": text,
            "region": village, "address": f"{name}{rng.randint(1, 12)}组{rng.randint(1, 60)}号", "in_person": "on",
            "parties-TOTAL_FORMS": "1", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
            "parties-MAX_NUM_FORMS": "20", "parties-0-role": "applicant", "parties-0-kind": "natural",
            "parties-0-name": person["name"], "parties-0-id_number": person["id_number"],
            "parties-0-phone": person["phone"], "parties-0-address": f"{name}{rng.randint(1, 12)}组",
        }
        self.browser.request("triage panel", "POST", "/cases/triage/", form=form, headers={"HX-Request": "true"})
        driver.think(rng)
        location, _ = self.browser.request("register", "POST", "/cases/new/", form=form, expect=(302,))
        driver.finished("register")
        code = location.rstrip("/").rsplit("/", 1)[-1]
        self._detail(code)
        driver.think(rng)
        self._act(code, "accept")
        driver.put(driver.accepted, code)
        driver.think(rng)
        if rng.random() < 0.5:
            self._browse("/cases/?queue=registered_by_me")
            driver.think(rng)
        if rng.random() < 0.3:
            self.browser.request("search", "GET", f"/cases/?text={rng.choice(('工资', '宅基地', '物业', '山林'))}")
            driver.think(rng)

    def as_dispatcher(self) -> None:
        driver, rng = self.driver, self.rng
        self.browser.request("workbench", "GET", "/")
        driver.think(rng)
        self.browser.request("list", "GET", "/cases/?queue=to_assign")
        driver.think(rng)
        code = driver.take(driver.accepted)
        if code is None:
            self._browse(f"/cases/?page={rng.randint(1, 20)}")
            driver.think(rng)
            return
        self._detail(code)
        driver.think(rng)
        self._act(code, "assign", {"lead_unit": driver.config["platform"], "handling_level": "",
                                   "note": "请枫桥镇综治工作平台签收办理",
                                   "override_reason": "属地管理：发生在枫桥镇，由镇综治工作平台主办"})
        driver.put(driver.assigned, code)
        driver.think(rng)

    def as_handler(self) -> None:
        driver, rng = self.driver, self.rng
        self.browser.request("workbench", "GET", "/")
        driver.think(rng)
        self.browser.request("list", "GET", "/cases/?queue=to_sign")
        driver.think(rng)
        code = driver.take(driver.assigned)
        if code is None:
            self._browse("/cases/?queue=in_hand")
            driver.think(rng)
            return
        self._detail(code)
        driver.think(rng)
        self._act(code, "sign")
        driver.think(rng)

    def as_api(self) -> None:
        driver, rng, config = self.driver, self.rng, self.driver.config
        token = self.account["token"]
        village, name = rng.choice(config["villages"])
        person = rng.choice(config["people"])
        text = rng.choice(TEXTS).format(place=name, n=rng.randint(2, 60), amount=rng.randint(3, 90) * 1000)
        body = {"channel": "hotline_12345", "request_type": "complaint", "title": text[:26], "description": text,
                "region": village, "external_ref": f"12345-{self.number:02d}-{rng.randrange(10**9):09d}",
                "parties": [{"role": "applicant", "name": person["name"], "phone": person["phone"]}]}
        _, answer = self.browser.request("API create", "POST", "/api/v1/cases", body=body, token=token,
                                         expect=(201,))
        driver.finished("API create")
        driver.think(rng)
        if rng.random() < 0.3:
            self.browser.request("API list", "GET", "/api/v1/cases?page_size=20", token=token)
            driver.think(rng)
        if rng.random() < 0.3:
            code = json.loads(answer)["code"]
            self.browser.request("API detail", "GET", f"/api/v1/cases/{code}", token=token)
            driver.think(rng)


def _sample_memory(driver: Driver, pid: int, readings: dict, stop: threading.Event) -> None:
    warm_end = driver.offsets["warm-up"][1]
    while not stop.wait(0.5):
        value = rss_mb(pid)
        if value is None:
            continue
        elapsed = time.perf_counter() - driver.start if driver.start else -1
        if elapsed < 0:
            readings["peak_during_logins"] = max(readings.get("peak_during_logins", 0), value)
        elif elapsed < warm_end:
            readings["after_warm_up"] = value
        if elapsed >= warm_end:
            readings["peak_during_load"] = max(readings.get("peak_during_load", 0), value)


def _ping_floor(port: int, seconds: float, clients: int) -> dict:
    import http.client

    latencies, errors, lock = [], [], threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, wrong = [], []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", "/api/v1/ping")
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                wrong.append(f"GET /api/v1/ping: {error!r}")
                continue
            if response.status == 200:
                mine.append(time.perf_counter() - started)
            else:
                wrong.append(f"GET /api/v1/ping: {response.status}")
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(wrong)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "seconds": time.perf_counter() - started, "errors": errors}


def drive(config: dict) -> dict:
    driver = Driver(config)
    users = [User(driver, account, number) for number, account in enumerate(config["users"])]
    readings: dict = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_memory, args=(driver, config["server_pid"], readings, stop),
                               daemon=True)
    sampler.start()
    # the phases start when the last user has logged in; set before any user is released (a user that read
    # `start` before it was set would find the run already over)
    logged_in = threading.Barrier(len(users) + 1, action=lambda: setattr(driver, "start", time.perf_counter()))

    def live(user: User) -> None:
        time.sleep(user.number * 0.05)  # people arrive over a few seconds, not in one instant
        try:
            if user.account["kind"] != "api":
                user.log_in()
        except Refused:
            pass  # recorded; the user still works (and its requests will fail, recorded too)
        logged_in.wait()
        user.loop()

    threads = [threading.Thread(target=live, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    logged_in.wait()
    for thread in threads:
        thread.join()
    readings["after_load"] = rss_mb(config["server_pid"])
    readings["peak_vmhwm"] = rss_mb(config["server_pid"], "VmHWM")
    stop.set()
    floor = _ping_floor(config["port"], config["floor_seconds"], len(users))
    driver.error_count += len(floor["errors"])
    driver.errors += [f"[floor] {error}" for error in floor["errors"][:10]]
    phases: dict[str, dict[str, list[float]]] = {}
    for phase, kind, seconds in driver.samples:
        phases.setdefault(phase, {}).setdefault(kind, []).append(seconds)
    return {"phases": phases, "phase_seconds": config["phases"], "floor": floor, "errors": driver.errors,
            "error_count": driver.error_count, "requests": driver.requests, "done": driver.done, "rss": readings}


def main() -> None:
    if "--drive" in sys.argv:
        print(json.dumps(drive(json.loads(sys.stdin.read()))))
        return
    result = session()
    for error in result["errors"]:
        print(f"error: {error}", file=sys.stderr)
    rows = figures(result)
    import bench_rss

    rows += bench_rss.figures(rss_readings(result))
    print_table(rows)


if __name__ == "__main__":
    main()
