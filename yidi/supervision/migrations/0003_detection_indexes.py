"""Indexes the risk detection's period queries need on other apps' tables (issue 9, Speed: a county's year ≤ 10 s).

Plain CREATE INDEX IF NOT EXISTS (portable: SQLite and PostgreSQL), not CONCURRENTLY (migrations run in a
transaction); on a live PostgreSQL database with millions of rows, create them CONCURRENTLY by hand first with the
same names, and this migration then does nothing.
"""

from django.db import migrations

INDEXES = (
    # detection.detect_repeats: the contacts of a period (contacted_at range, joined to the county's matters), grouped
    # by person, then the contacts of the people with enough of them; cases_contact had no index on contacted_at.
    ("supervision_contact_contacted",
     "CREATE INDEX IF NOT EXISTS supervision_contact_contacted ON cases_contact (contacted_at, person_id, case_id)"),
)

operations = [
    migrations.RunSQL(sql, reverse_sql=f"DROP INDEX IF EXISTS {name}") for name, sql in INDEXES
]


class Migration(migrations.Migration):
    dependencies = [("supervision", "0002_seed_rules_and_festivals")]
    operations = operations
