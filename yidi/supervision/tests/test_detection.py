"""Detection on synthetic series with known signals, and deduplication across runs (both databases)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_party
from yidi.supervision.builders import company, register_at, worker
from yidi.supervision.jobs import detect_risks
from yidi.supervision.models import Alert, AlertEvent

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("Asia/Shanghai")
SPIKE_WEEK = date(2026, 3, 2)  # a Monday, far from any Spring Festival season


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def weekly_series(actor, counts: list[int], *, last_week: date = SPIKE_WEEK, type_code: str = "neighbour",
                  region: str = "330681109290") -> None:
    """`counts[i]` matters in week i, the last one being `last_week` (Tuesday … spread over the week)."""
    first = last_week - timedelta(weeks=len(counts) - 1)
    serial = 0
    for index, count in enumerate(counts):
        for n in range(count):
            serial += 1
            register_at(actor, at(first + timedelta(weeks=index, days=1 + n % 5), 9 + n % 8),
                        primary_type_code=type_code, region_code=region, parties=(worker(serial),),
                        address=f"{serial}号")


def test_a_spike_against_the_series_own_baseline_is_raised_with_its_test(registrar):
    weekly_series(registrar, [2, 1, 2, 3, 2, 1, 2, 3, 12])

    result = detect_risks(region="330681", as_of=SPIKE_WEEK + timedelta(days=6), kinds=("spike",))

    assert (result.findings, result.raised) == (1, 1)
    alert = Alert.objects.get()
    assert (alert.kind, alert.status, alert.region_id) == ("spike", "new", "330681109")
    assert alert.measures["count"] == 12
    assert alert.measures["baseline"] == [2, 1, 2, 3, 2, 1, 2, 3]
    assert alert.measures["expected"] == 2.0
    assert alert.measures["p_value"] < 0.001
    assert alert.severity == "red"  # 12 / 2 = 6 ≥ 5
    assert "单侧泊松检验" in alert.reason and "前 8 周每周分别为 2、1、2、3、2、1、2、3 件" in alert.reason
    assert alert.alert_cases.count() == 12
    assert alert.owner_unit.code == "fq-centre"


def test_a_steady_series_and_a_one_off_small_bump_raise_nothing(registrar):
    weekly_series(registrar, [2, 3, 2, 2, 3, 2, 2, 3, 2], type_code="neighbour")
    weekly_series(registrar, [2, 2, 2, 2, 2, 2, 2, 2, 5], type_code="marriage_family", region="330681001001")

    result = detect_risks(region="330681", as_of=SPIKE_WEEK + timedelta(days=6), kinds=("spike",))

    assert result.findings == 0
    assert Alert.objects.count() == 0


def test_weeks_are_local_calendar_weeks_on_both_databases(registrar):
    # Sunday 23:30 in Shanghai is still the baseline week; Monday 00:10 opens the spike week.
    weekly_series(registrar, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    sunday_night = datetime.combine(SPIKE_WEEK - timedelta(days=1), time(23, 30), tzinfo=ZONE)
    monday_morning = datetime.combine(SPIKE_WEEK, time(0, 10), tzinfo=ZONE)
    register_at(registrar, sunday_night, parties=(worker(501),), address="甲")
    for n in range(8):
        register_at(registrar, monday_morning + timedelta(minutes=n), parties=(worker(600 + n),), address="乙")

    detect_risks(region="330681", as_of=SPIKE_WEEK + timedelta(days=6), kinds=("spike",))

    alert = Alert.objects.get()
    assert alert.measures["count"] == 8
    assert alert.measures["baseline"] == [1, 1, 1, 1, 1, 1, 1, 2]


def test_a_week_without_enough_history_is_not_tested(registrar):
    weekly_series(registrar, [1, 12])  # only one earlier week on record: no 8-week baseline

    result = detect_risks(region="330681", as_of=SPIKE_WEEK + timedelta(days=6), kinds=("spike",))

    assert result.findings == 0


def cluster(actor, people: int, *, start: date, respondent=None, first_serial: int = 1, address: str = "枫源村工地"):
    respondent = respondent or company()
    return [
        register_at(actor, at(start + timedelta(days=n % 10), 9 + n % 6), primary_type_code="labour",
                    title="工地拖欠工资", parties=(worker(first_serial + n), respondent),
                    address=f"{address}{n}")  # distinct addresses: the respondent makes the group
        for n in range(people)
    ]


def test_many_complainants_against_one_respondent_raise_one_group_alert(registrar):
    cases = cluster(registrar, 6, start=date(2026, 5, 4))
    cluster(registrar, 4, start=date(2026, 5, 4), respondent=company("另一家公司", "91330681MA2ZZZZZ9Y"),
            first_serial=100)  # below the threshold of 5

    result = detect_risks(region="330681", as_of=date(2026, 5, 14), kinds=("cluster",))

    assert (result.findings, result.raised) == (1, 1)
    alert = Alert.objects.get()
    assert alert.kind == "cluster"
    assert alert.measures == {"people": 6, "matters": 6, "window_days": 14, "key": "respondent"}
    assert sorted(alert.alert_cases.values_list("case_id", flat=True)) == sorted(c.pk for c in cases)
    assert "诸暨市枫华建筑工程有限公司" in alert.title
    assert alert.severity == "yellow"
    assert alert.region_id == "330681109290"


def test_one_matter_brought_by_many_complainants_against_one_respondent_is_a_group(registrar):
    joint = register_at(registrar, at(date(2026, 5, 6)), primary_type_code="labour",
                        parties=(*(worker(n) for n in range(5)), company()), address="工地")
    register_at(registrar, at(date(2026, 5, 6)), primary_type_code="labour",
                parties=(*(worker(n) for n in range(10, 14)), company("另一家公司", "91330681MA2ZZZZZ9Y")),
                address="另一工地")  # four complainants: below the threshold of 5

    result = detect_risks(region="330681", as_of=date(2026, 5, 14), kinds=("cluster",))

    assert (result.findings, result.raised) == (2, 1)  # seen by respondent and by place: one alert
    alert = Alert.objects.get()
    assert alert.measures == {"people": 5, "matters": 1, "window_days": 14, "key": "respondent"}
    assert list(alert.alert_cases.values_list("case_id", flat=True)) == [joint.pk]


def test_one_person_complaining_many_times_is_not_a_group(registrar):
    same = make_party(name="陈建国", id_number="330681198003150017", phone="13805751234")
    for n in range(6):
        register_at(registrar, at(date(2026, 5, 4) + timedelta(days=n)), primary_type_code="labour",
                    parties=(same, company()), address=f"地点{n}")

    result = detect_risks(region="330681", as_of=date(2026, 5, 14), kinds=("cluster",))

    assert result.findings == 0


def test_complainants_at_one_place_raise_a_group_alert(registrar):
    for n in range(5):
        register_at(registrar, at(date(2026, 5, 4) + timedelta(days=n)), primary_type_code="environmental_pollution",
                    parties=(worker(300 + n),), address="枫源村砂石场")

    detect_risks(region="330681", as_of=date(2026, 5, 14), kinds=("cluster",))

    alert = Alert.objects.get()
    assert alert.measures["key"] == "place" and alert.measures["people"] == 5
    assert "枫源村砂石场" in alert.title


def test_a_second_run_adds_new_matters_to_the_open_alert_instead_of_raising_another(registrar):
    cluster(registrar, 5, start=date(2026, 5, 4))
    detect_risks(region="330681", as_of=date(2026, 5, 14), kinds=("cluster",))
    alert = Alert.objects.get()

    again = detect_risks(region="330681", as_of=date(2026, 5, 14), kinds=("cluster",))
    assert (again.raised, again.updated, again.unchanged) == (0, 0, 1)
    assert AlertEvent.objects.filter(alert=alert).count() == 1

    cluster(registrar, 2, start=date(2026, 5, 13), first_serial=50)
    later = detect_risks(region="330681", as_of=date(2026, 5, 15), kinds=("cluster",))

    assert (later.raised, later.updated) == (0, 1)
    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert alert.alert_cases.count() == 7
    assert alert.measures["people"] == 7
    assert list(alert.events.values_list("action", "data__added")) == [("raise", 5), ("add_cases", 2)]
    assert AuditEvent.objects.filter(object_type="alert", object_id=str(alert.pk)).count() == 2


def test_repeat_contacts_by_one_person_are_raised(registrar):
    same = make_party(name="陈建国", id_number="330681198003150017", phone="13805751234")
    for n in range(3):
        register_at(registrar, at(date(2026, 6, 1) + timedelta(days=7 * n)), parties=(same,), address=f"地{n}")

    detect_risks(region="330681", as_of=date(2026, 6, 20), kinds=("repeat",))

    alert = Alert.objects.get()
    assert (alert.kind, alert.measures["contacts"], alert.measures["matters"]) == ("repeat", 3, 3)
    assert "陈建国" not in alert.title and "陈建国" not in alert.reason  # the person's name is masked


FESTIVAL = date(2027, 2, 6)


def labour_matters(actor, count: int, *, first: date, days: int, serial: int) -> None:
    for n in range(count):
        register_at(actor, at(first + timedelta(days=n * days // max(count, 1)), 9 + n % 8),
                    primary_type_code="labour", parties=(worker(serial + n),), address=f"厂{serial + n}")


def test_the_seasonal_rule_fires_before_the_spring_festival_against_earlier_years(registrar):
    # Earlier seasons: 3 wage-arrears matters in the 42 days before each festival; this season 15 in 30 days.
    for serial, festival in ((100, date(2024, 2, 10)), (200, date(2025, 1, 29)), (300, date(2026, 2, 17))):
        labour_matters(registrar, 3, first=festival - timedelta(days=42), days=30, serial=serial)
    labour_matters(registrar, 15, first=FESTIVAL - timedelta(days=42), days=30, serial=400)

    result = detect_risks(region="330681", as_of=FESTIVAL - timedelta(days=12), kinds=("seasonal",))

    assert result.raised == 1
    alert = Alert.objects.get()
    assert alert.kind == "seasonal" and alert.region_id == "330681"
    assert alert.measures["count"] == 15
    assert alert.measures["baseline"] == [3, 3, 3]
    assert alert.measures["festival_on"] == "2027-02-06"
    assert "往年春节前同期" in alert.reason


def test_the_seasonal_rule_does_not_fire_in_a_normal_month(registrar):
    for serial, festival in ((100, date(2025, 1, 29)), (200, date(2026, 2, 17))):
        labour_matters(registrar, 3, first=festival - timedelta(days=40), days=30, serial=serial)
    labour_matters(registrar, 15, first=date(2026, 9, 1), days=25, serial=400)  # the same surge in September

    result = detect_risks(region="330681", as_of=date(2026, 9, 30), kinds=("seasonal",))

    assert result.findings == 0


def test_days_since_counts_local_days_on_both_databases(registrar):
    from yidi.cases.models import Case
    from yidi.supervision.detection import DaysSince, start_of

    moments = [at(date(2026, 5, 4), 0), datetime(2026, 5, 4, 23, 59, 59, 999000, tzinfo=ZONE),
               datetime(2026, 5, 5, 0, 0, tzinfo=ZONE), at(date(2026, 5, 20), 7)]
    cases = [register_at(registrar, moment, address=f"{n}号") for n, moment in enumerate(moments)]
    days = dict(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list(
        "pk", DaysSince("registered_at", start_of(date(2026, 5, 4)))))
    assert [days[c.pk] for c in cases] == [0, 0, 1, 16]
