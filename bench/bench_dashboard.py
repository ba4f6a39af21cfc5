"""The centre's overview and the KPIs (issue 9, Speed), on PostgreSQL at 1,000,000 matters: the overview ≤ 1 s cold
and ≤ 200 ms warm; a KPI for one township and one year ≤ 300 ms; each figure beside the plain SQL that computes the
same number (the floor).

Run: `python bench/bench_dashboard.py [--postgres] [--matters N] [--database-url URL] [--township CODE] [--year Y]`.
- a throwaway database (see `harness.setup_django`) is filled by `bench/generate.py` (N copies of real matters,
  default 1,000,000); with `--database-url` an already generated database is measured (it must have the
  `analytics` migrations applied: the KPI indexes and the rollup table). Written: a dispatcher account and its
  session, and the daily rollup (`yidi.analytics.rollup.refresh`, what the periodic task does), timed as a figure;
- overview cold: the whole page (`GET /analytics/dashboard/` for a county dispatcher, this year) with the
  dashboard cache emptied before each run; warm: the same page again (figures from the cache). Its floor is the
  single plain SQL aggregate of the overview's cards (registered, concluded, closed, open, overdue, red, yellow);
- each KPI: `engine.compute([kpi], township × year)` (a fresh slice each run), beside a hand-written SQL
  aggregate of the same numerator and denominator; the row says whether the two agree. The engine's "first" run
  of each KPI is shown as well (`cold`: new slice object, PostgreSQL's cache as the previous KPI left it).
"""

from __future__ import annotations

import os
import sys
import time

from harness import figure, median_seconds, print_table, setup_django

COUNTY = "330681"
TOWNSHIP = "330681109"  # 枫桥镇


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


def _in(values) -> str:
    return "(" + ", ".join(f"'{value}'" for value in sorted(values)) + ")"


def _floor_sql() -> tuple[str, list]:
    """The overview's cards as one hand-written aggregate over the county's matters."""
    from datetime import datetime
    from datetime import time as clock_time

    from django.utils import timezone

    from yidi.cases.domain import OPEN_STATUSES

    year = _today().year
    start = timezone.make_aware(datetime.combine(_today().replace(month=1, day=1), clock_time.min))
    end = timezone.make_aware(datetime.combine(_today().replace(year=year + 1, month=1, day=1), clock_time.min))
    open_list = _in(OPEN_STATUSES)
    registered = "registered_at >= %s AND registered_at < %s"
    sql = f"""SELECT COUNT(*) FILTER (WHERE {registered}),
        COUNT(*) FILTER (WHERE {registered} AND status IN {open_list}),
        COUNT(*) FILTER (WHERE concluded_at >= %s AND concluded_at < %s AND outcome <> ''),
        COUNT(*) FILTER (WHERE closed_at >= %s AND closed_at < %s),
        COUNT(*) FILTER (WHERE status IN {open_list}),
        COUNT(*) FILTER (WHERE status IN {open_list} AND deadline_state = 'overdue'),
        COUNT(*) FILTER (WHERE status IN {open_list} AND deadline_state = 'red'),
        COUNT(*) FILTER (WHERE status IN {open_list} AND deadline_state = 'yellow')
        FROM cases_case WHERE region_id >= %s AND region_id < %s"""
    return sql, [start, end, start, end, start, end, start, end, COUNTY, "330682"]


