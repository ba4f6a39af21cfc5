"""Indexes found missing by the query-health checks at 1,000,000 matters (issue 10, item 3), PostgreSQL only.

Partial indexes over the open matters (about 9 % of a county's matters after three years), so that the lists of
open matters that are ordered or filtered by something other than the registration time do not sort or filter
every open matter of the county. The status list is the query's own (`sorted(cases.domain.OPEN_STATUSES)`), so
the planner can prove that the query's condition implies the index's. SQLite gets none (small installations).
Plain CREATE INDEX (migrations run in a transaction): on a live database, create them CONCURRENTLY by hand first
with the same names, and this migration then does nothing.
"""

from django.db import migrations

_OPEN = "('accepted', 'assigned', 'concluded', 'diverted', 'evaluated', 'in_progress', 'judicial_confirmation', " \
    "'performance_monitoring', 'registered', 'return_visited', 'returned', 'signed')"  # sorted(OPEN_STATUSES)

INDEXES = (
    # API /cases/overdue (the overdue open matters, earliest deadline first) and its count: an ordered index scan
    # that stops at the page, and an index-only count (region_id for the scope's code range).
    ("case_open_due",
     f"CREATE INDEX IF NOT EXISTS case_open_due ON cases_case (due_at, id) INCLUDE (region_id) WHERE status IN {_OPEN}"),
    # The "红橙预警在办" work queue (cases.queries.queue_filter "urgent_open"): its count and preview on the
    # workbench of every dispatcher, leader and supervisor.
    ("case_urgent_open",
     "CREATE INDEX IF NOT EXISTS case_urgent_open ON cases_case (registered_at) INCLUDE (region_id) "
     f"WHERE grade IN ('red', 'orange') AND status IN {_OPEN}"),
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
    dependencies = [("cases", "0014_campaign_events")]
    operations = [migrations.RunPython(create, drop)]
