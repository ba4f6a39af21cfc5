"""Each KPI's arithmetic on hand-built matters: exact numerators and denominators, the period's and "timely"
boundaries, zero denominators, the slices, and drill-downs that hold exactly the matters counted."""

from decimal import Decimal

import pytest

from yidi.accounts.models import Unit
from yidi.analytics.domain import KPIS, month_period, year_period
from yidi.analytics.engine import Slice, compute, has_matters, matters
from yidi.analytics.models import RegionPopulation
from yidi.analytics.seed import seed_demo_population
from yidi.analytics.tests.builders import accept, at, handled, on, register
from yidi.cases import actions
from yidi.cases.domain import DiversionRoute, HandlingMode, Outcome
from yidi.cases.models import CaseDeadline
from yidi.regions.models import Region

pytestmark = pytest.mark.django_db
COUNTY, FENGQIAO, JIYANG = "330681", "330681109", "330681001"
MARCH = Slice(COUNTY, month_period(2026, 3))


def parts(code: str, s: Slice, **kwargs) -> tuple[Decimal, Decimal, Decimal | None, str]:
    value = compute([code], s, **kwargs)[0]
    return value.numerator, value.denominator, value.value, value.reason


def codes(code: str, part: str, s: Slice, **kwargs) -> set[str]:
    return set(matters(code, part, s, **kwargs).values_list("code", flat=True))


def test_timely_acceptance_counts_decisions_within_one_working_day_and_waiting_matters_past_it(registrar,
                                                                                                dispatcher):
    monday = register(registrar, at(3, 13))  # Friday → accepted Monday: 1 working day
    tuesday = register(registrar, at(3, 13))  # Friday → accepted Tuesday: 2 working days, late
    accept(monday, dispatcher, at(3, 16, 9))
    accept(tuesday, dispatcher, at(3, 17, 9))
    waiting = register(registrar, at(3, 2))  # never decided, far past the limit
    declined = register(registrar, at(3, 10, 9))
    on(at(3, 10, 15), lambda: actions.do_decline_case(declined.code, actor=dispatcher, reason="不属于受理范围",
                                                       route_told="向法院起诉"))
    february = register(registrar, at(2, 28, 23, 59))  # before the period
    accept(february, dispatcher, at(3, 2))
    last_minute = register(registrar, at(3, 31, 23, 59))  # the period's last minute, accepted next day
    accept(last_minute, dispatcher, at(4, 1, 9))
    still_in_time = register(registrar, at(3, 31, 22))  # undecided, but its limit has not passed "now"
    now = at(4, 1, 12)

    assert parts("accept_timely", MARCH, now=now)[:3] == (3, 5, Decimal("60.00"))
    assert codes("accept_timely", "numerator", MARCH, now=now) == {monday.code, declined.code, last_minute.code}
    assert codes("accept_timely", "denominator", MARCH, now=now) == {
        monday.code, tuesday.code, waiting.code, declined.code, last_minute.code}
    assert still_in_time.code not in codes("accept_timely", "denominator", MARCH, now=now)


def test_sign_and_handling_clocks_count_met_at_the_due_instant_as_on_time_and_open_overdue_as_late(
        registrar, dispatcher, handler, fq_platform, jy_platform):
    on_time = register(registrar, at(3, 2, 9))
    accept(on_time, dispatcher, at(3, 2, 9, 30))
    from yidi.analytics.tests.builders import assign, conclude, sign, start

    assign(on_time, dispatcher, fq_platform, at(3, 2, 10))
    sign_due = CaseDeadline.objects.get(case=on_time, stage="sign", met_at__isnull=True).due_at
    sign(on_time, handler, sign_due)  # exactly at the due instant: on time
    start(on_time, handler, sign_due)
    handle_due = CaseDeadline.objects.get(case=on_time, stage="handle", met_at__isnull=True).due_at
    conclude(on_time, handler, handle_due)
    late = register(registrar, at(3, 2, 9))
    accept(late, dispatcher, at(3, 2, 9, 30))
    assign(late, dispatcher, fq_platform, at(3, 2, 10))
    late_due = CaseDeadline.objects.get(case=late, stage="sign", met_at__isnull=True).due_at
    from datetime import timedelta

    sign(late, handler, late_due + timedelta(seconds=1))
    start(late, handler, late_due + timedelta(seconds=1))  # the handling clock stays open past its due date
    year = Slice(COUNTY, year_period(2026))
    now = at(12, 31)

    assert parts("sign_timely", year, now=now)[:3] == (1, 2, Decimal("50.00"))
    assert parts("handle_on_time", year, now=now)[:3] == (1, 2, Decimal("50.00"))
    assert codes("handle_on_time", "numerator", year, now=now) == {on_time.code}
    assert codes("sign_timely", "denominator", year.with_unit(fq_platform.pk), now=now) == {on_time.code, late.code}
    assert parts("sign_timely", year.with_unit(jy_platform.pk), now=now) == (0, 0, None, "本期无应签收事项")


