"""Query health at size (issue 10, item 3): every main page and API list, timed on a generated 1,000,000-matter
PostgreSQL database, beside its floor; and the duplicate look-up and the KPIs of one township and year (issue 9).

Run: `python bench/bench_pages.py [--database NAME] [--repeat N] [--only TEXT]` (or `YIDI_BENCH_PAGES_DATABASE=NAME`);
`--only TEXT` times just the pages whose name holds TEXT ("text search", "KPI"), without the last two figures.
- NAME (default `yidi_bench_1m`, as the other size benchmarks) is a PostgreSQL database on the benchmark server (`YIDI_BENCH_POSTGRES`) filled by
  `bench/generate.py --matters 1000000 --county 330681`; without it the benchmark says so and returns no rows.
  It is measured as it is (not migrated: apply the migrations first); the only writes are the Django sessions of
  the demo accounts, one API client (`bench-pages`) and the audit rows the audit page and the API write.
- Each page is requested `N` times (default 20) with Django's test client, as the demo account that uses it
  (password `Yidi-demo-2026`; an account that needs a second factor is logged in with `force_login`), after one
  warm-up request; p50 and p95 of the whole request (view, queries, template) are printed.
- The floor of a page is one hand-written SQL statement that fetches the same rows (the first page of the list,
  the matter, the aggregate) — the least any page showing them must read; p50 of N runs.
- Targets (issue 10): list pages p95 ≤ 150 ms, detail ≤ 100 ms, duplicate look-up p95 ≤ 20 ms; (issue 9) a KPI for
  one township and one year ≤ 300 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass

from harness import LARGE_DATABASE, POSTGRES_ADMIN_URL, figure, percentile, print_table

COUNTY = "330681"
TOWNSHIP = "330681109"  # 枫桥镇, the demo handler's township
DEFAULT_DATABASE = LARGE_DATABASE  # the other size benchmarks' database (bench/harness.py)
OPEN = "('registered', 'accepted', 'assigned', 'signed', 'in_progress', 'returned', 'escalated')"
LIST_TARGET, DETAIL_TARGET = 150.0, 100.0


@dataclass(frozen=True)
class Page:
    name: str
    user: str  # demo account, or "api" for the API client
    url: str
    floor_sql: str
    floor_params: tuple = ()
    target_ms: float = LIST_TARGET


def _database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _setup(database: str) -> None:
    os.environ["DATABASE_URL"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
    os.environ.setdefault("YIDI_ALLOW_INSECURE_KEY", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "yidi.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.AUTH_TRUST_FORCE_LOGIN = True  # a `force_login` session counts as two-factor (as in the tests)
    # the pages are rendered in-process without `collectstatic`: plain static URLs, no manifest
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def _unapplied() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())]


def _samples(database: str) -> dict:
    """Ids the pages need: a closed matter with a long timeline, a campaign, the handler's unit …"""
    from yidi.accounts.models import User
    from yidi.cases.models import Case
    from yidi.supervision.models import Alert

    handler = User.objects.select_related("unit").get(username="handler")
    grid = User.objects.select_related("unit").get(username="grid")
    detail = Case.objects.in_region(TOWNSHIP).filter(status="closed").order_by("-registered_at").first()
    campaign_id = None
    try:
        from yidi.campaigns.models import Campaign

        campaign_id = Campaign.objects.order_by("-id").values_list("pk", flat=True).first()
    except LookupError:  # pragma: no cover - the campaigns app is always installed here
        pass
    return {"handler_unit": handler.unit_id, "grid_unit": grid.unit_id, "detail": detail.code,
            "campaign": campaign_id, "alert": Alert.objects.order_by("-id").values_list("pk", flat=True).first()}


