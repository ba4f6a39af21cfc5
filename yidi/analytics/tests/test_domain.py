"""KPI values, periods, the assessment score and rankings: pure rules, no database."""

from datetime import date
from decimal import Decimal

import pytest

from yidi.analytics.domain import (
    INSUFFICIENT_SAMPLE,
    KPI_BY_CODE,
    KPIS,
    DeductionItem,
    InvalidSlice,
    PeriodKind,
    RankingRow,
    WeightItem,
    assessment_score,
    kpi_value,
    parse_period,
    rank,
)

TODAY = date(2026, 5, 20)


def test_every_kpi_is_defined_once_with_its_parts_time_basis_and_source():
    codes = [kpi.code for kpi in KPIS]

    assert len(codes) == len(set(codes)) == 17
    for kpi in KPIS:
        assert kpi.name and kpi.numerator and kpi.denominator and kpi.time_basis and kpi.source and kpi.empty_reason


def test_a_zero_denominator_gives_no_value_and_the_reason_never_a_division_error():
    value = kpi_value(KPI_BY_CODE["accept_timely"], 0, 0)

    assert (value.value, value.display, value.reason) == (None, "—", "本期无应受理事项")


def test_rates_are_percentages_rounded_half_up_to_two_places():
    assert kpi_value(KPI_BY_CODE["resolution"], 2, 3).value == Decimal("66.67")
    assert kpi_value(KPI_BY_CODE["resolution"], 1, 8).display == "12.50%"


def test_an_average_is_total_working_days_over_matters_and_per_10k_uses_population():
    assert kpi_value(KPI_BY_CODE["days_total"], 7, 2).value == Decimal("3.50")
    assert kpi_value(KPI_BY_CODE["litigation_per_10k"], 3, 67000).value == Decimal("0.45")


@pytest.mark.parametrize(("token", "starts_on", "ends_on", "kind"), [
    ("", date(2026, 1, 1), date(2026, 12, 31), PeriodKind.YEAR),
    ("2025", date(2025, 1, 1), date(2025, 12, 31), PeriodKind.YEAR),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), PeriodKind.QUARTER),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29), PeriodKind.MONTH),
])
def test_periods_are_parsed_from_year_quarter_and_month(token, starts_on, ends_on, kind):
    period = parse_period(token, today=TODAY)

    assert (period.starts_on, period.ends_on, period.kind) == (starts_on, ends_on, kind)


def test_custom_dates_win_over_the_token_and_the_previous_period_has_the_same_length():
    period = parse_period("2026", starts_on="2026-03-01", ends_on="2026-03-10", today=TODAY)

    assert (period.starts_on, period.ends_on, period.label) == (date(2026, 3, 1), date(2026, 3, 10),
                                                                "2026-03-01至2026-03-10")
    assert (period.previous().starts_on, period.previous().ends_on) == (date(2026, 2, 19), date(2026, 2, 28))
    assert parse_period("2026-Q1", today=TODAY).previous().label == "2025年第4季度"
    assert parse_period("2026-01", today=TODAY).previous().label == "2025年12月"


@pytest.mark.parametrize(("token", "start", "end", "field", "message"), [
    ("2026-13", "", "", "period", "统计期间“2026-13”格式不对，应为 2026、2026-Q1 或 2026-03"),
    ("last year", "", "", "period", "统计期间“last year”格式不对，应为 2026、2026-Q1 或 2026-03"),
    ("", "2026-02-30", "", "from", "日期“2026-02-30”格式不对，应为 YYYY-MM-DD"),
    ("", "2026-03-10", "2026-03-01", "to", "结束日期不能早于开始日期"),
])
def test_bad_periods_are_refused_with_a_specific_message(token, start, end, field, message):
    with pytest.raises(InvalidSlice) as refused:
        parse_period(token, starts_on=start, ends_on=end, today=TODAY)

    assert (refused.value.field, str(refused.value)) == (field, message)


def _values(**rates):
    return {code: kpi_value(KPI_BY_CODE[code], numerator, denominator) for code, (numerator, denominator) in rates.items()}


def test_the_score_earns_rate_times_points_minus_capped_deductions():
    weights = [WeightItem("handle_on_time", Decimal(20)), WeightItem("satisfaction", Decimal(10))]
    deductions = [DeductionItem("overdue_matter", "超期办结事项（件）", Decimal(1), Decimal(3)),
                  DeductionItem("red_urging", "红牌督办（次）", Decimal(2), None)]

    score = assessment_score(weights, _values(handle_on_time=(9, 10), satisfaction=(1, 2)), deductions,
                             {"overdue_matter": 5, "red_urging": 1})

    # 90% × 20 = 18, 50% × 10 = 5; overdue 5 × 1 capped at 3; one red card 2
    assert score.total == Decimal("18.00")
    assert [(line.label, line.points) for line in score.lines] == [
        ("按期办结率", Decimal("18.00")), ("满意率", Decimal("5.00")),
        ("超期办结事项（件）", Decimal(-3)), ("红牌督办（次）", Decimal(-2))]


def test_a_kpi_without_matters_is_left_out_and_the_rest_rescaled_to_full_marks():
    weights = [WeightItem("handle_on_time", Decimal(20)), WeightItem("satisfaction", Decimal(10))]

    score = assessment_score(weights, _values(handle_on_time=(1, 2), satisfaction=(0, 0)), [], {})

    assert score.total == Decimal("15.00")  # 50% × 20 = 10 of 20 counted, rescaled to 30
    assert score.lines[1].points == Decimal(0) and "本期无参评事项" in score.lines[1].detail


def test_lower_is_better_kpis_earn_the_complement_and_the_score_never_goes_below_zero():
    score = assessment_score([WeightItem("repeat_contact", Decimal(10))], _values(repeat_contact=(1, 4)),
                             [DeductionItem("late_sign", "超时签收事项（件）", Decimal(5), None)], {"late_sign": 3})

    assert score.lines[0].points == Decimal("7.50")
    assert score.total == Decimal(0)


def test_ranking_orders_best_first_shares_ties_and_lists_small_units_unranked():
    rows = [RankingRow("a", "甲镇", Decimal(90), 20, Decimal(80)), RankingRow("b", "乙镇", Decimal(95), 30, None),
            RankingRow("c", "丙镇", Decimal(90), 12, Decimal(95)), RankingRow("d", "丁镇", Decimal(100), 3, None),
            RankingRow("e", "戊镇", None, 15, None)]

    ranked = rank(rows, higher_is_better=True, minimum_volume=10)

    assert [(r.key, r.rank, r.excluded_reason) for r in ranked] == [
        ("b", 1, ""), ("a", 2, ""), ("c", 2, ""), ("d", None, INSUFFICIENT_SAMPLE), ("e", None, "")]
    assert (ranked[1].change, ranked[2].change, ranked[0].change) == (Decimal(10), Decimal(-5), None)
