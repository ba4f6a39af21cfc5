"""Query health (issue 10, item 3): every main page and API list runs a fixed number of queries, whatever the
number of matters it shows (no N+1), and on PostgreSQL the main queries are served by their indexes.

The query counts are measured with 2 and then with 20 matters of every kind (registered, accepted, assigned,
in progress and past its deadline with urgings, an alert and a campaign link, closed with a return visit,
reported by a grid worker) at a fixed moment; both must equal the figure in `PAGE_QUERIES` / `API_QUERIES`.
A page whose count changes needs a deliberate new figure here.
"""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.campaigns import actions as campaign_actions
from yidi.cases import actions, queries, triage
from yidi.cases.builders import advance_case, make_case, make_user
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Assignment, Case, CaseParty, CaseTextKey, Person
from yidi.core import clock, worktime
from yidi.regions.models import Region
from yidi.supervision.actions import do_record_finding
from yidi.supervision.domain import AlertKind, Finding, Severity
from yidi.workflow.jobs import sweep_deadlines

pytestmark = pytest.mark.django_db
FENGQIAO = "330681109"
FENGYUAN = "330681109290"
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday: the clocks below are fixed


class World:
    """Matters of every kind, grown through the real actions; `grow(n)` makes it hold n of each kind."""

    def __init__(self, *, registrar, dispatcher, handler, supervisor, grid_worker, auditor):
        self.registrar, self.dispatcher, self.handler = registrar, dispatcher, handler
        self.supervisor, self.grid_worker, self.auditor = supervisor, grid_worker, auditor
        _client, token = do_create_api_client(name="centre-system", unit_code="centre",
                                              scopes=["cases:read", "alerts:read", "analytics:read"])
        self.token = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        self.lead = Unit.objects.get(code="fq-platform")
        self.size = 0
        self.closed = []
        today = clock.now().date()
        self.campaign = campaign_actions.do_create_campaign(
            actor=dispatcher, name="欠薪专项治理", description="集中化解欠薪纠纷",
            starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=60), type_codes=["labour"],
            region_codes=[FENGQIAO], lead_unit_code="fq-platform", member_unit_codes=[],
        )
        campaign_actions.do_activate_campaign(self.campaign.pk, actor=dispatcher)

    def _advance(self, case, status):
        return advance_case(case, status, dispatcher=self.dispatcher, handler=self.handler, lead_unit=self.lead)

    def grow(self, size: int) -> None:
        for number in range(self.size, size):
            make_case(self.registrar, title=f"第{number}件：待受理")
            make_case(self.grid_worker, title=f"第{number}件：网格上报")
            self._advance(make_case(self.registrar, title=f"第{number}件：待交办"), CaseStatus.ACCEPTED)
            self._advance(make_case(self.registrar, title=f"第{number}件：待签收"), CaseStatus.ASSIGNED)
            with clock.at(clock.now() - timedelta(days=33)):  # past its handling deadline by now
                open_case = self._advance(make_case(self.registrar, title=f"第{number}件：在办"),
                                          CaseStatus.IN_PROGRESS)
            actions.do_urge_case(open_case.code, actor=self.supervisor, level="yellow", reason="请加快办理")
            campaign_actions.do_link_matter(self.campaign.pk, open_case.code, actor=self.dispatcher, reason="测试")
            do_record_finding(Finding(
                kind=AlertKind.CLUSTER, fingerprint=f"test:{number}", title=f"群体性苗头{number}", reason="测试理由",
                severity=Severity.YELLOW, severity_rule="测试", region=FENGYUAN, case_ids=(open_case.pk,),
            ))
            self.closed.append(self._advance(make_case(self.registrar, title=f"第{number}件：已办结"),
                                             CaseStatus.CLOSED))
        sweep_deadlines()
        self.size = size


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def world(frozen, registrar, dispatcher, handler, supervisor):
    grid_worker = make_user("grid", Role.GRID_WORKER, unit=Unit.objects.get(code="fy-committee"), name="冯网格")
    auditor = make_user("auditor", Role.AUDITOR, unit=Unit.objects.get(code="centre"), name="冯审计")
    return World(registrar=registrar, dispatcher=dispatcher, handler=handler, supervisor=supervisor,
                 grid_worker=grid_worker, auditor=auditor)


