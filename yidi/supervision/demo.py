"""Demo data for the risk brain: a wage-arrears cluster before the Spring Festival in the demo county.

Entry point: `seed_wage_arrears_cluster(until=<the demo's last day>)`, called by the demo seed after the
ordinary matters are in place (it needs the demo registrar `registrar`). It registers 12 workers' complaints
against one construction company at one site in 枫桥镇枫源村, over the 12 days before the latest Spring Festival
season reached by `until` (the one in progress, else the last one), and runs the detection on that day, so the
group-incident alert (and, on a quiet history, the seasonal one) is raised as it would have been then.
Idempotent: a second call finds the matters (by their 12345 reference) and registers nothing more.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from yidi.accounts.models import User
from yidi.cases.builders import make_party
from yidi.cases.models import Contact
from yidi.core import clock
from yidi.supervision.builders import company, id_number, register_at
from yidi.supervision.domain import AlertKind
from yidi.supervision.jobs import detect_risks
from yidi.supervision.models import Alert, AlertCase, SpringFestival

COUNTY = "330681"
VILLAGE = "330681109290"  # 枫桥镇枫源村
SITE = "枫源村安置小区二期工地"
REFERENCE = "DEMO-WAGE-{:02d}"
WORKERS = ["王建平", "李国强", "张卫东", "刘小军", "陈志华", "杨德明", "赵永胜", "黄海涛", "周金龙", "吴保国",
           "徐长青", "孙福生"]
SEASON_DAYS = 42


def festival_for(until: date) -> date | None:
    """The Spring Festival whose pre-festival season `until` is in, or else the last one before `until`."""
    festivals = list(SpringFestival.objects.filter(festival_on__gt=until - timedelta(days=400)).order_by("festival_on")
                     .values_list("festival_on", flat=True))
    candidates = [f for f in festivals if f - timedelta(days=SEASON_DAYS) <= until]
    return candidates[-1] if candidates else None


def seed_wage_arrears_cluster(*, until: date) -> Alert | None:
    festival = festival_for(until)
    if festival is None:
        return None
    last_day = min(until, festival - timedelta(days=5))
    zone = ZoneInfo(settings.TIME_ZONE)
    registrar = User.objects.get(username="registrar")
    employer = company("诸暨市枫华建筑工程有限公司", "91330681MA2BCDEF1X")
    for n, name in enumerate(WORKERS):
        reference = REFERENCE.format(n + 1)
        if Contact.objects.filter(external_ref=reference).exists():
            continue
        day = last_day - timedelta(days=11 - (n * 11) // (len(WORKERS) - 1))
        worker = make_party(name=name, id_number=id_number(700 + n, born="19750315"), phone=f"1396752{n:04d}",
                            address="诸暨市枫桥镇枫源村")
        amount = Decimal(18000 + 2300 * n)
        register_at(
            registrar, datetime.combine(day, time(9 + n % 7, 10 * (n % 6)), tzinfo=zone),
            channel_code="hotline_12345", title=f"{SITE}拖欠{name[0]}某等农民工工资",
            description=(f"来电人{name}反映，其在{SITE}做木工（泥工），枫华建筑工程有限公司拖欠去年至今工资"
                         f"{amount}元，临近春节多次讨要未果，工友十余人情况相同，要求尽快结清。"),
            region_code=VILLAGE, address=SITE, people_involved=1, amount_involved=amount,
            primary_type_code="labour", grade="orange", complexity="complex", parties=(worker, employer),
            in_person=False, external_ref=reference,
        )
    with clock.at(datetime.combine(last_day, time(18), tzinfo=zone)):
        detect_risks(region=COUNTY, as_of=last_day, first_on=last_day - timedelta(days=6),
                     kinds=(AlertKind.CLUSTER, AlertKind.SEASONAL))
    case_ids = Contact.objects.filter(external_ref__startswith="DEMO-WAGE-").values("case_id")
    return (Alert.objects.filter(kind=AlertKind.CLUSTER, pk__in=AlertCase.objects.filter(case_id__in=case_ids)
                                 .values("alert_id")).order_by("detected_at").first())

