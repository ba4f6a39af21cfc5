"""Shared set-up for the benchmarks: a throwaway database, never the developer's own; the table and its targets.

`setup_django(vendor)` points Django at a fresh SQLite file in a temporary folder, or at a database
`yidi_bench` created on the local PostgreSQL (dropped and created again each run), migrates it and returns.

How `bench/__main__.py` runs a module `bench/bench_<name>.py` (found by its file name; it reads the module's
source, it does not import it):
- the module exposes `run(...) -> list[dict]`, each dict a row made by `figure()` (keys figure, value, unit,
  floor, ratio, target; optionally `met`, a bool that overrides the reading of `target`);
- `run(vendor=...)`: a module whose `vendor` defaults to "sqlite" runs twice, on SQLite and on PostgreSQL; one
  whose `vendor` defaults to anything else runs once with that default; a module-level `VENDORS = (...)` says
  it explicitly;
- `run(database_url=...)`: the module measures a database of 1,000,000 matters made beforehand by
  `bench/generate.py` (`large_database_url()`); when that database is absent the runner prints how to make it and
  skips the module. A module-level `LARGE_DATABASE = True` says so explicitly;
- every module runs in its own process, with `YIDI_BENCH_QUICK=1` under `--quick` (`QUICK` here: CI-size runs)
  and `YIDI_BENCH_RUN_DIR` naming a folder shared by the modules of one run.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_ADMIN_URL = os.environ.get("YIDI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
LARGE_DATABASE = "yidi_bench_1m"
LARGE_MATTERS = 1_000_000
QUICK = os.environ.get("YIDI_BENCH_QUICK", "") == "1"
_ready: str | None = None


def setup_django(vendor: str = "sqlite", *, database: str = "yidi_bench") -> None:
    """Configure Django on a throwaway database of `vendor` ("sqlite" or "postgres"; on PostgreSQL named
    `database`, dropped and created again) and migrate it. The generated million-matter database is refused."""
    global _ready
    if database in {LARGE_DATABASE, large_database_url().rsplit("/", 1)[-1], os.environ.get("YIDI_BENCH_PAGES_DATABASE")}:
        raise ValueError(f"{database} holds the generated data set: setup_django would drop it (use a throwaway name)")
    if _ready == vendor:
        return
    if _ready is not None:
        raise RuntimeError(
            "one database vendor per process: run the PostgreSQL benchmarks in their own process"
        )
    os.environ["YIDI_ALLOW_INSECURE_KEY"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
    if vendor == "postgres":
        import psycopg

        with psycopg.connect(
            POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {database}")
        os.environ["DATABASE_URL"] = postgres_url(database)
    else:
        folder = tempfile.mkdtemp(prefix="yidi-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["YIDI_DATA_DIR"] = folder
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _ready = vendor


def postgres_url(database: str) -> str:
    """The URL of `database` on the benchmarks' PostgreSQL server."""
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def median_seconds(work: Callable[[], object], *, repeat: int = 5) -> float:
    """The median wall time of `repeat` runs of `work` (the machines here are shared and noisy)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    floor: float | None = None,
    target: str = "",
    higher_is_better: bool = True,
    met: bool | None = None,
) -> dict:
    """One row of the benchmark table; `ratio` compares the value with its floor measured in the same run.
    `met` overrides the reading of `target` (for targets that are not a number, such as "no errors")."""
    ratio = None
    if floor:
        ratio = value / floor if higher_is_better else floor / value if value else None
    row = {"figure": name, "value": value, "unit": unit, "floor": floor, "ratio": ratio, "target": target}
    if met is not None:
        row["met"] = met
    return row


# --- targets ------------------------------------------------------------------------------------------------

_TARGET = re.compile(r"(≥|>=|≤|<=)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Za-z%][A-Za-z%/]*)?")
_SCALE = {("s", "ms"): 1000.0, ("ms", "s"): 0.001, ("GB", "MB"): 1024.0, ("MB", "GB"): 1 / 1024}


def target_met(row: dict) -> bool | None:
    """Whether the row's value meets its target: True, False, or None when the target says no number.

    Read from the target text: the first "≥ N unit" / "<= N unit" in it ("p99 ≤ 100 ms", "≥ 2,000",
    ">= 1,000 texts/s (floor: …)"); a bare number is a rate to reach when the unit is a rate ("…/s"), a
    ceiling otherwise. A target in seconds is compared with a value in milliseconds (and MB with GB)."""
    if isinstance(row.get("met"), bool):
        return row["met"]
    target, value = row.get("target"), row.get("value")
    if not isinstance(value, int | float) or target in (None, ""):
        return None
    if isinstance(target, int | float) and not isinstance(target, bool):
        return value >= target if "/" in str(row.get("unit", "")) else value <= target
    match = _TARGET.search(str(target))
    if match is None:
        return None
    sign, number, unit = match.groups()
    limit = float(number.replace(",", ""))
    row_unit = str(row.get("unit", ""))
    if unit and row_unit and unit != row_unit and not row_unit.startswith(unit):
        if (unit, row_unit) not in _SCALE:
            return None
        limit *= _SCALE[(unit, row_unit)]
    return value >= limit if sign in ("≥", ">=") else value <= limit


# --- the table ----------------------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    space = " " * (width - _width(text))
    return space + text if right else text + space


def format_number(value) -> str:
    """A figure as people read it: thousands separated, three significant digits for small values."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—" if value is None else str(value)
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_table(rows: list[dict], *, previous: dict[str, float] | None = None, file=None) -> None:
    """The table: figure, value, unit, floor, ratio (value against floor, higher is better), target, met.
    A row with `error` (a module that failed) or `skipped` prints that instead of figures. With `previous`
    ({figure: value} of an earlier run) a column shows the earlier value."""
    file = file or sys.stdout
    name_width = min(72, max([_width(str(row.get("figure", ""))) for row in rows] + [20]))
    header = (f"{_pad('figure', name_width)} {_pad('value', 12, right=True)} {_pad('unit', 12)} "
              f"{_pad('floor', 12, right=True)} {_pad('ratio', 7, right=True)}  {_pad('target', 28)} met")
    if previous is not None:
        header += f" {_pad('previous', 12, right=True)}"
    print(header, file=file)
    print("-" * _width(header), file=file)
    for row in rows:
        name = str(row.get("figure", ""))
        if row.get("error") or row.get("skipped"):
            text = f"失败：{row['error']}" if row.get("error") else f"跳过：{row['skipped']}"
            print(f"{_pad(name, name_width)} {text}", file=file)
            continue
        met = target_met(row)
        line = (
            f"{_pad(name, name_width)} {_pad(format_number(row.get('value')), 12, right=True)} "
            f"{_pad(str(row.get('unit') or ''), 12)} "
            f"{_pad(format_number(row['floor']) if row.get('floor') else '—', 12, right=True)} "
            f"{_pad(f'{row['ratio']:.2f}' if row.get('ratio') else '—', 7, right=True)}  "
            f"{_pad(str(row.get('target') if row.get('target') is not None else ''), 28)} "
            f"{'—' if met is None else '达标' if met else '未达标'}"
        )
        if previous is not None:
            line += f" {_pad(format_number(previous.get(name)), 12, right=True)}"
        print(line.rstrip(), file=file)