def _pages(world: World) -> dict[str, tuple]:
    """name → (user, url) of each main page."""
    year = clock.now().year
    return {
        "case list": (world.dispatcher, "/cases/"),
        "case list, filtered": (world.dispatcher, f"/cases/?status=in_progress&region={FENGQIAO}&open=on"),
        "case list, to assign": (world.dispatcher, "/cases/?queue=to_assign"),
        "workbench, handler": (world.handler, "/"),
        "workbench, dispatcher": (world.dispatcher, "/"),
        "case detail": (world.dispatcher, f"/cases/{world.closed[-1].code}/"),
        "overdue": (world.supervisor, "/supervision/overdue/"),
        "urgings": (world.supervisor, "/supervision/urgings/"),
        "kpis": (world.dispatcher, f"/analytics/?period={year}"),
        "kpi drill-down": (world.dispatcher, f"/analytics/matters/?kpi=resolution&part=denominator&period={year}"),
        "alerts": (world.supervisor, "/supervision/alerts/"),
        "campaign": (world.dispatcher, f"/campaigns/{world.campaign.pk}/"),
        "campaigns": (world.dispatcher, "/campaigns/"),
        "dashboard": (world.dispatcher, f"/analytics/dashboard/?period={year}"),
        "return visits": (world.handler, "/evaluation/return-visits/?tab=upcoming"),
        "grid home": (world.grid_worker, "/grid/"),
        "audit log": (world.auditor, "/audit/"),
    }


def _apis(world: World) -> dict[str, str]:
    year = clock.now().year
    return {
        "api cases": "/api/v1/cases?page_size=20",
        "api cases, filtered": f"/api/v1/cases?status=in_progress&region={FENGQIAO}",
        "api overdue cases": "/api/v1/cases/overdue",
        "api alerts": "/api/v1/supervision/alerts",
        "api kpis": f"/api/v1/analytics/kpis?period={year}",
    }


def _rows(response) -> int | None:
    """How many rows a list page or API list shows (None for a page that is not a list)."""
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        return len(body["results"]) if isinstance(body, dict) and "results" in body else None
    context = response.context
    if context is None:
        return None
    for key in ("page_obj", "cases", "reported"):
        if key in context:
            return len(context[key].object_list if key == "page_obj" else context[key])
    return None


def _measure(client, world: World) -> dict[str, tuple[int, int | None]]:
    """name → (queries of the second of two identical requests, rows shown)."""
    found = {}
    requests = [(name, user, url, {}) for name, (user, url) in _pages(world).items()]
    requests += [(name, None, url, world.token) for name, url in _apis(world).items()]
    for name, user, url, headers in requests:
        if user is not None:
            client.force_login(user)
        client.get(url, **headers)  # the first request fills per-process caches and writes `last_used_at`
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        assert response.status_code == 200, (name, response.status_code)
        found[name] = (len(queries), _rows(response))
    return found


# The KPI engine: its statements, the same on both databases (JIT is off for the connection on PostgreSQL).
KPI_QUERIES = 27
# Queries of each page for any number of matters. Pages: the session, the user and their roles and unit, the
# page's own reads, the session save. API lists: the client, its rate window, its service account, the reads.
PAGE_QUERIES = {
    "case list": 12, "case list, filtered": 12, "case list, to assign": 14, "workbench, handler": 11,
    "workbench, dispatcher": 15, "case detail": 29, "overdue": 10, "urgings": 9, "kpis": KPI_QUERIES,
    "kpi drill-down": 14,
    "alerts": 11, "campaign": 22, "campaigns": 9, "dashboard": 12, "return visits": 16, "grid home": 14,
    "audit log": 12,
}
API_QUERIES = {"api cases": 14, "api cases, filtered": 14, "api overdue cases": 14, "api alerts": 14,
               "api kpis": KPI_QUERIES}


