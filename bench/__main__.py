"""`make bench`: every benchmark, one table, and the figures written to `bench/results/<date>.json`.

    .venv/bin/python bench/__main__.py [--quick] [--only NAME …] [--skip NAME …] [--compare FILE] [--list]

Every `bench/bench_*.py` is found by its name and run in its own process (each needs its own throwaway
database and a clean interpreter for memory figures), once per database it runs on (see `harness` for how a
module says which). Targets come from the issues; every figure is printed beside its floor measured in the same
run where one exists. The machines here are shared: compare ratios and medians, not single values.

- NAME is the module name with or without `bench_` ("load", "bench_sweep"), or with its database
  ("sweep:postgres"); `--only` and `--skip` may be repeated.
- A module that fails, or runs longer than `--timeout` seconds, prints its error in the table; the others still
  run, and the exit status is 1 at the end. A target not met does not change the exit status.
- Benchmarks of a 1,000,000-matter database are skipped, with the command that makes it, when it is absent.
- The results file holds the machine (cores, load average at start and end, Python, SQLite and PostgreSQL
  versions, git commit) and each module's status and time. A partial run (`--only`/`--skip`) keeps the other
  modules' rows of the same day's file, each marked with the run it came from.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    LARGE_MATTERS,
    POSTGRES_ADMIN_URL,
    how_to_make_large_database,
    large_database_matters,
    large_database_url,
    print_table,
    target_met,
)

ROOT = HERE.parent
RESULTS = HERE / "results"
DEFAULT_TIMEOUT = 1800
MARKER = "@@ROWS@@"
RUNNER = """
import json, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop cleanly: servers stopped, databases dropped
sys.path.insert(0, {here!r})
module = __import__({name!r})
rows = module.run(**{kwargs!r})
print({marker!r} + json.dumps(rows, default=str, ensure_ascii=False), flush=True)
"""


@dataclass(frozen=True)
class Job:
    """One run of one module: `vendor` is None for a module without databases; `large` reads the 1M database."""

    module: str
    vendor: str | None
    large: bool

    @property
    def label(self) -> str:
        return f"{self.module}:{self.vendor}" if self.vendor else self.module

    def kwargs(self) -> dict:
        if self.large:
            return {"database_url": large_database_url()}
        return {"vendor": self.vendor} if self.vendor else {}


def _literal(node: ast.AST | None):
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None


def describe(path: Path) -> list[Job]:
    """The runs of one module, read from its source: `run`'s parameters and defaults, `VENDORS`,
    `LARGE_DATABASE`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = path.stem
    constants = {
        target.id: _literal(node.value)
        for node in tree.body if isinstance(node, ast.Assign)
        for target in node.targets if isinstance(target, ast.Name)
    }
    run = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "run"), None)
    if run is None:
        raise ValueError(f"{path.name} has no run() function")
    arguments = run.args
    positional = arguments.posonlyargs + arguments.args
    defaults = dict(zip([a.arg for a in positional][len(positional) - len(arguments.defaults):],
                        arguments.defaults, strict=True))
    defaults.update({a.arg: d for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d})
    names = {a.arg for a in positional + arguments.kwonlyargs}
    large = bool(constants.get("LARGE_DATABASE")) or "database_url" in names
    if large:
        return [Job(name, None, True)]
    if isinstance(constants.get("VENDORS"), tuple | list):
        return [Job(name, vendor, False) for vendor in constants["VENDORS"]]
    if "vendor" in names:
        default = _literal(defaults.get("vendor"))
        return [Job(name, "sqlite", False), Job(name, "postgres", False)] if default == "sqlite" else [
            Job(name, default or "postgres", False)]
    return [Job(name, None, False)]


def discover() -> list[Job]:
    jobs = []
    for path in sorted(HERE.glob("bench_*.py")):
        jobs.extend(describe(path))
    return jobs


def _matches(job: Job, pattern: str) -> bool:
    name, _, vendor = pattern.partition(":")
    name = name if name.startswith("bench_") else f"bench_{name}"
    return job.module == name.removesuffix(".py") and (not vendor or job.vendor == vendor)