def kpi_floor_sql(code: str) -> str | None:
    """A plain SQL aggregate `SELECT numerator, denominator` of one KPI for a region range and period, with
    named parameters low, high (region codes), start, end (the period's instants), now, today (the working-day
    ordinal of today), written from the KPI's definition (docs/kpis.md), not from the engine's ORM code.
    None for 万人成讼率's population (its numerator is counted, the denominator is data)."""
    from yidi.analytics.engine import DEFAULT_ACCEPT_WORKDAYS, NOT_FIRST_TIME_ACTIONS, PRE_LITIGATION_CHANNELS
    from yidi.cases.domain import AGREEMENT_OUTCOMES, MODE_OUTCOMES, RESOLVED_OUTCOMES, HandlingMode

    resolved, agreement = _in(o.value for o in RESOLVED_OUTCOMES), _in(o.value for o in AGREEMENT_OUTCOMES)
    mediation = _in(o.value for o in MODE_OUTCOMES[HandlingMode.MEDIATION])
    region = ("c.region_id >= %(low)s AND c.region_id < %(high)s AND c.registered_at < %(end)s")
    within = "{0} >= %(start)s AND {0} < %(end)s"
    concluded = f"{within.format('c.concluded_at')} AND c.outcome <> ''"
    closed = within.format("c.closed_at")
    registered = within.format("c.registered_at")
    later_contact = "EXISTS (SELECT 1 FROM cases_contact t WHERE t.case_id = c.id AND t.contacted_at > c.registered_at)"
    ordinal = "(SELECT w.ordinal FROM analytics_workdayordinal w WHERE w.day = ({0} AT TIME ZONE 'Asia/Shanghai')::date)"

    def rate(where: str, numerator: str) -> str:
        return f"SELECT COUNT(*) FILTER (WHERE {numerator}), COUNT(*) FROM cases_case c WHERE {region} AND {where}"

    def days(where: str, start: str, end: str) -> str:
        return (f"SELECT SUM({ordinal.format(end)} - {ordinal.format(start)}), COUNT(*) FROM cases_case c "
                f"WHERE {region} AND {where}")

    def clock_sql(stage: str) -> str:
        clocks = (f"FROM cases_casedeadline d WHERE d.case_id = c.id AND d.stage = '{stage}' AND "
                  f"(({within.format('d.met_at')}) OR (d.met_at IS NULL AND d.cancelled_at IS NULL AND "
                  f"d.due_at >= %(start)s AND d.due_at < LEAST(%(end)s, %(now)s)))")
        return (f"SELECT COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 {clocks} AND (d.met_at IS NULL OR "
                f"d.met_at > d.due_at))), COUNT(*) FROM cases_case c WHERE {region} AND "
                f"(c.closed_at IS NULL OR c.closed_at >= %(start)s) AND EXISTS (SELECT 1 {clocks})")

    petition = ("(SELECT id FROM cases_channel WHERE \"group\" = 'petition')")
    limit = f"(CASE WHEN c.channel_id IN {petition} THEN {DEFAULT_ACCEPT_WORKDAYS['petition']} " \
            f"ELSE {DEFAULT_ACCEPT_WORKDAYS['default']} END)"
    decided = "(c.accepted_at IS NOT NULL OR c.status IN ('not_accepted', 'archived'))"
    declined = ("(SELECT e.at FROM cases_caseevent e WHERE e.case_id = c.id AND e.action = 'decline' "
                "ORDER BY e.seq LIMIT 1)")
    setbacks = _in(NOT_FIRST_TIME_ACTIONS)
    return {
        "accept_timely": (
            f"SELECT COUNT(*) FILTER (WHERE {decided} AND {ordinal.format(f'COALESCE(c.accepted_at, {declined})')} "
            f"- {ordinal.format('c.registered_at')} <= {limit}), COUNT(*) FROM cases_case c WHERE {region} AND "
            f"{registered} AND ({decided} OR (c.accepted_at IS NULL AND c.status = 'registered' AND "
            f"{ordinal.format('c.registered_at')} + {limit} < %(today)s))"),
        "sign_timely": clock_sql("sign"),
        "handle_on_time": clock_sql("handle"),
        "resolution": rate(concluded, f"c.outcome IN {resolved}"),
        "mediation_success": rate(f"{within.format('c.concluded_at')} AND c.outcome IN {mediation}",
                                  f"c.outcome IN {agreement}"),
        "evaluation_participation": rate(closed, "c.evaluation <> ''"),
        "satisfaction": (
            "SELECT COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM evaluation_evaluation v WHERE v.case_id = c.id "
            f"AND {within.format('v.recorded_at')} AND v.result = 'dissatisfied')), COUNT(*) FROM cases_case c "
            f"WHERE {region} AND EXISTS (SELECT 1 FROM evaluation_evaluation v WHERE v.case_id = c.id AND "
            f"{within.format('v.recorded_at')})"),
        "repeat_contact": rate(registered, later_contact),
        "first_time_resolution": rate(closed, f"c.outcome IN {resolved} AND NOT EXISTS (SELECT 1 FROM "
                                              f"cases_caseevent e WHERE e.case_id = c.id AND e.action IN {setbacks}) "
                                              f"AND NOT {later_contact}"),
        "pre_litigation_resolution": rate(
            f"{concluded} AND c.channel_id IN (SELECT id FROM cases_channel WHERE code IN "
            f"{_in(PRE_LITIGATION_CHANNELS)})", f"c.outcome IN {resolved}"),
        "litigation_per_10k": (
            f"SELECT COUNT(*), 0 FROM cases_case c WHERE {region} AND c.diversion_route = 'litigation' AND EXISTS ("
            f"SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id AND e.action = 'divert' AND "
            f"{within.format('e.at')} AND e.data->>'route' = 'litigation')"),
        "one_place": rate(closed, "(SELECT COUNT(DISTINCT p.place) FROM cases_visit p WHERE p.case_id = c.id) <= 1"),
        "zero_visit": rate(closed, "NOT EXISTS (SELECT 1 FROM cases_visit p WHERE p.case_id = c.id)"),
        "days_accept": days(within.format("c.accepted_at"), "c.registered_at", "c.accepted_at"),
        "days_handle": days(f"{concluded} AND c.accepted_at IS NOT NULL", "c.accepted_at", "c.concluded_at"),
        "days_close": days(f"{closed} AND c.concluded_at IS NOT NULL", "c.concluded_at", "c.closed_at"),
        "days_total": days(closed, "c.registered_at", "c.closed_at"),
    }.get(code)


