"""Monthly partitioning (`manage.py partition_tables`, `yidi.core.partitions`).

On PostgreSQL the conversion runs for real on a private cluster holding a copy of the test database (the tables
of the shared test database are never converted): matters are registered over three months, one of them half an
hour before a month ends in Shanghai, then the three tables are converted and the application keeps working on
them. On SQLite the command refuses with its message.
"""

import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from yidi.core import partitions
from yidi.core.tests.test_scaling_replica import PrivateClusters, run_child, why_no_private_cluster


def test_months_are_counted_from_the_first_of_each_month_in_shanghai():
    assert partitions.months_between(date(2025, 11, 30), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert partitions.add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert partitions.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert partitions.month_bound(date(2026, 3, 1)) == "2026-03-01T00:00:00+08:00"
    assert partitions.partition_name("cases_caseevent", date(2026, 3, 1)) == "cases_caseevent_p2026_03"
    assert partitions.partition_name("cases_caseevent", None) == "cases_caseevent_pdefault"
    assert partitions.local_index_name("audit_auditevent_p2026_03", ("chain", "seq")) == \
        "audit_auditevent_p2026_03_chain_seq_uniq"
    assert len(partitions.local_index_name("x" * 80, ("case_id", "seq"))) == 63


@pytest.mark.django_db
def test_partitioning_is_refused_on_sqlite_with_a_clear_message(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite refusal is tested on SQLite")
    with pytest.raises(CommandError, match="按月分区只支持 PostgreSQL，当前数据库是 sqlite"):
        call_command("partition_tables", "--table", "cases_caseevent")


@pytest.mark.django_db
def test_bad_options_are_refused_before_anything_is_read():
    with pytest.raises(CommandError, match="--months-ahead 必须在 0 到 24 之间"):
        call_command("partition_tables", "--months-ahead", "25")
    with pytest.raises(CommandError, match="--batch-size 必须大于 0"):
        call_command("partition_tables", "--batch-size", "0")


# --- the child process --------------------------------------------------------------------------------------------


def partition_scenario() -> None:  # pragma: no cover - runs in the child process
    import io
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import django
    import time_machine

    django.setup()
    from django.db import IntegrityError, connection, transaction
    from django.test.utils import setup_test_environment

    from yidi.accounts.domain import Role
    from yidi.accounts.models import Unit
    from yidi.cases.builders import make_case, make_user
    from yidi.cases.models import CaseEvent, Contact

    setup_test_environment()
    zone = ZoneInfo("Asia/Shanghai")
    today = datetime.now(zone).date()
    this_month = today.replace(day=1)
    first_month = partitions.add_months(this_month, -2)
    registrar = make_user("partition-registrar", Role.REGISTRAR, unit=Unit.objects.get(code="centre"), name="李窗口")
    # half an hour before the first month ends, in Shanghai (15:30 UTC on its last day)
    last_evening = datetime.combine(partitions.add_months(first_month, 1) - timedelta(days=1),
                                    datetime.min.time(), tzinfo=zone) + timedelta(hours=23, minutes=30)
    moments = [datetime.combine(first_month + timedelta(days=9), datetime.min.time(), tzinfo=zone)
               + timedelta(hours=10), last_evening,
               datetime.combine(this_month, datetime.min.time(), tzinfo=zone) + timedelta(hours=9)]
    cases = []
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            cases.append(make_case(registrar, title=f"{moment:%m月%d日}排水沟纠纷"))

    def scalar(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def counts():
        return {table: scalar(f"SELECT count(*) FROM {table}") for table in partitions.SPECS}

    before = counts()
    max_event_id = scalar("SELECT max(id) FROM cases_caseevent")
    out: dict = {"before": before}

    dry = io.StringIO()
    call_command("partition_tables", "--dry-run", stdout=dry)
    out["dry_run"] = {"mentions_create": "CREATE TABLE cases_caseevent__partitioned" in dry.getvalue(),
                      "kinds_after": {t: partitions.relation_kind(connection.cursor(), t) for t in partitions.SPECS}}

    done = io.StringIO()
    call_command("partition_tables", "--batch-size", "2", stdout=done)
    out["stdout"] = done.getvalue()
    cursor = connection.cursor()
    out["kinds"] = {table: partitions.relation_kind(cursor, table) for table in partitions.SPECS}
    out["partitions"] = {table: partitions.existing_partitions(cursor, table) for table in partitions.SPECS}
    out["after"] = counts()
    out["kept"] = {table: scalar(f"SELECT count(*) FROM {table}__unpartitioned") for table in partitions.SPECS}
    boundary_case = cases[1]
    cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM cases_caseevent WHERE case_id = %s",
                   [boundary_case.pk])
    out["boundary_event_partitions"] = [row[0] for row in cursor.fetchall()]
    out["expected_boundary_partition"] = partitions.partition_name("cases_caseevent", first_month)

    new_case = make_case(registrar, title="分区之后登记的纠纷")
    events = list(CaseEvent.objects.filter(case=new_case).order_by("seq"))
    out["new_case"] = {"events": len(events), "ids_continue": min(e.pk for e in events) > max_event_id,
                       "contacts": Contact.objects.filter(case=new_case).count(),
                       "partition": scalar("SELECT tableoid::regclass::text FROM cases_caseevent WHERE id = %s",
                                           [events[0].pk])}
    first = events[0]
    try:
        with transaction.atomic():
            CaseEvent.objects.create(case=new_case, seq=first.seq, action=first.action, at=first.at,
                                     actor_name="重复", data={})
        out["duplicate_seq_refused"] = False
    except IntegrityError:
        out["duplicate_seq_refused"] = True
    refused = {}
    for name, sql in (("update", "UPDATE audit_auditevent SET reason = 'x'"),
                      ("delete", "DELETE FROM audit_auditevent"),
                      ("truncate_partition",
                       f"TRUNCATE {partitions.partition_name('audit_auditevent', this_month)}")):
        try:
            with transaction.atomic():
                cursor.execute(sql)
            refused[name] = False
        except django.db.Error:
            refused[name] = True
    out["audit_changes_refused"] = refused
    verify = io.StringIO()
    call_command("audit_verify", stdout=verify)
    out["audit_verify"] = verify.getvalue().splitlines()[0]

    again = io.StringIO()
    call_command("partition_tables", stdout=again)
    out["again"] = again.getvalue()
    out["ahead"] = partitions.ensure_future_partitions(months_ahead=4, today=today)
    print(json.dumps(out, ensure_ascii=False))


# --- the test on PostgreSQL ---------------------------------------------------------------------------------------


@pytest.fixture
def private_primary(django_db_setup):
    reason = why_no_private_cluster()
    if reason:
        pytest.skip(reason)
    clusters = PrivateClusters()
    try:
        clusters.start_primary()
        clusters.copy_test_database("primary", "yidi")
        yield clusters
    finally:
        clusters.close()


@pytest.mark.django_db  # the test database is set up (and copied into the private cluster)
def test_three_tables_become_monthly_partitions_and_the_application_keeps_working(private_primary):
    seen = run_child("yidi.core.tests.test_scaling_partitions", "partition_scenario", {
        "DATABASE_URL": private_primary.url("primary", "yidi"), "YIDI_DATA_DIR": str(private_primary.root)})

    assert seen["dry_run"]["mentions_create"] is True
    assert seen["dry_run"]["kinds_after"] == dict.fromkeys(partitions.SPECS, "r")  # the dry run changed nothing
    assert seen["kinds"] == dict.fromkeys(partitions.SPECS, "p")
    assert seen["after"] == seen["before"] == seen["kept"]
    assert seen["before"]["cases_caseevent"] >= 3 and seen["before"]["cases_contact"] == 3
    for table, names in seen["partitions"].items():
        months = [name for name in names if not name.endswith("_pdefault")]
        assert len(months) == 6, (table, names)  # two months back, this one, three ahead
        assert f"{table}_pdefault" in names
    assert seen["boundary_event_partitions"] == [seen["expected_boundary_partition"]]
    assert seen["new_case"]["events"] >= 1 and seen["new_case"]["contacts"] == 1
    assert seen["new_case"]["ids_continue"] is True
    assert seen["new_case"]["partition"].startswith("cases_caseevent_p")
    assert seen["duplicate_seq_refused"] is True
    assert seen["audit_changes_refused"] == {"update": True, "delete": True, "truncate_partition": True}
    assert seen["audit_verify"].startswith("审计日志链完好")
    assert seen["again"].count("已是分区表，只补建未来月份的分区") == 3
    assert {table: len(names) for table, names in seen["ahead"].items()} == dict.fromkeys(partitions.SPECS, 1)
