"""The web worker's memory (issue #10 target: RSS ≤ 400 MB): `yidi serve` (one process, 8 threads) on
PostgreSQL, read from /proc/<pid>/status (VmRSS; VmHWM for the peak) when it has just started, after the load
test's warm-up, at its highest during the load, and after it; beside the floor measured in the same run: a bare
process with Django set up and every yidi app loaded (what no worker can go below).

Run: `python bench/bench_rss.py` (runs a short load of its own: `bench_load` with shorter phases). Under
`make bench`, `bench_load` runs first and leaves its readings in `YIDI_BENCH_RUN_DIR`: this module reports those
(the same server, the same load), so the load is not run twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, figure, print_table

TARGET = "≤ 400 MB"
SHORT_PHASES = {"warm-up": 5, "paced": 15, "saturated": 10}
_BARE = """
import os, django
django.setup()
from django.apps import apps
from django.urls import get_resolver
get_resolver().url_patterns  # every URLconf, view module and form imported, as a server does at its first request
for line in open(f"/proc/{os.getpid()}/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) / 1024)
"""


def bare_process_mb() -> float:
    env = {**os.environ, "YIDI_ALLOW_INSECURE_KEY": "1", "DJANGO_SETTINGS_MODULE": "yidi.settings"}
    done = subprocess.run([sys.executable, "-c", _BARE], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    return float(done.stdout.strip().splitlines()[-1])


def readings() -> tuple[dict, str]:
    """This run's readings from `bench_load`, or a short load of our own; and where they came from."""
    shared = Path(os.environ.get("YIDI_BENCH_RUN_DIR", "/nonexistent"), "load-rss.json")
    if shared.exists():
        return json.loads(shared.read_text()), "bench_load"
    import bench_load

    return bench_load.rss_readings(bench_load.session(phases=SHORT_PHASES, floor_seconds=1)), "own load"


def figures(values: dict, *, floor: float | None = None, source: str = "bench_load") -> list[dict]:
    load = values["seconds"]
    served = f"yidi serve, {values['threads']} threads, postgres"
    rows = [
        (f"web worker RSS just started ({served})", values.get("started")),
        ("web worker RSS, highest sample while 40 staff log in (Argon2 password hashes)",
         values.get("peak_during_logins")),
        (f"web worker RSS after warm-up ({load['warm-up']} s of 50 users)", values.get("after_warm_up")),
        (f"web worker RSS, highest sample during the load ({source})", values.get("peak_during_load")),
        (f"web worker RSS after the load ({load['paced']} s paced + {load['saturated']} s saturated)",
         values.get("after_load")),
        ("web worker peak RSS over its life (VmHWM)", values.get("peak_vmhwm")),
    ]
    result = [figure(name, value, "MB", floor=floor, target=TARGET, higher_is_better=False)
              for name, value in rows if value is not None]
    if values.get("worker_after_load") is not None:
        result.append(figure("background worker RSS after the load (yidi worker)", values["worker_after_load"], "MB",
                             floor=floor, higher_is_better=False))
    if floor is not None:
        result.append(figure("bare process: Django set up, every URLconf loaded (the floor)", floor, "MB",
                             target="(floor)", higher_is_better=False))
    return result


def run() -> list[dict]:
    values, source = readings()
    return figures(values, floor=bare_process_mb(), source=source)


if __name__ == "__main__":
    print_table(run())