def _overview(vendor: str) -> list[dict]:
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from yidi.analytics import rollup
    from yidi.cases.models import Case

    settings.ALLOWED_HOSTS = ["*"]
    # pages render static URLs: use the plain storage (no collectstatic manifest in a throwaway database's run)
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    total = Case.objects.count()
    started = time.perf_counter()
    result = rollup.refresh()  # what the periodic task does (the first run builds the rollup whole)
    refresh_ms = (time.perf_counter() - started) * 1000
    incremental_s = median_seconds(rollup.refresh, repeat=3)
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
    label = f"{vendor}, {total:,} matters"
    return [
        figure(f"dashboard overview, cold ({label})", cold_s * 1000, "ms", floor=floor_s * 1000, target="≤ 1000 ms",
               higher_is_better=False),
        figure(f"dashboard overview, warm ({label})", warm_s * 1000, "ms", floor=floor_s * 1000, target="≤ 200 ms",
               higher_is_better=False),
        figure(f"plain SQL aggregate of the overview cards ({label})", floor_s * 1000, "ms", target="(floor)",
               higher_is_better=False),
        figure(f"daily rollup, {'first build' if result.rebuilt else 'refresh'} ({result.days} days)", refresh_ms,
               "ms", target="(periodic task)", higher_is_better=False),
        figure("daily rollup, incremental refresh", incremental_s * 1000, "ms", target="(periodic task)",
               higher_is_better=False),
    ]


def _kpis(township: str, year: int) -> list[dict]:
    from django.db import connection
    from django.utils import timezone

    from yidi.analytics.domain import KPIS, year_period
    from yidi.analytics.engine import Slice, compute
    from yidi.analytics.models import WorkdayOrdinal
    from yidi.regions.domain import code_range
    from yidi.regions.models import Region

    period = year_period(year)
    compute(["days_total"], Slice(township, period))  # the working-day index, outside the timings
    probe = Slice(township, period)
    low, high = code_range(township)
    now = timezone.now()
    today = WorkdayOrdinal.objects.filter(day=timezone.localdate(now)).values_list("ordinal", flat=True).first() or 0
    params = {"low": low, "high": high, "start": probe.start_at, "end": probe.end_at, "now": now, "today": today}
    name = Region.objects.filter(code=township).values_list("name", flat=True).first() or township
    rows = []
    for kpi in KPIS:
        started = time.perf_counter()
        value = compute([kpi.code], Slice(township, period), now=now)[0]
        first_ms = (time.perf_counter() - started) * 1000
        engine_s = median_seconds(lambda code=kpi.code: compute([code], Slice(township, period), now=now), repeat=3)
        sql = kpi_floor_sql(kpi.code)
        floor_ms, agrees = None, None
        if sql is not None and connection.vendor == "postgresql":
            def floor(sql=sql) -> tuple:
                with connection.cursor() as cursor:
                    cursor.execute("SET jit = off")
                    cursor.execute(sql, params)
                    return cursor.fetchone()
            found = floor()
            floor_ms = median_seconds(floor, repeat=3) * 1000
            numerator, denominator = found
            agrees = int(numerator or 0) == int(value.numerator) and (
                kpi.code == "litigation_per_10k" or int(denominator or 0) == int(value.denominator))
        label = (f"KPI {kpi.name} ({kpi.code}), {name} {year}: {int(value.numerator)}/"
                 f"{int(value.denominator)}{'' if agrees is None else (', = SQL' if agrees else ', ≠ SQL!')}")
        rows.append(figure(label, engine_s * 1000, "ms", floor=floor_ms, target="≤ 300 ms", higher_is_better=False,
                           met=(engine_s * 1000 <= 300 and agrees is not False)))
        rows.append(figure(f"  first run ({kpi.code})", first_ms, "ms", floor=floor_ms, target="≤ 300 ms",
                           higher_is_better=False))
    return rows


def run(vendor: str = "sqlite", *, matters: int = 1_000_000, database_url: str | None = None,
        township: str = TOWNSHIP, year: int | None = None) -> list[dict]:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        os.environ["YIDI_ALLOW_INSECURE_KEY"] = "1"
        os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
        import django

        django.setup()
        _check_migrated()
    else:
        setup_django(vendor, database="yidi_bench_dashboard")
        _generate(matters)
    from django.db import connection

    rows = _overview(connection.vendor)
    rows += _kpis(township, year or _today().year)
    return rows


def _check_migrated() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = [m for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes()) if m.app_label == "analytics"]
    if pending:
        raise SystemExit(f"the database lacks the analytics migrations {', '.join(m.name for m in pending)}: "
                         "run `manage.py migrate analytics` on it first (KPI indexes, rollup table)")


if __name__ == "__main__":
    args = sys.argv[1:]

    def option(name: str, default=None):
        return args[args.index(name) + 1] if name in args else default

    print_table(run("postgres" if "--postgres" in args else "sqlite", matters=int(option("--matters", 1_000_000)),
                    database_url=option("--database-url"), township=option("--township", TOWNSHIP),
                    year=int(option("--year")) if option("--year") else None))