@pytest.fixture
def march(registrar, dispatcher, handler, fq_platform):
    """Three matters of March 2026, registered on Monday 2 March at the window (one visit each, except B)."""
    a = handled(registrar, dispatcher, handler, fq_platform, registered=at(3, 2), accepted=at(3, 3),
                signed=at(3, 3, 11), concluded=at(3, 6), closed=at(3, 9))
    b = handled(registrar, dispatcher, handler, fq_platform, registered=at(3, 2), accepted=at(3, 2, 11),
                signed=at(3, 2, 12), concluded=at(3, 5), closed=at(3, 5, 16), outcome=Outcome.MEDIATION_FAILED,
                in_person=False, channel_code="hotline_12345")
    on(at(3, 4), lambda: actions.do_add_contact(b.code, actor=registrar, channel_code="hotline_12345",
                                                 summary="再次来电催问进度"))
    c = handled(registrar, dispatcher, handler, fq_platform, registered=at(3, 2), accepted=at(3, 2, 11),
                signed=at(3, 2, 12), concluded=at(3, 6), outcome=Outcome.OPINION_SUPPORT,
                mode=HandlingMode.ADMINISTRATIVE, primary_type_code="labour")
    on(at(3, 3), lambda: actions.do_record_visit(c.code, actor=registrar, place="市人力社保局", purpose="补交材料"))
    from yidi.analytics.tests.builders import close, evaluate

    evaluate(c, dispatcher, at(3, 9))
    c = close(c, dispatcher, at(3, 10))
    return a, b, c


@pytest.mark.parametrize(("code", "numerator", "denominator", "value"), [
    ("resolution", {"a", "c"}, {"a", "b", "c"}, "66.67"),
    ("mediation_success", {"a"}, {"a", "b"}, "50.00"),
    ("evaluation_participation", {"c"}, {"a", "b", "c"}, "33.33"),
    ("satisfaction", {"c"}, {"c"}, "100.00"),
    ("repeat_contact", {"b"}, {"a", "b", "c"}, "33.33"),
    ("first_time_resolution", {"a", "c"}, {"a", "b", "c"}, "66.67"),
    ("one_place", {"a", "b"}, {"a", "b", "c"}, "66.67"),
    ("zero_visit", {"b"}, {"a", "b", "c"}, "33.33"),
])
def test_outcome_kpis_count_exactly_the_matters_behind_them(march, code, numerator, denominator, value):
    named = dict(zip("abc", (case.code for case in march), strict=True))

    result = parts(code, MARCH)

    assert result[:3] == (len(numerator), len(denominator), Decimal(value))
    assert codes(code, "numerator", MARCH) == {named[key] for key in numerator}
    assert codes(code, "denominator", MARCH) == {named[key] for key in denominator}


def test_average_stage_times_are_in_working_days_of_the_calendar(march):
    # A: Mon 2 → Tue 3 accepted (1), → Fri 6 concluded (3), → Mon 9 closed (1): 5 in all;
    # B: 0 / 3 / 0 → 3; C: 0 / 4 / 2 → 6 (Mon 2 → Tue 10)
    assert parts("days_accept", MARCH)[:3] == (1, 3, Decimal("0.33"))
    assert parts("days_handle", MARCH)[:3] == (10, 3, Decimal("3.33"))
    assert parts("days_close", MARCH)[:3] == (3, 3, Decimal("1.00"))
    assert parts("days_total", MARCH)[:3] == (14, 3, Decimal("4.67"))


def test_type_channel_and_unit_slices_narrow_the_matters(march, jy_platform):
    _a, b, c = march

    assert codes("resolution", "denominator", Slice(COUNTY, MARCH.period, dispute_type_code="labour")) == {c.code}
    assert codes("resolution", "denominator", Slice(COUNTY, MARCH.period, channel_code="hotline_12345")) == {b.code}
    assert parts("resolution", MARCH.with_unit(jy_platform.pk)) == (0, 0, None, "本期无出结果的事项")
    assert parts("resolution", MARCH.with_region(JIYANG))[:2] == (0, 0)


def test_a_period_without_matters_gives_zeros_and_reasons_never_an_error(march):
    empty = Slice(COUNTY, month_period(2025, 3))

    values = compute([kpi.code for kpi in KPIS], empty)

    assert not has_matters(empty) and has_matters(MARCH)
    assert all(v.numerator == 0 and v.denominator == 0 and v.value is None and v.reason for v in values)


def test_litigation_per_10k_divides_matters_diverted_to_court_by_the_regions_population(
        registrar, dispatcher, handler, fq_platform):
    seed_demo_population(Region, RegionPopulation)
    case = register(registrar, at(3, 2))
    accept(case, dispatcher, at(3, 2, 11))
    from yidi.analytics.tests.builders import assign, sign, start

    assign(case, dispatcher, fq_platform, at(3, 2, 11))
    sign(case, handler, at(3, 2, 12))
    start(case, handler, at(3, 2, 12))
    on(at(3, 5), lambda: actions.do_divert_case(case.code, actor=handler, route=DiversionRoute.LITIGATION,
                                                 reason="调解不成，当事人坚持起诉"))
    year = year_period(2026)
    fengqiao = RegionPopulation.objects.get(region_id=FENGQIAO, year=2026).resident_population
    county = sum(RegionPopulation.objects.filter(year=2026).values_list("resident_population", flat=True))

    assert parts("litigation_per_10k", Slice(FENGQIAO, year)) == (
        1, fengqiao, (Decimal(10000) / fengqiao).quantize(Decimal("0.01")), "")
    assert parts("litigation_per_10k", Slice(COUNTY, year))[1] == county
    assert parts("litigation_per_10k", Slice("330681109290", year))[2:] == (None, "缺少该区划本年度的常住人口数据")
    assert parts("litigation_per_10k", Slice(FENGQIAO, year, unit_id=Unit.objects.get(code="fq-platform").pk))[3] == (
        "按区划常住人口计算，选择单位时不适用")
    assert codes("litigation_per_10k", "numerator", Slice(FENGQIAO, year)) == {case.code}
    assert not matters("litigation_per_10k", "denominator", Slice(FENGQIAO, year)).exists()