def _pages(samples: dict, year: int) -> list[Page]:
    from yidi.cases.queries import text_grams

    county = (COUNTY, "330682")
    township = (TOWNSHIP, "33068110:")
    start, end = f"{year}-01-01 00:00+08", f"{year + 1}-01-01 00:00+08"
    case_cols = "id, code, title, status, region_id, registered_at, due_at, deadline_state, lead_unit_id"
    pages = [
        Page("case list (county dispatcher)", "dispatcher", "/cases/",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s "
             "ORDER BY registered_at DESC, id DESC LIMIT 20", county),
        Page("case list, township + open + status", "dispatcher",
             f"/cases/?region={TOWNSHIP}&open=on&status=in_progress",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s "
             "AND status = 'in_progress' ORDER BY registered_at DESC, id DESC LIMIT 20", township),
        Page("case list, text search", "dispatcher", "/cases/?text=排水沟",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s "
             f"AND text_grams @> ARRAY{text_grams('排水沟')}::integer[] "
             "AND (title LIKE '%%排水沟%%' OR description LIKE '%%排水沟%%') ORDER BY registered_at DESC LIMIT 20",
             county),
        Page("queue to assign (dispatcher)", "dispatcher", "/cases/?queue=to_assign",
             f"SELECT {case_cols} FROM cases_case WHERE status IN ('accepted', 'returned') "
             "ORDER BY is_urgent DESC, registered_at, id LIMIT 20"),
        Page("workbench (handler)", "handler", "/",
             f"SELECT {case_cols} FROM cases_case WHERE id IN (SELECT case_id FROM cases_assignment "
             "WHERE unit_id = %s AND status IN ('pending', 'signed')) ORDER BY registered_at LIMIT 6",
             (samples["handler_unit"],)),
        Page("workbench (dispatcher)", "dispatcher", "/",
             f"SELECT {case_cols} FROM cases_case WHERE status = 'registered' ORDER BY registered_at LIMIT 6"),
        Page("case detail", "dispatcher", f"/cases/{samples['detail']}/",
             "SELECT c.*, (SELECT COUNT(*) FROM cases_caseevent e WHERE e.case_id = c.id) FROM cases_case c "
             "WHERE code = %s", (samples["detail"],), DETAIL_TARGET),
        Page("urgings (supervisor)", "supervisor", "/supervision/urgings/",
             "SELECT u.id, u.level, u.issued_at, c.code FROM cases_urging u JOIN cases_case c ON c.id = u.case_id "
             "ORDER BY u.issued_at DESC, u.id DESC LIMIT 30"),
        Page("overdue by unit and township (supervisor)", "supervisor", "/supervision/overdue/",
             f"SELECT lead_unit_id, COUNT(*), COUNT(*) FILTER (WHERE deadline_state = 'overdue') FROM cases_case "
             f"WHERE status IN {OPEN} GROUP BY lead_unit_id"),
        Page("KPI page, county, this year (dispatcher)", "dispatcher", f"/analytics/?period={year}",
             "SELECT COUNT(*) FILTER (WHERE registered_at >= %s), COUNT(*) FILTER (WHERE concluded_at >= %s "
             "AND concluded_at < %s), COUNT(*) FILTER (WHERE closed_at >= %s AND closed_at < %s) FROM cases_case "
             "WHERE region_id >= %s AND region_id < %s AND registered_at < %s",
             (start, start, end, start, end, *county, end), 1000.0),
        Page("KPI page, township, this year (dispatcher)", "dispatcher",
             f"/analytics/?period={year}&region={TOWNSHIP}",
             "SELECT COUNT(*) FILTER (WHERE registered_at >= %s), COUNT(*) FILTER (WHERE concluded_at >= %s "
             "AND concluded_at < %s), COUNT(*) FILTER (WHERE closed_at >= %s AND closed_at < %s) FROM cases_case "
             "WHERE region_id >= %s AND region_id < %s AND registered_at < %s",
             (start, start, end, start, end, *township, end), 300.0),
        Page("KPI drill-down, township resolution (dispatcher)", "dispatcher",
             f"/analytics/matters/?kpi=resolution&part=denominator&period={year}&region={TOWNSHIP}",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s AND concluded_at >= %s "
             "AND concluded_at < %s AND outcome <> '' ORDER BY registered_at DESC LIMIT 20",
             (*township, start, end)),
        Page("alerts (supervisor)", "supervisor", "/supervision/alerts/",
             "SELECT * FROM supervision_alert ORDER BY detected_at DESC, id DESC LIMIT 30"),
        Page("dashboard overview, county (dispatcher)", "dispatcher", f"/analytics/dashboard/?period={year}",
             f"SELECT COUNT(*) FILTER (WHERE status IN {OPEN}), COUNT(*) FILTER (WHERE registered_at >= %s) "
             "FROM cases_case WHERE region_id >= %s AND region_id < %s", (start, *county), 1000.0),
        Page("return-visit worklist (handler)", "handler", "/evaluation/return-visits/",
             "SELECT v.*, c.code FROM evaluation_returnvisit v JOIN cases_case c ON c.id = v.case_id "
             "WHERE v.unit_id = %s AND v.status = 'scheduled' ORDER BY v.due_on, v.id LIMIT 30",
             (samples["handler_unit"],)),
        Page("grid home (grid worker)", "grid", "/grid/",
             f"SELECT {case_cols} FROM cases_case WHERE registering_unit_id = %s AND status IN {OPEN} "
             "ORDER BY registered_at DESC LIMIT 20", (samples["grid_unit"],)),
        Page("audit log (auditor)", "auditor", "/audit/",
             "SELECT * FROM audit_auditevent ORDER BY at DESC, id DESC LIMIT 50"),
        Page("API /api/v1/cases (centre client)", "api", "/api/v1/cases?page_size=20",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s "
             "ORDER BY registered_at DESC, id DESC LIMIT 20", county),
        Page("API /api/v1/cases, township + status", "api",
             f"/api/v1/cases?region={TOWNSHIP}&status=in_progress",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s "
             "AND status = 'in_progress' ORDER BY registered_at DESC, id DESC LIMIT 20", township),
        Page("API /api/v1/cases/overdue", "api", "/api/v1/cases/overdue",
             f"SELECT {case_cols} FROM cases_case WHERE region_id >= %s AND region_id < %s AND status IN {OPEN} "
             "AND due_at < now() ORDER BY due_at, id LIMIT 20", county),
        Page("API /api/v1/supervision/alerts", "api", "/api/v1/supervision/alerts",
             "SELECT * FROM supervision_alert ORDER BY detected_at DESC, id DESC LIMIT 20"),
        Page("API /api/v1/analytics/kpis, township year", "api",
             f"/api/v1/analytics/kpis?period={year}&region={TOWNSHIP}",
             "SELECT COUNT(*) FILTER (WHERE concluded_at >= %s AND concluded_at < %s) FROM cases_case "
             "WHERE region_id >= %s AND region_id < %s AND registered_at < %s", (start, end, *township, end), 300.0),
    ]
    if samples["campaign"]:
        pages.append(Page("campaign page (dispatcher)", "dispatcher", f"/campaigns/{samples['campaign']}/",
                          "SELECT case_id FROM campaigns_campaignmatter WHERE campaign_id = %s LIMIT 20",
                          (samples["campaign"],)))
    return pages


