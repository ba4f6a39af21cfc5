"""Three-level linkage between real instances: a city platform and two counties, each its own server process
(`manage.py runserver`) on its own free port with its own database (SQLite files, or PostgreSQL databases
h3_county, h3_county_b and h3_city created and dropped here), set up only through management commands.

- a matter registered in county A over the API is reported up when A's outbox is delivered: the city mirror has it;
- the city assigns a matter down (上级交办): A registers it through its intake and reports its code back up;
- A asks for a cross-region transfer (跨区域移交) to county B: A's matter ends 不予受理 with the route told, the
  city forwards it to B, B registers it, and A learns B's code.

The outbox is delivered explicitly (`deliver_outbox`), so every hop is one step of this test. Bounded: every
command has a time-out and the servers are stopped in `finally`.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMMAND_TIMEOUT = 180
PASSWORD = "Yidi-demo-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instance:
    def __init__(self, name: str, region: str, database_url: str, data_dir: Path):
        self.name, self.region, self.port = name, region, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("YIDI_", "DJANGO_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "yidi.settings", "DATABASE_URL": database_url, "YIDI_DATA_DIR": str(data_dir),
            "YIDI_ALLOW_INSECURE_KEY": "1", "YIDI_SECURE_COOKIES": "0", "YIDI_COUNTY_CODE": region,
            "YIDI_TASK_BACKEND": "django.tasks.backends.dummy.DummyBackend",  # deliveries only when we say so
        }
        self.server = None

    def manage(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=self.env,
                              input=stdin, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
        assert done.returncode == 0, f"{self.name} {args[0]} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def python(self, code: str) -> object:
        """Run `code` in the instance's Django; it must print one JSON line last."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", "--skip-checks",
             f"127.0.0.1:{self.port}"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert self.server.poll() is None, f"{self.name} server exited with {self.server.returncode}"
                time.sleep(0.2)
        raise AssertionError(f"{self.name} server did not start")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(timeout=10)

    def deliver(self) -> str:
        """Deliver the whole outbox (the linkage messages, and the SMS to the person that go to the log)."""
        result = self.manage("deliver_outbox")
        assert "待重试 0 条，最终失败 0 条" in result, f"{self.name}: {result}"
        return result

    def post(self, path: str, token: str, body: dict) -> dict:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


SETUP = """
import io, json
from django.core.management import call_command
from yidi.accounts.actions import do_create_unit, do_create_user
counties = {counties!r}
for county in counties:
    call_command("load_regions", "--county", county, stdout=io.StringIO())
do_create_unit(code="centre", name={unit_name!r}, kind="centre", region_code={region!r})
for username, role in {users!r}:
    do_create_user(username=username, password={password!r}, roles=[role], unit_code="centre")
tokens = {{}}
for name, scopes in {clients!r}:
    out = io.StringIO()
    call_command("create_api_client", "--name", name, "--unit", "centre", "--scopes", *scopes, stdout=out)
    tokens[name] = out.getvalue().strip().splitlines()[-1]
print(json.dumps(tokens))
"""


def set_up(instance: Instance, *, counties, unit_name, users=(), clients=()) -> dict:
    return instance.python(SETUP.format(counties=list(counties), unit_name=unit_name, region=instance.region,
                                        users=list(users), password=PASSWORD, clients=list(clients)))


def add_peer(instance: Instance, *, direction: str, other: Instance, name: str, token: str, client: str) -> None:
    instance.manage("linkage_peer", "--direction", direction, "--region", other.region, "--name", name,
                    "--url", other.url, "--client", client, "--token-stdin", stdin=token + "\n")


@pytest.fixture
def databases(tmp_path):
    """(template URL, {name: URL}): SQLite files copied from one migrated file, or PostgreSQL databases cloned
    from one migrated database."""
    engine = settings.DATABASES["default"]["ENGINE"]
    names = ["h3_county", "h3_county_b", "h3_city"]
    if engine == "django.db.backends.sqlite3":
        template = tmp_path / "template.sqlite3"
        urls = {name: f"sqlite:///{tmp_path / (name + '.sqlite3')}" for name in names}
        yield f"sqlite:///{template}", urls, lambda: [shutil.copy(template, tmp_path / (n + ".sqlite3")) for n in names]
        return
    import psycopg

    db = settings.DATABASES["default"]
    base = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    admin = psycopg.connect(f"{base}/postgres", autocommit=True)

    def drop_all():
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def clone():
        for name in names[1:]:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{names[0]}"')

    drop_all()
    admin.execute(f'CREATE DATABASE "{names[0]}"')
    try:
        yield f"{base}/{names[0]}", {name: f"{base}/{name}" for name in names}, clone
    finally:
        drop_all()
        admin.close()


