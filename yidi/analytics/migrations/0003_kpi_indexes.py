"""Indexes for the KPI engine and the dashboards (issue 9, Speed) on other apps' tables, PostgreSQL only.

They are covering indexes (INCLUDE), so the KPI aggregates of a region run as index-only scans instead of reading
one scattered heap page per matter; SQLite gets none (it serves small installations and the tests). Plain
CREATE INDEX (not CONCURRENTLY: migrations run in a transaction); on a live database with millions of rows, create
them CONCURRENTLY by hand first with the same names, and this migration then does nothing.
"""

from django.db import migrations

# the very lists the queries use (the planner matches a partial index whose condition is the query's own)
_OPEN = "('accepted', 'assigned', 'concluded', 'diverted', 'evaluated', 'in_progress', 'judicial_confirmation', " \
    "'performance_monitoring', 'registered', 'return_visited', 'returned', 'signed')"  # sorted(cases.OPEN_STATUSES)
_SETBACKS = "('return', 'escalate', 'accept_transfer', 'reopen', 'record_petition_request')"  # engine.NOT_FIRST_TIME_ACTIONS

INDEXES = (
    # engine.compute / engine.matters for any KPI of a region, and dashboards.area_rows: the matters of a region code
    # range with every column a KPI condition or a slice filter reads (status, the stage timestamps, outcome,
    # evaluation, type, channel, units, diversion route, deadline state) — an index-only scan of the region.
    ("analytics_case_kpi",
     "CREATE INDEX IF NOT EXISTS analytics_case_kpi ON cases_case (region_id, registered_at) INCLUDE (id, status, "
     "accepted_at, concluded_at, closed_at, outcome, evaluation, primary_type_id, channel_id, lead_unit_id, "
     "registering_unit_id, diversion_route, deadline_state)"),
    # dashboards: the open matters of a region now (当前在办, 超期, 红/黄色预警, 其中在办) without reading the closed ones.
    ("analytics_case_open",
     "CREATE INDEX IF NOT EXISTS analytics_case_open ON cases_case (region_id) INCLUDE (id, registered_at, "
     f"deadline_state, lead_unit_id, primary_type_id, channel_id, status) WHERE status IN {_OPEN}"),
    # the rollup's refresh and the current day's live figures: matters concluded / closed in a time range.
    ("analytics_case_concluded",
     "CREATE INDEX IF NOT EXISTS analytics_case_concluded ON cases_case (concluded_at) WHERE concluded_at IS NOT NULL"),
    ("analytics_case_closed",
     "CREATE INDEX IF NOT EXISTS analytics_case_closed ON cases_case (closed_at) WHERE closed_at IS NOT NULL"),
    # the rollup's incremental refresh: matters changed since the last refresh.
    ("analytics_case_updated", "CREATE INDEX IF NOT EXISTS analytics_case_updated ON cases_case (updated_at)"),
    # engine._clock (及时签收率, 按期办结率): a matter's clock of a stage, probed per matter without the heap.
    ("analytics_deadline_case",
     "CREATE INDEX IF NOT EXISTS analytics_deadline_case ON cases_casedeadline (case_id, stage) "
     "INCLUDE (met_at, due_at, cancelled_at)"),
    # engine._satisfaction (满意率): a matter's evaluations recorded in the period, with their unit and result.
    ("analytics_evaluation_case",
     "CREATE INDEX IF NOT EXISTS analytics_evaluation_case ON evaluation_evaluation (case_id, recorded_at) "
     "INCLUDE (unit_id, result)"),
    # … and the period's evaluations read at once, when the planner hashes them (a county, a long period).
    ("analytics_evaluation_recorded",
     "CREATE INDEX IF NOT EXISTS analytics_evaluation_recorded ON evaluation_evaluation (recorded_at) "
     "INCLUDE (case_id, unit_id, result)"),
    # engine._later_contact (重复来访/来电率, 一次性化解率): a matter's reports after its registration.
    ("analytics_contact_case",
     "CREATE INDEX IF NOT EXISTS analytics_contact_case ON cases_contact (case_id, contacted_at)"),
    # engine.parts("first_time_resolution"): the matters with a setback on their timeline.
    ("analytics_event_setback",
     f"CREATE INDEX IF NOT EXISTS analytics_event_setback ON cases_caseevent (case_id) WHERE action IN {_SETBACKS}"),
    # engine.parts("litigation_per_10k"): a matter's diversions.
    ("analytics_event_divert",
     "CREATE INDEX IF NOT EXISTS analytics_event_divert ON cases_caseevent (case_id, at) WHERE action = 'divert'"),
    # engine.parts("one_place"/"zero_visit"): a matter's visits and their places.
    ("analytics_visit_case", "CREATE INDEX IF NOT EXISTS analytics_visit_case ON cases_visit (case_id, place)"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _name, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_seed_default_scheme"), ("cases", "0014_campaign_events"),
                    ("evaluation", "0002_seed_return_visit_rules")]
    operations = [migrations.RunPython(create, drop)]
