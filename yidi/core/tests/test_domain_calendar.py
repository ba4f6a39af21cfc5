"""The working calendar: 调休 arithmetic, coverage warnings, unit overrides and the CSV loader (no DB)."""

import importlib.util
from datetime import date, timedelta
from pathlib import Path

import pytest

from yidi.core.calendar import (
    DEFAULT_CALENDAR_PATH,
    CalendarDataError,
    WorkingCalendar,
    default_calendar,
    load_calendar_csv,
)

HEADER = "date,kind,name,source\n"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- Spring Festival -----------------------------------------------------------------------------------


def test_spring_festival_2025_is_off_from_28_january_to_4_february_with_two_make_up_weekend_days():
    calendar = default_calendar()

    off = [d for d in days(date(2025, 1, 26), date(2025, 2, 8)) if not calendar.is_workday(d)]

    assert off == days(date(2025, 1, 28), date(2025, 2, 4))
    assert calendar.is_workday(date(2025, 1, 26))  # Sunday, 调休上班
    assert calendar.is_workday(date(2025, 2, 8))  # Saturday, 调休上班
    assert not calendar.is_workday(date(2025, 1, 25))  # an ordinary Saturday
    assert not calendar.is_workday(date(2025, 2, 9))  # an ordinary Sunday


def test_one_working_day_after_the_friday_before_spring_festival_2025_is_the_make_up_sunday():
    calendar = default_calendar()

    assert calendar.add_workdays(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert calendar.add_workdays(date(2025, 1, 24), 2) == date(2025, 1, 27)
    assert calendar.add_workdays(date(2025, 1, 24), 3) == date(2025, 2, 5)


def test_thirteen_working_days_across_spring_festival_2026_count_both_make_up_saturdays():
    calendar = default_calendar()
    # Feb 11, 12, 13, 14 (Sat, 调休), [15–23 off], 24, 25, 26, 27, 28 (Sat, 调休), Mar 2, 3, 4, 5

    due = calendar.add_workdays(date(2026, 2, 10), 13)

    assert due == date(2026, 3, 5)
    assert calendar.is_workday(date(2026, 2, 14))
    assert calendar.is_workday(date(2026, 2, 28))
    assert [d for d in days(date(2026, 2, 15), date(2026, 2, 23)) if calendar.is_workday(d)] == []


# --- National Day --------------------------------------------------------------------------------------


def test_national_day_2024_skips_the_golden_week_and_counts_the_make_up_sunday_and_saturday():
    calendar = default_calendar()

    assert calendar.add_workdays(date(2024, 9, 27), 1) == date(2024, 9, 29)  # Sunday 调休上班
    assert calendar.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert calendar.is_workday(date(2024, 10, 12))  # Saturday 调休上班
    assert calendar.workdays_between(date(2024, 9, 30), date(2024, 10, 12)) == 5  # Oct 8, 9, 10, 11, 12


def test_national_day_2025_eight_days_off_with_make_up_days_on_28_september_and_11_october():
    calendar = default_calendar()

    assert calendar.add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert calendar.workdays_between(date(2025, 9, 26), date(2025, 10, 12)) == 6  # 28, 29, 30, 9, 10, 11
    assert calendar.add_workdays(date(2025, 9, 24), 13) == date(2025, 10, 17)


# --- arithmetic rules ----------------------------------------------------------------------------------


def test_counting_crosses_the_year_boundary_into_the_2026_new_year_make_up_sunday():
    calendar = default_calendar()

    assert calendar.add_workdays(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert calendar.workdays_between(date(2025, 12, 30), date(2026, 1, 5)) == 3  # Dec 31, Jan 4, Jan 5


def test_adding_zero_working_days_gives_the_start_day_even_on_a_holiday():
    calendar = default_calendar()

    assert calendar.add_workdays(date(2025, 10, 3), 0) == date(2025, 10, 3)


def test_adding_negative_working_days_is_refused():
    with pytest.raises(ValueError):
        default_calendar().add_workdays(date(2025, 10, 3), -1)


def test_working_days_between_is_negative_when_the_end_is_before_the_start():
    calendar = default_calendar()

    assert calendar.workdays_between(date(2025, 10, 12), date(2025, 9, 26)) == -6
    assert calendar.workdays_between(date(2025, 10, 3), date(2025, 10, 3)) == 0


def test_working_days_between_undoes_add_workdays_on_every_day_of_2024_to_2026():
    calendar = default_calendar()

    mismatches = [
        (d, n)
        for d in days(date(2024, 1, 1), date(2026, 12, 31))
        for n in (0, 1, 3, 13)
        if calendar.workdays_between(d, calendar.add_workdays(d, n)) != n
    ]

    assert mismatches == []


def test_subtract_workdays_gives_the_first_day_with_at_most_n_working_days_left():
    calendar = default_calendar()

    assert calendar.subtract_workdays(date(2025, 10, 13), 0) == date(2025, 10, 13)
    assert calendar.subtract_workdays(date(2025, 10, 13), 1) == date(2025, 10, 11)  # make-up Saturday
    assert calendar.subtract_workdays(date(2025, 10, 9), 1) == date(2025, 9, 30)  # across National Day
    assert calendar.subtract_workdays(date(2025, 10, 13), 1) - timedelta(days=1) == date(2025, 10, 10)
    assert calendar.workdays_between(date(2025, 10, 10), date(2025, 10, 13)) == 2


# --- coverage ------------------------------------------------------------------------------------------


def test_a_year_without_data_falls_back_to_weekends_only_and_is_reported_missing():
    calendar = default_calendar()

    assert calendar.is_covered(2026)
    assert not calendar.is_covered(2027)
    assert calendar.missing_years(range(2025, 2029)) == [2027, 2028]
    # Spring Festival 2027 is not in the data: the days after are plain weekdays.
    assert calendar.add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 8)
    assert calendar.is_workday(date(2027, 2, 8))


def test_the_coverage_warning_names_the_missing_years_in_chinese():
    calendar = default_calendar()

    assert calendar.coverage_warning([2026, 2027, 2028]) == (
        "工作日历缺少 2027 年、2028 年的节假日与调休数据，已按仅周末休息计算，请管理员补录。"
    )
    assert calendar.coverage_warning(range(2020, 2027)) is None


# --- unit overrides (特色日历) --------------------------------------------------------------------------


def test_a_unit_override_adds_its_own_days_off_and_working_days_without_changing_the_base():
    base = default_calendar()

    unit = base.with_overrides(
        extra_holidays=[date(2025, 6, 3), date(2025, 10, 11)],  # a weekday off; a base make-up Saturday off
        extra_workdays=[date(2025, 6, 7), date(2025, 10, 8)],  # a Saturday on; a base holiday on
    )

    assert [unit.is_workday(d) for d in (date(2025, 6, 3), date(2025, 10, 11))] == [False, False]
    assert [unit.is_workday(d) for d in (date(2025, 6, 7), date(2025, 10, 8))] == [True, True]
    assert [base.is_workday(d) for d in (date(2025, 6, 3), date(2025, 10, 11))] == [True, True]
    assert [base.is_workday(d) for d in (date(2025, 6, 7), date(2025, 10, 8))] == [False, False]
    assert unit.covered_years == base.covered_years
    assert unit.add_workdays(date(2025, 9, 30), 1) == date(2025, 10, 8)


def test_an_override_date_cannot_be_both_off_and_working():
    with pytest.raises(ValueError, match="2025, 6, 3"):
        default_calendar().with_overrides([date(2025, 6, 3)], [date(2025, 6, 3)])


def test_a_calendar_built_in_code_accepts_any_iterables_and_is_hashable():
    calendar = WorkingCalendar([date(2030, 1, 1)], {date(2030, 1, 5)}, covered_years=range(2030, 2031))

    assert calendar.covered_years == frozenset({2030})
    assert not calendar.is_workday(date(2030, 1, 1))
    assert calendar.is_workday(date(2030, 1, 5))
    assert hash(calendar) == hash(
        WorkingCalendar([date(2030, 1, 1)], [date(2030, 1, 5)], covered_years=[2030])
    )


# --- the CSV -------------------------------------------------------------------------------------------


def test_the_shipped_csv_covers_2020_to_2026_with_155_holidays_and_46_make_up_days():
    calendar = load_calendar_csv(DEFAULT_CALENDAR_PATH)

    assert calendar.covered_years == frozenset(range(2020, 2027))
    assert len(calendar.holidays) == 155
    assert len(calendar.makeup_workdays) == 46
    assert all(d.weekday() >= 5 for d in calendar.makeup_workdays)


def test_the_shipped_csv_names_its_sources_and_their_versions():
    head = DEFAULT_CALENDAR_PATH.read_text(encoding="utf-8").splitlines()[:4]

    assert head[2].startswith("# Source: holidays ")
    assert "cross-checked day by day against chinesecalendar " in head[2]
    assert head[3] == "# covered_years: 2020-2026"


def test_the_shipped_csv_is_what_the_build_tool_produces_from_holidays_and_chinesecalendar():
    pytest.importorskip("holidays")
    pytest.importorskip("chinese_calendar")
    path = Path(__file__).resolve().parents[3] / "tools" / "build_calendar.py"
    spec = importlib.util.spec_from_file_location("build_calendar", path)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    rows, disagreements = tool.build_rows(2020, 2026)

    assert disagreements == []
    assert tool.render(rows, 2020, 2026) == DEFAULT_CALENDAR_PATH.read_text(encoding="utf-8")


def test_a_csv_without_a_covered_years_line_covers_the_years_it_has_rows_for(tmp_path):
    path = tmp_path / "cal.csv"
    path.write_text(
        HEADER + "2030-01-01,holiday,元旦,test\n2031-01-04,workday,调休上班,test\n", encoding="utf-8"
    )

    calendar = load_calendar_csv(path)

    assert calendar.covered_years == frozenset({2030, 2031})
    assert calendar.holidays == frozenset({date(2030, 1, 1)})
    assert calendar.makeup_workdays == frozenset({date(2031, 1, 4)})


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (HEADER + "2030-13-01,holiday,元旦,test\n", ":2: bad date '2030-13-01'"),
        (HEADER + "2030-01-01,vacation,元旦,test\n", ":2: bad kind 'vacation'"),
        (HEADER + "2030-01-01,holiday,元旦\n", ":2: expected 4 fields"),
        (HEADER + "2030-01-02,workday,调休,test\n", ":2: workday 2030-01-02 is a weekday"),
        (
            HEADER + "2030-01-01,holiday,元旦,test\n2030-01-01,holiday,元旦,test\n",
            ":3: date 2030-01-01 appears twice",
        ),
        (HEADER + "2030-01-01,holiday,,test\n", ":2: empty name"),
        ("day,kind,name,source\n", ":1: expected header"),
        ("# covered_years: 2031-2031\n" + HEADER + "2030-01-01,holiday,元旦,test\n", "outside covered_years"),
        ("# only a comment\n", "no header line"),
    ],
    ids=[
        "bad-date",
        "bad-kind",
        "missing-field",
        "weekday-workday",
        "duplicate",
        "no-name",
        "bad-header",
        "outside-years",
        "empty",
    ],
)
def test_a_malformed_csv_row_is_refused_with_the_file_and_line(tmp_path, content, error):
    path = tmp_path / "cal.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CalendarDataError) as excinfo:
        load_calendar_csv(path)

    assert str(excinfo.value).startswith(str(path))
    assert error in str(excinfo.value)