def test_a_county_and_its_city_exchange_matters_assignments_and_a_transfer(tmp_path, databases):
    template_url, urls, clone = databases
    migrator = Instance("template", "330681", template_url, tmp_path / "template")
    migrator.manage("migrate", "--noinput", "--skip-checks")
    clone()
    city = Instance("city", "3306", urls["h3_city"], tmp_path / "city")
    county = Instance("county", "330681", urls["h3_county"], tmp_path / "county")
    other = Instance("county_b", "330602", urls["h3_county_b"], tmp_path / "county_b")
    instances = [city, county, other]
    try:
        city_tokens = set_up(city, counties=["330681", "330602"], unit_name="绍兴市社会矛盾纠纷调处化解中心",
                             clients=[("county-330681", ["linkage:exchange"]), ("county-330602", ["linkage:exchange"])])
        county_tokens = set_up(county, counties=["330681"], unit_name="诸暨市社会矛盾纠纷调处化解中心",
                               users=[("clerk", "registrar")],
                               clients=[("city-3306", ["linkage:exchange"]), ("intake", ["cases:write"])])
        other_tokens = set_up(other, counties=["330602"], unit_name="越城区社会矛盾纠纷调处化解中心",
                              clients=[("city-3306", ["linkage:exchange"])])
        add_peer(city, direction="below", other=county, name="诸暨市", token=county_tokens["city-3306"],
                 client="county-330681")
        add_peer(city, direction="below", other=other, name="越城区", token=other_tokens["city-3306"],
                 client="county-330602")
        add_peer(county, direction="above", other=city, name="绍兴市", token=city_tokens["county-330681"],
                 client="city-3306")
        add_peer(other, direction="above", other=city, name="绍兴市", token=city_tokens["county-330602"],
                 client="city-3306")
        for instance in instances:
            instance.start()
        deadline = time.monotonic() + 60
        for instance in instances:
            instance.wait_ready(deadline)

        # 1. a matter registered in the county reaches the city's mirror
        created = county.post("/api/v1/cases", county_tokens["intake"], {
            "channel": "walk_in", "request_type": "mediation", "title": "邻里排水沟堵塞纠纷",
            "description": "两户因排水沟堵塞发生争执，请求调解。", "region": "330681109290",
            "parties": [{"role": "applicant", "name": "陈建国", "phone": "13805751234"}],
        })
        county.deliver()
        mirror = city.python(
            "import json; from yidi.linkage.models import ReportedCase as R; "
            "print(json.dumps(list(R.objects.values_list('peer__region_code', 'code', 'status', 'version'))))")
        assert mirror == [["330681", created["code"], "registered", 1]]

        # 2. the city assigns a matter down; the county registers it and reports its code back
        city.manage("linkage_assign", "--to", "330681", "--title", "市级交办：工资拖欠纠纷",
                    "--description", "市长热线转来，请属地调处。", "--region", "330681109",
                    "--applicant", "王志强", "--applicant-phone", "13905759876", "--note", "十日内反馈")
        city.deliver()
        received = county.python(
            "import json; from yidi.linkage.models import ReceivedAssignment as A; a = A.objects.get(); "
            "print(json.dumps([a.case.code, a.case.channel.code, a.case.status, a.note]))")
        assert received[1:] == ["higher_assignment", "registered", "十日内反馈"]
        county.deliver()
        assignment = city.python(
            "import json; from yidi.linkage.models import DownwardAssignment as D; d = D.objects.get(); "
            "print(json.dumps([d.status, d.case_code, d.peer.region_code]))")
        assert assignment == ["received", received[0], "330681"]

        # 3. a cross-region transfer: county A → the city → county B, and B's code back to A
        second = county.post("/api/v1/cases", county_tokens["intake"], {
            "channel": "walk_in", "request_type": "mediation", "title": "外地务工工资纠纷",
            "description": "用工单位在越城区，申请人来诸暨反映。", "region": "330681001",
            "parties": [{"role": "applicant", "name": "李小明", "phone": "13705751111"}],
        })
        county.manage("linkage_transfer", "--case", second["code"], "--to", "330602", "--to-name", "越城区",
                      "--reason", "用工单位及劳动合同履行地均在越城区", "--user", "clerk")
        county.deliver()  # the register report, the declined report, the request
        city.deliver()  # the assignment to B
        other.deliver()  # B's report of its new matter
        city.deliver()  # the result back to A
        in_b = other.python(
            "import json; from yidi.linkage.models import ReceivedAssignment as A; a = A.objects.get(); "
            "print(json.dumps([a.case.code, a.kind, a.source_code, a.case.region_id]))")
        assert in_b[0].startswith("330602-") and in_b[1:] == ["transfer", second["code"], "330602"]
        in_a = county.python(
            "import json; from yidi.linkage.models import TransferRequest as T; t = T.objects.get(); "
            "print(json.dumps([t.status, t.destination_code, t.case.status]))")
        assert in_a == ["forwarded", in_b[0], "not_accepted"]
        mirrored = city.python(
            "import json; from yidi.linkage.models import ReportedCase as R; "
            "print(json.dumps(sorted(R.objects.values_list('peer__region_code', 'status'))))")
        assert mirrored == [["330602", "registered"], ["330681", "not_accepted"], ["330681", "registered"],
                            ["330681", "registered"]]
    finally:
        for instance in instances:
            instance.stop()