def _clients() -> dict:
    """A logged-in test client per demo account, and the API client's headers under "api"."""
    from django.test import Client

    from yidi.accounts.actions import do_create_api_client
    from yidi.accounts.auth import requires_two_factor
    from yidi.accounts.models import User
    from yidi.cases.builders import DEFAULT_PASSWORD

    clients = {}
    for username in ("dispatcher", "handler", "supervisor", "grid", "auditor", "registrar"):
        user = User.objects.get(username=username)
        client = Client()
        if requires_two_factor(user) or not client.login(username=username, password=DEFAULT_PASSWORD):
            client.force_login(user)
        clients[username] = client
    _api_client, token = do_create_api_client(name=f"bench-pages-{int(time.time())}", unit_code="centre",
                                              scopes=["cases:read", "alerts:read", "analytics:read"])
    clients["api"] = (Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    return clients


def _timed(work, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _floor(sql: str, params: tuple, repeat: int) -> float:
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    run()
    return statistics.median(_timed(run, repeat))


def _request(clients: dict, page: Page):
    if page.user == "api":
        client, headers = clients["api"]
        return lambda: _check(client.get(page.url, **headers), page)
    client = clients[page.user]
    return lambda: _check(client.get(page.url), page)


def _check(response, page: Page) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{page.name}: {page.url} answered {response.status_code}")


def _duplicate_lookup(repeat: int) -> tuple[list[float], float]:
    """The look-up of candidate duplicates (text keys, person hashes) for a new registration of the county."""
    from django.db import connection

    from yidi.accounts.models import User
    from yidi.cases import triage
    from yidi.cases.models import Case, CaseParty
    from yidi.triage.engine import lsh_keys

    registrar = User.objects.get(username="registrar")
    samples = list(Case.objects.in_region(TOWNSHIP).order_by("-registered_at")
                   .values_list("pk", "description", "region_id")[:repeat])
    keys = {}
    for case_id, id_hash, phone_hash in CaseParty.objects.filter(case_id__in=[s[0] for s in samples]).values_list(
            "case_id", "person__id_number_hash", "person__phone_hash"):
        keys.setdefault(case_id, set()).update(h for h in (id_hash, phone_hash) if h)
    runs = []
    for case_id, description, region in samples:
        started = time.perf_counter()
        triage.candidate_cases(registrar, text=description, party_keys=frozenset(keys.get(case_id, ())),
                               region_code=region, dispute_type="neighbour", exclude_id=case_id)
        runs.append((time.perf_counter() - started) * 1000)
    sql = "SELECT case_id FROM cases_casetextkey WHERE key = ANY(%s) LIMIT 200"
    text_keys = list(lsh_keys(samples[0][1]))

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [text_keys])
            cursor.fetchall()

    return runs, statistics.median(_timed(floor, repeat))


def _kpi_township_year(year: int, repeat: int) -> list[float]:
    from yidi.analytics import engine
    from yidi.analytics.domain import KPIS, year_period

    codes = [kpi.code for kpi in KPIS]
    engine.compute(codes, engine.Slice(TOWNSHIP, year_period(year)))  # the working-day index, connections
    return _timed(lambda: engine.compute(codes, engine.Slice(TOWNSHIP, year_period(year))), max(3, repeat // 4))


def run(database: str | None = None, *, repeat: int = 20, only: str = "") -> list[dict]:
    """`only`: time just the pages whose name holds it (and skip the look-up and KPI figures)."""
    database = database or os.environ.get("YIDI_BENCH_PAGES_DATABASE", DEFAULT_DATABASE)
    if not _database_exists(database):
        print(f"数据库 {database} 不存在：请先用 bench/generate.py --matters 1000000 --county {COUNTY} 生成百万事项数据库"
              f"（--database-url 指向 {database}）")
        return []
    _setup(database)
    from django.db import connection
    from django.utils import timezone

    from yidi.cases.models import Case

    pending = _unapplied()
    if pending:
        print(f"注意：{database} 尚有未执行的迁移（{', '.join(pending)}），测得的是迁移前的索引")
    total = Case.objects.count()
    label = f"{connection.vendor}, {total:,} matters"
    year = timezone.localdate().year
    samples = _samples(database)
    clients = _clients()
    rows = []
    for page in _pages(samples, year):
        if only not in page.name:
            continue
        request = _request(clients, page)
        request()  # warm-up: connections, templates, per-process caches
        times = _timed(request, repeat)
        floor = _floor(page.floor_sql, page.floor_params, repeat)
        p95 = percentile(times, 0.95)
        rows.append(figure(f"{page.name} p50 ({label})", statistics.median(times), "ms", floor=floor,
                           target="", higher_is_better=False))
        rows.append(figure(f"{page.name} p95", p95, "ms", floor=floor, target=f"≤ {page.target_ms:.0f} ms"
                           + ("" if p95 <= page.target_ms else " MISSED"), higher_is_better=False))
    if only:
        return rows
    lookups, floor = _duplicate_lookup(repeat)
    p95 = percentile(lookups, 0.95)
    rows.append(figure(f"duplicate look-up p95 ({label})", p95, "ms", floor=floor,
                       target="≤ 20 ms" + ("" if p95 <= 20 else " MISSED"), higher_is_better=False))
    kpi = statistics.median(_kpi_township_year(year, repeat))
    rows.append(figure(f"all KPIs, one township, one year ({label})", kpi, "ms", target="≤ 300 ms"
                       + ("" if kpi <= 300 else " MISSED"), higher_is_better=False))
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    name = args[args.index("--database") + 1] if "--database" in args else None
    count = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 20
    only = args[args.index("--only") + 1] if "--only" in args else ""
    print_table(run(name, repeat=count, only=only))
