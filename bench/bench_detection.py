"""Risk detection over a year of one county (issue 9, Speed): the spike and cluster detection ≤ 10 s on PostgreSQL
at 1,000,000 matters.

Run: `python bench/bench_detection.py [--database-url URL] [--county CODE] [--as-of YYYY-MM-DD]`.
- it measures a database of 1,000,000 matters made beforehand by `bench/generate.py` (`--database-url`, default
  `harness.large_database_url()`); without one it says how to make it and measures nothing;
- the year ends on the county's newest matter (or `--as-of`) and is detected as `manage.py detect_risks --region
  CODE --from … --as-of …` does, with the outcome of one run per day of the year; every run is inside a transaction
  rolled back afterwards, so the database is left as it was and each run records its alerts afresh (if the
  database already holds them, the run finds them and adds nothing: the figure is then a re-run's);
- figures: the spike and cluster detection (the target), all four detectors, and the detectors alone (their SQL
  and the tests in Python, without recording the alerts);
- the floor is the single plain GROUP BY of the year's matters by week × type × township: the least any spike
  detection must read.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, timedelta

from harness import (
    LARGE_MATTERS,
    figure,
    how_to_make_large_database,
    large_database_matters,
    large_database_url,
    median_seconds,
    print_table,
)

LARGE_DATABASE = True
COUNTY = "330681"
TARGET = "≤ 10 s"


def _floor(county: str, first_on: date, last_on: date) -> float:
    """The year's matters of the county by week × type × township, as one hand-written aggregate."""
    from django.db import connection

    from yidi.regions.domain import code_range
    from yidi.supervision.detection import start_of

    low, high = code_range(county)
    sql = ("SELECT primary_type_id, SUBSTRING(region_id, 1, 9), DATE_TRUNC('week', registered_at AT TIME ZONE %s), "
           "COUNT(*) FROM cases_case WHERE region_id >= %s AND region_id < %s AND registered_at >= %s "
           "AND registered_at < %s GROUP BY 1, 2, 3")
    params = ["Asia/Shanghai", low, high, start_of(first_on), start_of(last_on + timedelta(days=1))]

    def aggregate() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    aggregate()  # the table's pages in the cache, as for the runs measured after it
    return median_seconds(aggregate, repeat=3)


def _rolled_back(work) -> tuple[float, object]:
    from django.db import transaction

    with transaction.atomic():
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, result


def _detectors_alone(county: str, first_on: date, last_on: date, kinds) -> tuple[float, int]:
    from yidi.supervision.detection import DETECTORS
    from yidi.supervision.models import DetectionRule

    rules = {rule.kind: rule for rule in DetectionRule.objects.filter(is_active=True, kind__in=kinds)}
    started = time.perf_counter()
    signals = sum(len(DETECTORS[kind](county, first_on=first_on, last_on=last_on, rule=rule))
                  for kind, rule in rules.items())
    return time.perf_counter() - started, signals


def _newest_day(county: str) -> date:
    from django.db.models import Max
    from django.utils import timezone

    from yidi.cases.models import Case
    from yidi.regions.domain import code_range
    from yidi.supervision.detection import zone

    low, high = code_range(county)
    newest = Case.objects.filter(region_id__gte=low, region_id__lt=high).aggregate(at=Max("registered_at"))["at"]
    return timezone.localtime(newest, zone()).date()


def run(*, database_url: str | None = None, county: str = COUNTY, as_of: str | None = None) -> list[dict]:
    database_url = database_url or large_database_url()
    held = large_database_matters(database_url)
    if (held or 0) < LARGE_MATTERS:
        print(f"需要一百万件事项的 PostgreSQL 数据库（{database_url.rsplit('@', 1)[-1]} 现有 {held or 0} 件），"
              f"先生成：{how_to_make_large_database(database_url)}", file=sys.stderr)
        return []
    os.environ["DATABASE_URL"] = database_url
    os.environ["YIDI_ALLOW_INSECURE_KEY"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
    import django

    django.setup()
    _check_migrated()
    from yidi.supervision.domain import AlertKind
    from yidi.supervision.jobs import detect_risks

    last_on = date.fromisoformat(as_of) if as_of else _newest_day(county)
    first_on = last_on - timedelta(days=365)
    floor = _floor(county, first_on, last_on)
    period = f"{county}，{first_on}至{last_on}"
    target_kinds = (AlertKind.SPIKE, AlertKind.CLUSTER)
    alone, signals = _detectors_alone(county, first_on, last_on, target_kinds)
    target_s, target = _rolled_back(lambda: detect_risks(region=county, first_on=first_on, as_of=last_on,
                                                         kinds=target_kinds))
    every_s, every = _rolled_back(lambda: detect_risks(region=county, first_on=first_on, as_of=last_on))
    return [
        figure(f"激增+群体性苗头研判一年（{period}；{target}）", target_s, "s", floor=floor, target=TARGET,
               higher_is_better=False),
        figure(f"其中检测（SQL 与检验，不含写入预警；{signals} 个逐日信号）", alone, "s", floor=floor,
               higher_is_better=False),
        figure(f"四类研判一年（{every}）", every_s, "s", floor=floor, higher_is_better=False),
        figure("下限：一年事项按周×类型×乡镇的一次 GROUP BY", floor, "s"),
    ]


def _check_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = [m for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())
               if m.app_label == "supervision"]
    if pending:
        raise SystemExit(f"the database lacks the supervision migrations {', '.join(m.name for m in pending)}: "
                         "run `manage.py migrate supervision` on it first (the detection's indexes)")


if __name__ == "__main__":
    args = sys.argv[1:]

    def option(name: str, default=None):
        return args[args.index(name) + 1] if name in args else default

    print_table(run(database_url=option("--database-url"), county=option("--county", COUNTY),
                    as_of=option("--as-of")))
