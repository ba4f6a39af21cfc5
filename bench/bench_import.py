"""12345 import: rows per second end to end (read, map, triage, register in batches: `yidi.cases.bulk`),
beside the triage engine alone on the same texts (the floor a row cannot beat). Target (issue #8): ≥ 800 rows/s
on SQLite and on PostgreSQL.

Run: `python bench/bench_import.py [--postgres] [--rows N]`. Default 10,000 rows (2,000 under `make bench --quick`),
in batches of 500, the triage of each next batch overlapping the writing of the one before, as in production;
the issue's figure is for 100,000 rows. Also reports this process's CPU time per row, the figure that does not
depend on how busy the (shared) machine is.
"""

import csv
import io
import sys
import tempfile
import time
from pathlib import Path

from harness import QUICK, figure, median_seconds, print_table, setup_django

ROWS = 2_000 if QUICK else 10_000
TEXTS = (
    "邻居在楼道堆放杂物堵塞通道，多次沟通无果",
    "公司拖欠三个月工资共计两万元，老板拒不支付",
    "小区物业收费不合理，电梯长期故障无人维修",
    "在网店购买的电器有质量问题，商家拒绝退货",
    "承包的山林边界与邻村发生争议，双方多次争吵",
)


def _export(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单编号", "来电时间", "来电人", "来电号码", "诉求类型", "所属区域", "详细地址", "诉求内容"])
    for n in range(rows):
        writer.writerow([f"BENCH-{n:06d}", "2026-06-10 09:15", "王小明", f"1390575{n % 10000:04d}", "投诉",
                         "诸暨市枫桥镇", "枫桥镇枫源村5组12号", f"{TEXTS[n % len(TEXTS)]}（第{n}号）"])
    return out.getvalue().encode("utf-8-sig")


def run(vendor: str = "sqlite", *, rows: int = ROWS) -> list[dict]:
    setup_django(vendor)
    from django.utils import timezone

    from yidi.accounts.domain import Role, UnitKind
    from yidi.cases.builders import make_unit, make_user
    from yidi.hotline.actions import do_import_hotline
    from yidi.regions.loader import load_county
    from yidi.triage.engine import TriageContext, analyse

    load_county("330681")
    centre = make_unit("centre", kind=UnitKind.CENTRE, region_code="330681", name="诸暨市社会矛盾纠纷调处化解中心")
    clerk = make_user("bench-registrar", Role.REGISTRAR, unit=centre)
    texts = [TEXTS[n % len(TEXTS)] + f"（第{n}号）" for n in range(200)]
    context = TriageContext(county_code="330681", reference_on=timezone.localdate())
    analyse(texts[0], context=context)  # load the models once
    triage_seconds = median_seconds(lambda: [analyse(text, context=context) for text in texts], repeat=3)
    folder = Path(tempfile.mkdtemp(prefix="yidi-bench-import-"))
    path = folder / "export.csv"
    path.write_bytes(_export(rows))
    started, cpu_started = time.perf_counter(), time.process_time()
    result = do_import_hotline(path, actor=clerk)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    assert (result.run.imported, result.run.rejected) == (rows, 0), result.run
    again = do_import_hotline(path, actor=clerk)
    assert (again.run.imported, again.run.skipped) == (0, rows), again.run
    return [
        figure(f"12345 import: rows/s with triage, {rows:,} rows ({vendor})", rows / seconds, "rows/s",
               floor=len(texts) / triage_seconds, target="≥ 800 rows/s (floor: triage alone)"),
        # independent of how busy the shared machine is (the database server's own CPU not included)
        figure(f"12345 import: CPU per row in this process ({vendor})", cpu_seconds * 1000 / rows, "ms",
               target="≤ 1.25 ms for 800 rows/s on one core", higher_is_better=False),
    ]


if __name__ == "__main__":
    count = int(sys.argv[sys.argv.index("--rows") + 1]) if "--rows" in sys.argv else ROWS
    print_table(run("postgres" if "--postgres" in sys.argv else "sqlite", rows=count))
