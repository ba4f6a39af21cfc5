"""Shared set-up for the benchmarks: a throwaway database, never the developer's own.

`setup_django(vendor)` points Django at a fresh SQLite file in a temporary folder, or at a database
`yidi_bench` created on the local PostgreSQL (dropped and created again each run), migrates it and returns.
Each benchmark module exposes `run() -> list[dict]` with keys figure, value, unit, floor, ratio, target.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_ADMIN_URL = os.environ.get("YIDI_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
_ready: str | None = None


def setup_django(vendor: str = "sqlite", *, database: str = "yidi_bench") -> None:
    """Configure Django on a throwaway database of `vendor` ("sqlite" or "postgres"; on PostgreSQL named
    `database`) and migrate it."""
    global _ready
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
        os.environ["DATABASE_URL"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    else:
        folder = tempfile.mkdtemp(prefix="yidi-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["YIDI_DATA_DIR"] = folder
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _ready = vendor


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
) -> dict:
    """One row of the benchmark table; `ratio` compares the value with its floor measured in the same run."""
    ratio = None
    if floor:
        ratio = value / floor if higher_is_better else floor / value if value else None
    return {"figure": name, "value": value, "unit": unit, "floor": floor, "ratio": ratio, "target": target}


def print_table(rows: list[dict]) -> None:
    print(f"{'figure':<58} {'value':>14} {'unit':<14} {'floor':>12} {'ratio':>7}  target")
    for row in rows:
        floor = f"{row['floor']:,.1f}" if row.get("floor") else "—"
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") else "—"
        print(
            f"{row['figure']:<58} {row['value']:>14,.1f} {row['unit']:<14} {floor:>12} {ratio:>7}  {row['target']}"
        )


def drop_postgres_database(database: str) -> None:
    """Drop a throwaway PostgreSQL database made by `setup_django` (close Django's connections first)."""
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def percentile(values: list[float], share: float) -> float:
    """The `share` (0–1) percentile of `values` by the nearest-rank rule."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]
