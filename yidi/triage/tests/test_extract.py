from datetime import date
from decimal import Decimal

import pytest

from yidi.triage.engine.extract import (
    extract,
    find_amounts,
    find_dates,
    find_id_numbers,
    find_mobiles,
    find_people,
    is_valid_id_number,
)
from yidi.triage.engine.numerals import parse_number

REFERENCE = date(2026, 3, 10)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "value", "approximate"),
    [
        ("三十", 30, False),
        ("两千五百", 2500, False),
        ("两千五", 2500, False),
        ("一百零五", 105, False),
        ("十二万", 120000, False),
        ("一万二", 12000, False),
        ("1.2万", 12000, False),
        ("3,000", 3000, False),
        ("三亿五千万", 350000000, False),
        ("壹万贰仟", 12000, False),
        ("二〇二六", 2026, False),
        ("十几", 10, True),
        ("几十", 20, True),
        ("上百", 100, True),
        ("二三十", 20, True),
    ],
)
def test_numerals_are_parsed_to_exact_values(text, value, approximate):
    assert parse_number(text) == (Decimal(value), approximate)


@pytest.mark.parametrize(
    ("text", "span_text", "value", "approximate", "unit"),
    [
        ("有三十多名工人来讨薪", "三十多名工人", 30, True, "人"),
        ("涉及20余户村民", "20余户", 20, True, "户"),
        ("现场5人受伤", "5人", 5, False, "人"),
        ("十几个村民围观", "十几个村民", 10, True, "人"),
        ("上百名群众聚集", "上百名群众", 100, True, "人"),
        ("二三十人在门口", "二三十人", 20, True, "人"),
    ],
)
def test_people_counts_are_extracted_with_their_span(text, span_text, value, approximate, unit):
    (found,) = find_people(text)
    assert (found.text, found.value, found.approximate, found.unit) == (span_text, value, approximate, unit)
    assert text[found.start : found.end] == span_text


def test_people_counts_skip_legal_third_party_and_money():
    assert find_people("第三人未到场，支付人民币500元") == []


@pytest.mark.parametrize(
    ("text", "span_text", "value", "approximate"),
    [
        ("拖欠货款12万元", "12万元", "120000", False),
        ("借了十二万没还", "十二万", "120000", False),
        ("利息1.2万", "1.2万", "12000", False),
        ("押金3000块", "3000块", "3000", False),
        ("医药费两千五百元", "两千五百元", "2500", False),
        ("损失5万余元", "5万余元", "50000", True),
        ("赔偿人民币8000", "人民币8000", "8000", False),
        ("十多万元", "十多万元", "100000", True),
    ],
)
def test_amounts_are_extracted_in_yuan(text, span_text, value, approximate):
    (found,) = find_amounts(text)
    assert (found.text, found.value, found.approximate) == (span_text, Decimal(value), approximate)


def test_counted_things_and_idioms_are_not_amounts():
    assert find_amounts("占地12万平方米，我们一块去，他有一块地") == []


@pytest.mark.parametrize(
    ("text", "start_on", "end_on", "precision"),
    [
        ("2026年3月5日", date(2026, 3, 5), date(2026, 3, 5), "day"),
        ("二〇二五年十二月一日", date(2025, 12, 1), date(2025, 12, 1), "day"),
        ("2025-11-30", date(2025, 11, 30), date(2025, 11, 30), "day"),
        ("2025年7月", date(2025, 7, 1), date(2025, 7, 31), "month"),
        ("3月5日", date(2026, 3, 5), date(2026, 3, 5), "day"),
        ("12月3日", date(2025, 12, 3), date(2025, 12, 3), "day"),
        ("昨天", date(2026, 3, 9), date(2026, 3, 9), "day"),
        ("上周三", date(2026, 3, 4), date(2026, 3, 4), "day"),
        ("上周", date(2026, 3, 2), date(2026, 3, 8), "range"),
        ("3天前", date(2026, 3, 7), date(2026, 3, 7), "day"),
        ("上个月", date(2026, 2, 1), date(2026, 2, 28), "month"),
        ("去年10月", date(2025, 10, 1), date(2025, 10, 31), "month"),
        ("去年腊月", date(2026, 1, 18), date(2026, 2, 16), "range"),
        ("春节前", date(2026, 1, 18), date(2026, 2, 16), "range"),
    ],
)
def test_dates_are_resolved_against_the_reference_day(text, start_on, end_on, precision):
    (found,) = find_dates(f"于{text}发生", reference_on=REFERENCE)
    assert (found.text, found.start_on, found.end_on, found.precision) == (text, start_on, end_on, precision)


def test_month_day_dates_without_reference_keep_no_year():
    (found,) = find_dates("3月5日下午")
    assert (found.start_on, found.relative) == (None, False)


def test_a_full_date_is_not_also_reported_as_a_month_day():
    assert [d.text for d in find_dates("2026年3月5日和3月6日", reference_on=REFERENCE)] == [
        "2026年3月5日",
        "3月6日",
    ]


def test_id_numbers_need_a_valid_checksum():
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")
    found = find_id_numbers("身份证11010519491231002X，另一个110105194912310021")
    assert [(i.start, i.end, i.value) for i in found] == [(3, 21, "11010519491231002X")]


def test_mobile_numbers_are_found_but_not_inside_longer_digit_runs():
    found = find_mobiles("电话13812345678，或138-1234-5678，账号613812345678，座机0575-87012345")
    assert [(m.text, m.value) for m in found] == [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
    ]


def test_full_width_digits_are_read_and_spans_point_into_the_original_text():
    text = "拖欠１２万元，电话１３８１２３４５６７８"
    facts = extract(text)
    assert facts.amounts[0].text == "１２万元"
    assert facts.amounts[0].value == Decimal(120000)
    assert text[facts.mobiles[0].start : facts.mobiles[0].end] == "１３８１２３４５６７８"


def test_places_of_the_county_are_matched_to_region_codes():
    facts = extract("枫桥镇枫源村村民与店口镇一家工厂", county_code="330681")
    assert [(p.text, p.code, p.level, p.township_code) for p in facts.places] == [
        ("枫桥镇", "330681109", "township", "330681109"),
        ("枫源村", "330681109290", "village", "330681109"),
        ("店口镇", "330681104", "township", "330681104"),
    ]


def test_places_are_not_matched_without_a_county():
    assert extract("枫桥镇枫源村").places == ()


def test_facts_summarise_people_amount_and_day():
    facts = extract("2026年1月5日，三十多名工人被拖欠工资48万元", reference_on=REFERENCE)
    summary = facts.to_dict()
    assert (summary["people_involved"], summary["amount_involved"], summary["occurred_on"]) == (
        30,
        "480000",
        "2026-01-05",
    )
    assert facts.sensitive_spans() == []
