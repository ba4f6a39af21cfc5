"""`make bench`: every benchmark, one table, and the figures written to `bench/results/<date>.json`.

Each benchmark runs in its own process (each needs its own throwaway database and a clean interpreter for
memory figures). Targets come from the issues; every figure is printed beside its floor measured in the same
run where one exists. The machines here are shared: compare ratios and medians, not single values.
"""

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ("bench_triage", []),
    ("bench_routing", []),
    ("bench_sweep", []),
    ("bench_sweep", ["--postgres"]),
    ("bench_audit", []),
    ("bench_import", []),
    ("bench_import", ["--postgres"]),
    ("bench_api", []),
]
RUNNER = """
import json, sys
sys.path.insert(0, {here!r})
module = __import__({name!r})
rows = module.run("postgres") if {postgres!r} and "vendor" in module.run.__code__.co_varnames else module.run()
print("@@ROWS@@" + json.dumps(rows, default=str))
"""


def main() -> int:
    rows, failures = [], []
    for name, args in BENCHES:
        code = RUNNER.format(here=str(HERE), name=name, postgres="--postgres" in args)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE)
        found = [line for line in done.stdout.splitlines() if line.startswith("@@ROWS@@")]
        if done.returncode != 0 or not found:
            failures.append(f"{name} {' '.join(args)}: exit {done.returncode}\n{done.stderr[-2000:]}")
            continue
        rows.extend(json.loads(found[-1][len("@@ROWS@@"):]))
    sys.path.insert(0, str(HERE))
    from harness import print_table

    print_table(rows)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{datetime.now():%Y-%m-%d}.json"
    path.write_text(json.dumps({"at": datetime.now().isoformat(), "rows": rows}, ensure_ascii=False, indent=2))
    print(f"\n结果已写入 {path}")
    for failure in failures:
        print(f"\n基准测试失败：{failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