def select(jobs: list[Job], only: list[str], skip: list[str]) -> list[Job]:
    unknown = [p for p in only + skip if not any(_matches(job, p) for job in jobs)]
    if unknown:
        known = ", ".join(sorted({job.module.removeprefix("bench_") for job in jobs}))
        raise SystemExit(f"没有这个基准测试：{', '.join(unknown)}（可选：{known}）")
    chosen = [job for job in jobs if not only or any(_matches(job, p) for p in only)]
    return [job for job in chosen if not any(_matches(job, p) for p in skip)]


# --- the machine --------------------------------------------------------------------------------------------


def _command(*args: str) -> str:
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _postgres_version() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), connect_timeout=5) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # the table says why instead of failing the run
        return f"unavailable ({type(error).__name__})"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_facts() -> dict:
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "git_commit": _command("git", "rev-parse", "HEAD"),
        "git_uncommitted_files": len(_command("git", "status", "--porcelain", "--untracked-files=no").splitlines()),
    }


# --- running ------------------------------------------------------------------------------------------------


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the module's process group (the module stops its servers and drops its databases), then
    SIGKILL after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def run_job(job: Job, *, env: dict, timeout: float, verbose: bool) -> tuple[list[dict], str | None]:
    """Run one module in its own process; its rows, or the error that stopped it."""
    code = RUNNER.format(here=str(HERE), name=job.module, kwargs=job.kwargs(), marker=MARKER)
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=HERE, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=None if verbose else subprocess.PIPE,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(process)
        return [], f"超过 {timeout:.0f} 秒未完成，已停止（--timeout 可调）"
    except KeyboardInterrupt:
        _stop_group(process)
        raise
    found = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if process.returncode != 0 or not found:
        lines = [line for line in (stderr or "").strip().splitlines() if line.strip()]
        return [], (lines[-1] if lines else f"exit {process.returncode}") + (
            f"\n{stderr[-3000:]}" if stderr else "")
    rows = json.loads(found[-1][len(MARKER):])
    if not rows:  # the module measured nothing: its last words say why (a database it needs is absent …)
        said = [line for line in stdout.splitlines() + (stderr or "").splitlines()
                if line.strip() and not line.startswith(MARKER)]
        return [_skip_row(job, said[-1].strip() if said else "没有测得任何数值")], None
    return rows, None


def _interrupted(*_) -> None:
    raise KeyboardInterrupt


def _error_row(job: Job, error: str) -> dict:
    return {"figure": job.label, "error": error.splitlines()[0][:300], "module": job.module, "variant": job.vendor}


