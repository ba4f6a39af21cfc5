"""The centre's overview (issue 9, Speed): ≤ 1 s cold and ≤ 200 ms warm on PostgreSQL at 1,000,000 matters.

Run: `python bench/bench_dashboard.py [--postgres] [--matters N] [--database-url URL]`.
- a throwaway database (see `harness.setup_django`) is filled by `bench/generate.py` (N copies of real matters,
  default 1,000,000); with `--database-url` an already generated database is measured as it is (nothing written
  but a dispatcher account and its session);
- cold: the whole page (`GET /analytics/dashboard/` for a county dispatcher, this year) with the dashboard cache
  emptied before each run; warm: the same page again (figures from the cache, `YIDI_DASHBOARD_CACHE_SECONDS`);
- the floor is the single plain SQL aggregate that computes the overview's cards (registered, concluded, closed,
  open, overdue, red, yellow) for the county and year: the least any overview must read.
"""

from __future__ import annotations

import os
import sys
import time

from harness import figure, median_seconds, print_table, setup_django

COUNTY = "330681"


def _generate(matters: int) -> None:
    import generate

    generate.build_templates(COUNTY, 400, 1, _today())
    pool = max(1_000, int(matters * 0.6))
    generate.build_pool(pool, 1)
    plan = generate.Plan(matters=matters, years=3, seed=1, until=_today(), pool=pool)
    copies = generate.copy_matters(plan, pool)
    generate.finish(plan, copies, time.monotonic())


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _viewer():
    """A county dispatcher (an oversight role that needs no second factor in a test client)."""
    from yidi.accounts.domain import Role, UnitKind
    from yidi.accounts.models import Unit
    from yidi.cases.builders import make_unit, make_user

    unit = Unit.objects.filter(region_id=COUNTY, kind=UnitKind.CENTRE).first() or make_unit(
        "bench-centre", kind=UnitKind.CENTRE, region_code=COUNTY, name="基准测试中心")
    return make_user("bench-dashboard", Role.DISPATCHER, unit=unit, name="基准调度")


def _floor_sql() -> tuple[str, list]:
    """The overview's cards as one hand-written aggregate over the county's matters."""
    from datetime import datetime
    from datetime import time as clock_time

    from django.utils import timezone

    from yidi.cases.domain import OPEN_STATUSES

    year = _today().year
    start = timezone.make_aware(datetime.combine(_today().replace(month=1, day=1), clock_time.min))
    end = timezone.make_aware(datetime.combine(_today().replace(year=year + 1, month=1, day=1), clock_time.min))
    open_list = ", ".join(f"'{status}'" for status in sorted(OPEN_STATUSES))
    registered = "registered_at >= %s AND registered_at < %s"
    sql = f"""SELECT COUNT(*) FILTER (WHERE {registered}),
        COUNT(*) FILTER (WHERE {registered} AND status IN ({open_list})),
        COUNT(*) FILTER (WHERE concluded_at >= %s AND concluded_at < %s AND outcome <> ''),
        COUNT(*) FILTER (WHERE closed_at >= %s AND closed_at < %s),
        COUNT(*) FILTER (WHERE status IN ({open_list})),
        COUNT(*) FILTER (WHERE status IN ({open_list}) AND deadline_state = 'overdue'),
        COUNT(*) FILTER (WHERE status IN ({open_list}) AND deadline_state = 'red'),
        COUNT(*) FILTER (WHERE status IN ({open_list}) AND deadline_state = 'yellow')
        FROM cases_case WHERE region_id >= %s AND region_id < %s"""
    return sql, [start, end, start, end, start, end, start, end, COUNTY, "330682"]


def run(vendor: str = "sqlite", *, matters: int = 1_000_000, database_url: str | None = None) -> list[dict]:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        os.environ["YIDI_ALLOW_INSECURE_KEY"] = "1"
        os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
        import django

        django.setup()
    else:
        setup_django(vendor, database="yidi_bench_dashboard")
        _generate(matters)
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from yidi.cases.models import Case

    settings.ALLOWED_HOSTS = ["*"]
    # pages render static URLs: use the plain storage (no collectstatic manifest in a throwaway database's run)
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    total = Case.objects.count()
    client = Client()
    client.force_login(_viewer())
    url = f"/analytics/dashboard/?period={_today().year}"

    def cold() -> None:
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    def warm() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    sql, params = _floor_sql()

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    cold()  # first touch: connections, templates, the working-day index
    floor_s = median_seconds(floor)
    cold_s = median_seconds(cold)
    warm()
    warm_s = median_seconds(warm, repeat=9)
    label = f"{connection.vendor}, {total:,} matters"
    return [
        figure(f"dashboard overview, cold ({label})", cold_s * 1000, "ms", floor=floor_s * 1000, target="≤ 1000 ms",
               higher_is_better=False),
        figure(f"dashboard overview, warm ({label})", warm_s * 1000, "ms", floor=floor_s * 1000, target="≤ 200 ms",
               higher_is_better=False),
        figure(f"plain SQL aggregate of the overview cards ({label})", floor_s * 1000, "ms", target="(floor)",
               higher_is_better=False),
    ]


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args[args.index("--matters") + 1]) if "--matters" in args else 1_000_000
    url = args[args.index("--database-url") + 1] if "--database-url" in args else None
    print_table(run("postgres" if "--postgres" in args else "sqlite", matters=count, database_url=url))