def test_each_page_and_api_list_runs_the_same_queries_for_2_and_for_20_matters(client, world, monkeypatch):
    monkeypatch.setattr(worktime, "RECHECK_SECONDS", 3600.0)  # the calendar cache is not re-checked mid-test
    world.grow(2)
    small = _measure(client, world)
    world.grow(20)
    large = _measure(client, world)

    expected = PAGE_QUERIES | API_QUERIES
    small_counts = {name: queries for name, (queries, _rows) in small.items()}
    large_counts = {name: queries for name, (queries, _rows) in large.items()}
    assert large_counts == small_counts, (small_counts, large_counts)  # nothing grows with the matters shown
    assert small_counts == expected
    lists = sorted(name for name, (_queries, rows) in large.items() if rows is not None)
    assert lists == sorted(set(expected) - {"case detail", "overdue", "kpis", "campaigns", "dashboard"})
    # every list shows more rows with 20 matters than with 2 (the audit log is full at 50 either way; the KPI
    # list has one row per KPI)
    fixed = {"audit log", "api kpis"}
    assert [name for name in lists if name not in fixed and not 0 < small[name][1] < large[name][1]] == []


# --- EXPLAIN on PostgreSQL: the main queries are served by their indexes --------------------------------------


def _index_names(model, *columns: str) -> set[str]:
    """The names of the indexes (and unique constraints) of `model` whose leading columns are `columns`."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {name for name, info in found.items()
            if (info["index"] or info["unique"]) and tuple(info["columns"][:len(columns)]) == columns}


def _scans(plan: dict, relation: str = "") -> list[tuple[str, str, str]]:
    """(node type, relation, index) of every scan in a plan tree (index empty for a sequential scan); a bitmap
    index scan is reported with the relation of the heap scan above it."""
    relation = plan.get("Relation Name", relation)
    found = []
    if "Scan" in plan["Node Type"]:
        found.append((plan["Node Type"], relation, plan.get("Index Name", "")))
    for child in plan.get("Plans", []):
        bitmap = plan["Node Type"] in ("Bitmap Heap Scan", "BitmapOr", "BitmapAnd")
        found.extend(_scans(child, relation if bitmap else ""))
    return found


def _explain(sql: str, params=()) -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few test rows: ask whether an index is usable
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    return _scans((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])


def _explain_queryset(queryset) -> list[tuple[str, str, str]]:
    sql, params = queryset.query.sql_with_params()
    return _explain(sql, params)


def _explain_runs(work, picked) -> list[list[tuple[str, str, str]]]:
    """Run `work`, and EXPLAIN each query it ran that `picked(sql)` selects (as the driver sent it)."""
    with CaptureQueriesContext(connection) as captured:
        work()
    chosen = [query["sql"] for query in captured.captured_queries if picked(query["sql"])]
    assert chosen, "no query picked"
    return [_explain(sql) for sql in chosen]


def _explain_run(work, picked) -> list[tuple[str, str, str]]:
    """`_explain_runs` of a picker that selects exactly one query."""
    plans = _explain_runs(work, picked)
    assert len(plans) == 1, plans
    return plans[0]


def _uses(scans, model, index_names: set[str]) -> bool:
    table = model._meta.db_table
    return any(relation == table and index in index_names and "Index" in node for node, relation, index in scans)


def _reads_whole(scans, model) -> bool:
    return any(node == "Seq Scan" and relation == model._meta.db_table for node, relation, _index in scans)


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN checks need PostgreSQL")


BULK = 5000  # copies per table: enough for the planner's statistics to look like a real county's


def _clone(model, template_id: int, count: int, **overrides: str) -> None:
    """Copy one row `count` times in one INSERT … SELECT; `overrides` are SQL expressions of the template row `t`
    and the copy number `g` (a literal % is written %%). Bulk rows for the planner's statistics only: the rows that matter come from actions."""
    table = model._meta.db_table
    columns = [field.column for field in model._meta.concrete_fields if field.column != "id"]
    values = ", ".join(overrides.get(column, f't."{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" t, '
                       f"generate_series(1, {int(count)}) g WHERE t.id = {int(template_id)}", [])


def _sql_array(values) -> str:
    return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]"


