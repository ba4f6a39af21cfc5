"""A run over a period leaves exactly the alerts of one run per day of it (both databases).

The same synthetic county is detected twice, each time inside a transaction rolled back afterwards: once over the
whole period, once day by day; the alerts (kind, fingerprint, severity, matters, and every figure and text) must
be the same, with alerts on record before the runs (an open group alert sharing a matter, a closed alert of a
repeat visitor) taking part in the deduplication.
"""

from datetime import date, timedelta

import pytest
from django.db import transaction

from yidi.cases.builders import make_party
from yidi.supervision.actions import do_record_finding
from yidi.supervision.builders import register_at, worker
from yidi.supervision.domain import AlertKind, Finding, Severity
from yidi.supervision.jobs import DetectionResult, detect_risks
from yidi.supervision.models import Alert, AlertEvent
from yidi.supervision.tests.test_detection import at, cluster, labour_matters, weekly_series

pytestmark = pytest.mark.django_db
FIRST, LAST = date(2026, 1, 26), date(2026, 3, 15)  # the end of the 2026 pre-festival season, and a spike week


def county(registrar) -> dict:
    """Every kind of signal in [FIRST, LAST], windows sliding over several days, severities rising, and alerts on
    record before the runs."""
    weekly_series(registrar, [2, 1, 2, 3, 2, 1, 2, 3, 14], last_week=date(2026, 3, 2))  # a spike in March
    weekly_series(registrar, [1, 2, 1, 2, 1, 2, 1, 2, 1], last_week=date(2026, 3, 9), type_code="marriage_family",
                  region="330681001001")  # steady
    # A respondent group growing past 10 complainants (yellow → orange) over 12 days, all at one site …
    group = cluster(registrar, 12, start=date(2026, 2, 2))
    # … and a place group of 6 (no common respondent) whose first matter is already in an open alert.
    place = [register_at(registrar, at(date(2026, 2, 20) + timedelta(days=n)), primary_type_code="environmental_pollution",
                         parties=(worker(300 + n),), address="枫源村砂石场") for n in range(6)]
    held, _ = do_record_finding(Finding(
        kind=AlertKind.CLUSTER, fingerprint="cluster:earlier", title="群体性苗头：人工核实的砂石场投诉", reason="早先发现",
        severity=Severity.YELLOW, severity_rule="测试", region="330681109290", case_ids=(place[0].pk,),
    ))
    # A repeat visitor: 5 contacts over 40 days; an earlier alert on the first two is closed.
    same = make_party(name="陈建国", id_number="330681198003150017", phone="13805751234")
    visits = [register_at(registrar, at(date(2026, 1, 20) + timedelta(days=9 * n)), parties=(same,),
                          address=f"地{n}") for n in range(5)]
    visitor = f"repeat:person:{visits[0].parties.get().person_id}"
    closed, _ = do_record_finding(Finding(
        kind=AlertKind.REPEAT, fingerprint=visitor, title="重复来访",
        reason="早先发现", severity=Severity.YELLOW, severity_rule="测试", region="330681",
        case_ids=(visits[0].pk, visits[1].pk),
    ))
    Alert.objects.filter(pk=closed.pk).update(status="closed")
    # Wage arrears before the 2026 festival (17 Feb) against three earlier seasons.
    for serial, festival in ((100, date(2023, 1, 22)), (200, date(2024, 2, 10)), (400, date(2025, 1, 29))):
        labour_matters(registrar, 3, first=festival - timedelta(days=42), days=30, serial=serial)
    labour_matters(registrar, 14, first=date(2026, 1, 8), days=30, serial=500)
    return {"group": group, "held": held, "visitor": visitor}


def snapshot() -> list[tuple]:
    return sorted(
        (a.kind, a.fingerprint, a.status, a.severity, a.severity_rule, a.title, a.reason, repr(a.measures),
         a.region_id, a.dispute_type_id, a.period_start_on, a.period_end_on, a.owner_unit_id,
         tuple(sorted(a.alert_cases.values_list("case_id", flat=True))))
        for a in Alert.objects.all()
    )


def rolled_back(run) -> tuple[list[tuple], DetectionResult, int]:
    with transaction.atomic():
        result = run()
        alerts, events = snapshot(), AlertEvent.objects.count()
        transaction.set_rollback(True)
    return alerts, result, events


def day_by_day() -> DetectionResult:
    total = DetectionResult()
    day = FIRST
    while day <= LAST:
        result = detect_risks(region="330681", as_of=day)
        for name in ("findings", "raised", "updated", "unchanged"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        day += timedelta(days=1)
    return total


def test_a_run_over_a_period_leaves_the_alerts_of_one_run_per_day(registrar):
    made = county(registrar)
    before = snapshot()

    once, once_result, once_events = rolled_back(lambda: detect_risks(region="330681", as_of=LAST, first_on=FIRST))
    assert snapshot() == before
    daily, daily_result, daily_events = rolled_back(day_by_day)

    assert once == daily
    assert (once_result.findings, once_result.raised, once_result.updated, once_result.unchanged) == (
        daily_result.findings, daily_result.raised, daily_result.updated, daily_result.unchanged)
    assert once_events < daily_events  # the period's run writes one step per alert, not one per day
    kinds = {alert[0] for alert in once if alert[2] == "new"}
    assert kinds == {"spike", "cluster", "repeat", "seasonal"}  # every detector took part
    by_fingerprint = {alert[1]: alert for alert in once}
    held = by_fingerprint["cluster:earlier"]  # the place group joined the open alert sharing its first matter
    assert len(held[-1]) == 6 and held[3] == "yellow"
    group = [alert for alert in once if alert[1].startswith("cluster:respondent:")]
    assert len(group) == 1 and group[0][3] == "orange"  # 12 complainants ≥ 10
    assert group[0][-1] == tuple(sorted(case.pk for case in made["group"]))
    assert group[0][5].startswith("群体性苗头：5 人")  # named when it was first seen, as the daily run names it
    repeats = [alert for alert in once if alert[1] == made["visitor"]]
    assert [alert[2] for alert in repeats] == ["closed", "new"]  # a new alert: it holds visits the closed one did not


def test_a_second_run_over_the_same_period_changes_nothing(registrar):
    county(registrar)
    first = detect_risks(region="330681", as_of=LAST, first_on=FIRST)
    alerts, events = snapshot(), AlertEvent.objects.count()

    again = detect_risks(region="330681", as_of=LAST, first_on=FIRST)

    assert first.raised > 0
    assert (again.findings, again.raised, again.updated, again.unchanged) == (first.findings, 0, 0, first.findings)
    assert snapshot() == alerts and AlertEvent.objects.count() == events