# --- databases and servers ----------------------------------------------------------------------------------


def drop_postgres_database(database: str) -> None:
    """Drop a throwaway PostgreSQL database made by `setup_django` (close Django's connections first)."""
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def large_database_url() -> str:
    """The PostgreSQL database of 1,000,000 matters the size benchmarks read (`YIDI_BENCH_LARGE_DATABASE_URL`)."""
    return os.environ.get("YIDI_BENCH_LARGE_DATABASE_URL") or postgres_url(LARGE_DATABASE)


def large_database_matters(url: str | None = None) -> int | None:
    """How many matters the large database holds; None when it does not exist (or holds no yidi tables)."""
    import psycopg

    try:
        with psycopg.connect((url or large_database_url()).replace("postgres://", "postgresql://"),
                             connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]
    except psycopg.Error:
        return None


def how_to_make_large_database(url: str | None = None) -> str:
    url = url or large_database_url()
    database = url.rsplit("/", 1)[-1]
    return (f"createdb -h 127.0.0.1 -U postgres {database} && .venv/bin/python bench/generate.py "
            f"--matters {LARGE_MATTERS} --county 330681 --database-url {url}")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """A process's resident memory in MB from /proc/<pid>/status (`VmHWM`: its peak so far); None when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def wait_until_up(port: int, process: subprocess.Popen, *, path: str = "/api/v1/ping", seconds: float = 120) -> None:
    """Wait until the server answers `path` with 200; fail when it stops or does not answer in time."""
    import http.client

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {process.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {seconds:.0f} s")


def stop_process(process: subprocess.Popen, *, seconds: float = 20) -> None:
    """SIGTERM, then SIGKILL after `seconds` (the process and nothing else)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def percentile(values: list[float], share: float) -> float:
    """The `share` (0–1) percentile of `values` by the nearest-rank rule."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]