@pytest.fixture
def analysed(registrar, dispatcher, handler):
    """Matters of 枫桥镇 made through the actions (one assigned to its platform), then thousands of bulk copies
    spread over the county's villages, units, statuses and three years, with their assignments, parties, text
    keys and audit rows; then ANALYZE, so that the plans are those of a real database."""
    from yidi.audit.models import AuditEvent

    lead = Unit.objects.get(code="fq-platform")
    cases = [make_case(registrar, title=f"第{number}件") for number in range(3)]
    advance_case(cases[0], CaseStatus.ASSIGNED, dispatcher=dispatcher, handler=handler, lead_unit=lead)
    villages = _sql_array(Region.objects.filter(level="village").order_by("code").values_list("code", flat=True))
    units = list(Unit.objects.order_by("id").values_list("id", flat=True))
    # as after three years: one matter in ten still open, one in fifty of those red
    statuses = _sql_array(["registered", "assigned", "in_progress"] + ["closed", "archived"] * 12 + ["archived"])
    _clone(Case, cases[1].pk, BULK, code="t.code || '/c' || g", region_id=f"({villages})[1 + g %% 300]",
           registered_at="t.registered_at - (g %% 1000) * interval '1 day'", status=f"({statuses})[1 + g %% 28]",
           grade="CASE WHEN g %% 50 = 0 THEN 'red' ELSE 'blue' END",
           due_at="t.registered_at - (g %% 1000) * interval '1 day' + interval '30 days'",
           next_deadline_at="CASE WHEN g %% 28 < 3 THEN t.registered_at + (g %% 60) * interval '1 day' END")
    person = CaseParty.objects.filter(case=cases[1]).values_list("person_id", flat=True).first()
    _clone(Person, person, BULK, id_number_hash="md5(g || 'id') || md5(g || 'id2')",
           phone_hash="md5(g || 'phone') || md5(g || 'phone2')", name_phone_hash="md5(g || 'np') || md5(g || 'np2')")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO cases_assignment (case_id, unit_id, role, status, assigned_at, assigned_by_id, note)
            SELECT c.id, ({_sql_array(units)}::int[])[1 + c.id %% {len(units)}], 'lead',
                   CASE c.status WHEN 'assigned' THEN 'pending' ELSE 'signed' END, c.registered_at, %s, ''
            FROM cases_case c WHERE c.code LIKE '%%/c%%' AND c.status IN ('assigned', 'in_progress')""",
                       [dispatcher.pk])
        cursor.execute("""
            INSERT INTO cases_caseparty (case_id, person_id, role, position)
            SELECT c.id, p.id, 'applicant', 0 FROM cases_case c
            JOIN cases_person p ON p.id = (SELECT MIN(id) FROM cases_person) + c.id %% %s
            WHERE c.code LIKE '%%/c%%'""", [BULK])
        cursor.execute("""
            INSERT INTO cases_casetextkey (key, case_id)
            SELECT 'm1:' || lpad(b::text, 2, '0') || ':' || substr(md5(c.id || '-' || b), 1, 16), c.id
            FROM cases_case c, generate_series(0, 3) b WHERE c.code LIKE '%%/c%%'""", [])
    audit = AuditEvent.objects.order_by("id").values_list("pk", flat=True).first()
    _clone(AuditEvent, audit, BULK, chain="7", seq="g", at="t.at - g * interval '1 minute'",
           actor_username="'user' || (g %% 500)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case, cases_assignment, cases_transfer, cases_person, cases_caseparty, "
                       "cases_casetextkey, cases_casedeadline, audit_auditevent")
    return cases


@postgres_only
@pytest.mark.postgres
def test_case_lists_of_a_county_unit_and_of_a_township_use_the_registered_indexes(analysed, dispatcher):
    county = _explain_queryset(queries.list_cases(dispatcher, queries.CaseFilters())[:20])
    township = _explain_queryset(queries.list_cases(dispatcher, queries.CaseFilters(region_prefix=FENGQIAO))[:20])

    # newest first: backwards along `registered_at`, or the township's range of (region, registered_at)
    registered = _index_names(Case, "registered_at") | _index_names(Case, "region_id", "registered_at")
    assert _uses(county, Case, registered) and not _reads_whole(county, Case), county
    assert _uses(township, Case, registered) and not _reads_whole(township, Case), township


@postgres_only
@pytest.mark.postgres
def test_a_text_search_of_two_characters_reads_the_matters_holding_them_by_the_bigram_index(analysed, dispatcher):
    Case.objects.filter(pk=analysed[2].pk).update(description="村口排涝泵站停用，雨后农田被淹。")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    found = queries.list_cases(dispatcher, queries.CaseFilters(text="泵站"))

    page, count = _explain_queryset(found[:20]), _explain_queryset(found.order_by())

    assert list(found.values_list("pk", flat=True)) == [analysed[2].pk]
    for scans in (page, count):
        assert _uses(scans, Case, {"cases_case_text_grams"}) and not _reads_whole(scans, Case), scans


@postgres_only
@pytest.mark.postgres
def test_a_units_inbox_of_pending_assignments_uses_the_assignment_and_status_indexes(analysed, handler):
    scans = _explain_queryset(queries.list_cases(handler, queries.CaseFilters(queue="to_sign"))[:20])

    assert _uses(scans, Assignment, _index_names(Assignment, "unit_id", "status")), scans
    assert not _reads_whole(scans, Case) and not _reads_whole(scans, Assignment), scans


@postgres_only
@pytest.mark.postgres
def test_the_idle_deadline_sweep_claims_through_the_next_deadline_index(analysed):
    scans = _explain_run(lambda: sweep_deadlines(now=NOW - timedelta(days=400)),
                         lambda sql: "next_deadline_at" in sql and sql.startswith("SELECT"))

    assert _uses(scans, Case, _index_names(Case, "next_deadline_at")), scans


@postgres_only
@pytest.mark.postgres
def test_duplicate_look_ups_by_text_key_and_by_person_hash_use_their_indexes(analysed, registrar):
    case = analysed[0]

    def look_up():
        triage.candidate_cases(registrar, text=case.description, party_keys=frozenset({"0" * 64}),
                               region_code="", dispute_type="")

    by_text = _explain_run(look_up, lambda sql: '"cases_casetextkey"' in sql)
    by_person = _explain_run(look_up, lambda sql: '"cases_person"' in sql)

    assert _uses(by_text, CaseTextKey, _index_names(CaseTextKey, "key")), by_text
    assert _uses(by_person, Person, _index_names(Person, "id_number_hash")), by_person
    assert _uses(by_person, Person, _index_names(Person, "phone_hash")), by_person
    assert _uses(by_person, CaseParty, _index_names(CaseParty, "person_id")), by_person


@postgres_only
@pytest.mark.postgres
def test_the_kpis_of_one_township_and_year_read_the_townships_matters_by_index(analysed):
    from yidi.analytics import engine
    from yidi.analytics.domain import year_period

    slice_ = engine.Slice(FENGQIAO, year_period(clock.now().year))
    def compute():
        engine.compute(["resolution", "sign_timely", "satisfaction", "days_handle"], slice_)

    plans = _explain_runs(compute, lambda sql: '"cases_case"' in sql)

    # the township's matters by their (region, registered_at) range; no statement reads every matter
    assert any(_uses(scans, Case, _index_names(Case, "region_id", "registered_at")) for scans in plans), plans
    assert [scans for scans in plans if _reads_whole(scans, Case)] == []


@postgres_only
@pytest.mark.postgres
def test_the_audit_log_page_reads_the_newest_rows_by_the_time_index(analysed):
    from yidi.audit.models import AuditEvent
    from yidi.audit.queries import EventFilters, list_events

    scans = _explain_queryset(list_events(EventFilters())[:50])
    by_actor = _explain_queryset(list_events(EventFilters(actor="user7"))[:50])

    assert _uses(scans, AuditEvent, _index_names(AuditEvent, "at")), scans
    assert _uses(by_actor, AuditEvent, _index_names(AuditEvent, "actor_username", "at")), by_actor


@postgres_only
@pytest.mark.postgres
def test_open_matter_lists_by_deadline_and_the_urgent_queue_use_their_partial_indexes(analysed, dispatcher):
    overdue = queries.list_cases(dispatcher, queries.CaseFilters(only_open=True)).filter(
        due_at__lt=NOW).order_by("due_at", "id")
    urgent = queries.list_cases(dispatcher, queries.CaseFilters(queue="urgent_open"))

    assert _uses(_explain_queryset(overdue[:20]), Case, {"case_open_due"})  # API /cases/overdue
    assert _uses(_explain_queryset(overdue.order_by()), Case, {"case_open_due"})  # … and its count
    assert _uses(_explain_queryset(urgent[:6]), Case, {"case_urgent_open"})  # the workbench queue


@postgres_only
def test_postgresql_connections_run_without_jit_compilation():
    """JIT compiling costs 80-90 ms on list queries at size (docs/scaling.md): yidi's connections turn it off."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