def _skip_row(job: Job, reason: str) -> dict:
    return {"figure": job.label, "skipped": reason, "module": job.module, "variant": job.vendor}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="运行全部基准测试，打印一张表，结果写入 bench/results/<日期>.json")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="只运行这个（可重复）")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME", help="不运行这个（可重复）")
    parser.add_argument("--quick", action="store_true", help="CI 规模：压测时间缩短（各模块自行读取 YIDI_BENCH_QUICK）")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="每个模块的时限（秒）")
    parser.add_argument("--compare", type=Path, default=None, metavar="FILE",
                        help="与以前的结果文件对比（表中多一列）；不给则不对比")
    parser.add_argument("--list", action="store_true", help="只列出会运行的模块")
    parser.add_argument("--verbose", action="store_true", help="显示各模块的进度输出")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # a stopped run stops the module it is running, too
    jobs = select(discover(), args.only, args.skip)
    if args.list:
        for job in jobs:
            print(f"{job.label}{'  （需要一百万件事项的数据库）' if job.large else ''}")
        return 0
    previous = None
    if args.compare:
        earlier = json.loads(args.compare.read_text(encoding="utf-8"))
        previous = {row["figure"]: row["value"] for row in earlier.get("rows", []) if "value" in row}

    started_at = datetime.now()
    facts = machine_facts()
    facts["load_average_start"] = list(os.getloadavg())
    run_dir = tempfile.mkdtemp(prefix="yidi-bench-run-")
    env = {**os.environ, "YIDI_ALLOW_INSECURE_KEY": "1", "YIDI_BENCH_RUN_DIR": run_dir,
           "YIDI_BENCH_QUICK": "1" if args.quick else os.environ.get("YIDI_BENCH_QUICK", "")}
    large_count = large_database_matters() if any(job.large for job in jobs) else None
    rows, modules, failed = [], [], False
    print(f"基准测试：{len(jobs)} 项，{facts['usable_cores']} 核，负载 {facts['load_average_start'][0]:.2f}，"
          f"提交 {facts['git_commit'][:10]}{'（--quick）' if args.quick else ''}", file=sys.stderr)
    for job in jobs:
        began = time.monotonic()
        entry = {"module": job.module, "variant": job.vendor, "label": job.label, "started_at":
                 datetime.now().isoformat(timespec="seconds")}
        if job.large and (large_count or 0) < LARGE_MATTERS:
            held = "不存在" if large_count is None else f"只有 {large_count:,} 件"
            reason = (f"需要一百万件事项的 PostgreSQL 数据库 {large_database_url().rsplit('@', 1)[-1]}（{held}）；"
                      f"生成：{how_to_make_large_database()}")
            rows.append(_skip_row(job, reason))
            modules.append({**entry, "status": "skipped", "reason": reason, "seconds": 0})
            print(f"  {job.label}: 跳过（无一百万件事项的数据库）", file=sys.stderr)
            continue
        print(f"  {job.label} …", file=sys.stderr, flush=True)
        found, error = run_job(job, env=env, timeout=args.timeout, verbose=args.verbose)
        seconds = round(time.monotonic() - began, 1)
        if error:
            failed = True
            rows.append(_error_row(job, error))
            modules.append({**entry, "status": "failed", "error": error[-4000:], "seconds": seconds})
            print(f"  {job.label}: 失败（{seconds:.0f} 秒）", file=sys.stderr)
            continue
        for row in found:
            row.update(module=job.module, variant=job.vendor)
            if "skipped" not in row:
                row["met"] = target_met(row)
        rows.extend(found)
        measured = sum(1 for row in found if "value" in row)
        modules.append({**entry, "status": "ok" if measured else "skipped", "figures": measured, "seconds": seconds})
        print(f"  {job.label}: {measured} 个数值（{seconds:.0f} 秒）", file=sys.stderr)

    facts["load_average_end"] = list(os.getloadavg())
    shutil.rmtree(run_dir, ignore_errors=True)
    print()
    print_table(rows, previous=previous)
    met = [row.get("met") for row in rows if "value" in row]
    print(f"\n达标 {met.count(True)} 项，未达标 {met.count(False)} 项，无目标 {met.count(None)} 项；"
          f"{sum(1 for row in rows if row.get('error'))} 个模块失败，{sum(1 for row in rows if row.get('skipped'))} 个跳过。"
          f"负载 {facts['load_average_start'][0]:.2f} → {facts['load_average_end'][0]:.2f}"
          f"（{facts['usable_cores']} 核）。")
    path = write_results(started_at, facts, modules, rows, partial=bool(args.only or args.skip), quick=args.quick)
    print(f"结果已写入 {path}")
    for module in modules:
        if module["status"] == "failed":
            print(f"\n基准测试失败：{module['label']}\n{module['error']}", file=sys.stderr)
    return 1 if failed else 0


def write_results(started_at: datetime, facts: dict, modules: list[dict], rows: list[dict], *, partial: bool,
                  quick: bool) -> Path:
    """`bench/results/<date>.json`; a partial run keeps the rows of the day's earlier run for the modules it did
    not run (each such module marked with `from_run`)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{started_at:%Y-%m-%d}.json"
    ran = {(m["module"], m["variant"]) for m in modules}
    earlier_runs: dict = {}
    if partial and path.exists():
        try:
            earlier = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = {}
        carried = [m for m in earlier.get("modules", []) if (m.get("module"), m.get("variant")) not in ran]
        for module in carried:
            modules.append({**module, "from_run": module.get("from_run") or earlier.get("started_at")})
        runs = {**earlier.get("earlier_runs", {}), earlier.get("started_at"): earlier.get("machine")}
        earlier_runs = {at: runs[at] for at in {m["from_run"] for m in modules if m.get("from_run")} if at in runs}
        rows = rows + [row for row in earlier.get("rows", [])
                       if (row.get("module"), row.get("variant")) not in ran and row.get("module")]
    finished_at = datetime.now()
    path.write_text(json.dumps({
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "seconds": round((finished_at - started_at).total_seconds()),
        "quick": quick,
        "machine": facts,
        **({"earlier_runs": earlier_runs} if earlier_runs else {}),
        "modules": modules,
        "rows": rows,
    }, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
