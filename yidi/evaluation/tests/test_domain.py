"""The pure rules: what an evaluation does to the matter, which return-visit rule applies and when it falls due."""

from datetime import UTC, date, datetime, timedelta

import pytest

from yidi.core.calendar import WorkingCalendar
from yidi.core.deadlines import DayUnit
from yidi.evaluation.domain import (
    ReviewState,
    Trigger,
    VisitFacts,
    VisitRecord,
    VisitRule,
    check_evaluation_input,
    check_visit_record,
    due_on,
    evaluation_window_closes_at,
    reopen_decision,
    select_rule,
    worklist_tab,
)

# 2026 劳动节: 1–5 May off, Saturday 9 May worked (调休).
CALENDAR = WorkingCalendar({date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)}, {date(2026, 5, 9)},
                           covered_years={2026})
HOTLINE = VisitRule(id=1, name="热线", trigger=Trigger.CLOSED, offset_days=1, day_unit=DayUnit.WORKDAYS,
                    channel_group="hotline_12345", priority=10)
AGREEMENT = VisitRule(id=2, name="协议", trigger=Trigger.PERFORMANCE_DUE, offset_days=1,
                      day_unit=DayUnit.CALENDAR_DAYS, handling_mode="mediation", outcome="agreement", priority=20,
                      no_obligation_offset_days=7)
DEFAULT = VisitRule(id=3, name="其他", trigger=Trigger.CLOSED, offset_days=3, day_unit=DayUnit.WORKDAYS, priority=100)
RULES = [DEFAULT, AGREEMENT, HOTLINE]


def test_satisfied_changes_nothing():
    assert reopen_decision("satisfied", "", 0, 2) == reopen_decision("basically_satisfied", "好", 5, 2)
    assert reopen_decision("satisfied", "", 0, 2).review_state == ReviewState.NONE
    assert not reopen_decision("satisfied", "", 0, 2).reopen


def test_dissatisfied_with_a_reason_below_the_limit_reopens_by_rule():
    decision = reopen_decision("dissatisfied", " 问题没有解决 ", 1, 2)
    assert (decision.reopen, decision.review_state, decision.reason) == (
        True, ReviewState.AUTO_REOPENED, "群众评价不满意：问题没有解决")


def test_dissatisfied_at_the_limit_waits_for_the_supervisor():
    decision = reopen_decision("dissatisfied", "问题没有解决", 2, 2)
    assert (decision.reopen, decision.review_state) == (False, ReviewState.AWAITING)
    assert decision.reason == "已重办2次，达到自动重办上限（2次），待督查研判"


def test_dissatisfied_without_a_reason_is_never_reopened_automatically():
    decision = reopen_decision("dissatisfied", "  ", 0, 2)
    assert (decision.reopen, decision.review_state) == (False, ReviewState.AWAITING)


def test_evaluation_input_needs_a_known_result_and_words_for_dissatisfied():
    assert check_evaluation_input("satisfied", "") is None
    assert check_evaluation_input("great", "") == "请选择评价结果（满意、基本满意、不满意）"
    assert check_evaluation_input("dissatisfied", " ") == "“不满意”须说明具体意见"


def test_the_window_runs_from_closing_or_else_from_the_result():
    concluded = datetime(2026, 4, 1, 2, tzinfo=UTC)
    closed = datetime(2026, 4, 10, 2, tzinfo=UTC)
    assert evaluation_window_closes_at(concluded_at=concluded, closed_at=closed, window_days=30) == closed + timedelta(
        days=30)
    assert evaluation_window_closes_at(concluded_at=concluded, closed_at=None, window_days=30) == concluded + timedelta(
        days=30)
    assert evaluation_window_closes_at(concluded_at=None, closed_at=None, window_days=30) is None


def test_a_hotline_matter_gets_the_hotline_rule_even_when_mediated_to_an_agreement():
    facts = VisitFacts(channel_group="hotline_12345", handling_mode="mediation", outcome="written_agreement")
    assert select_rule(facts, RULES) == HOTLINE


def test_a_mediated_agreement_gets_the_performance_rule_and_a_failure_the_default():
    agreed = VisitFacts(channel_group="walk_in", handling_mode="mediation", outcome="oral_agreement")
    failed = VisitFacts(channel_group="walk_in", handling_mode="mediation", outcome="mediation_failed")
    assert select_rule(agreed, RULES) == AGREEMENT
    assert select_rule(failed, RULES) == DEFAULT


def test_at_equal_priority_the_more_specific_rule_wins_and_no_rule_matches_nothing():
    specific = VisitRule(id=9, name="信访", trigger=Trigger.CLOSED, offset_days=5, day_unit=DayUnit.WORKDAYS,
                         channel_group="petition", priority=100)
    facts = VisitFacts(channel_group="petition", handling_mode="petition", outcome="opinion_support")
    assert select_rule(facts, [DEFAULT, specific]) == specific
    assert select_rule(facts, [HOTLINE, AGREEMENT]) is None


def test_one_working_day_after_closing_skips_the_may_day_holiday():
    assert due_on(HOTLINE, event_on=date(2026, 4, 30), calendar=CALENDAR) == date(2026, 5, 6)
    assert due_on(HOTLINE, event_on=date(2026, 5, 8), calendar=CALENDAR) == date(2026, 5, 9)  # 调休 Saturday
    assert due_on(DEFAULT, event_on=date(2026, 4, 29), calendar=CALENDAR) == date(2026, 5, 7)


def test_the_performance_visit_is_the_day_after_the_latest_obligation():
    dates = [date(2026, 6, 10), date(2026, 6, 20), date(2026, 6, 15)]
    assert due_on(AGREEMENT, event_on=date(2026, 5, 20), calendar=CALENDAR, obligation_due_dates=dates,
                  agreement_on=date(2026, 5, 20)) == date(2026, 6, 21)


def test_without_obligations_the_performance_visit_is_seven_days_after_the_agreement():
    assert due_on(AGREEMENT, event_on=date(2026, 5, 22), calendar=CALENDAR,
                  agreement_on=date(2026, 5, 20)) == date(2026, 5, 27)
    assert due_on(AGREEMENT, event_on=date(2026, 5, 22), calendar=CALENDAR) == date(2026, 5, 29)


@pytest.mark.parametrize(("record", "problem"), [
    (VisitRecord(method="fax", summary="x"), ("method", "请选择回访方式")),
    (VisitRecord(method="phone", summary=" "), ("summary", "请填写回访情况")),
    (VisitRecord(method="phone", summary="x", lawsuit="filed_suit"),
     ("lawsuit_note", "请填写起诉、仲裁或信访的情况（受理机关、案号等）")),
    (VisitRecord(method="phone", summary="x", risk_remaining=True), ("risk_signs", "存在风险隐患的，请填写风险迹象")),
    (VisitRecord(method="phone", summary="x", risk_remaining=True, risk_signs="扬言上访"),
     ("measures", "存在风险隐患的，请填写已采取或建议的措施")),
    (VisitRecord(method="phone", summary="x", satisfaction="happy"), ("satisfaction", "请选择满意度")),
    (VisitRecord(method="on_site", summary="已履行", performance="full", satisfaction="satisfied"), None),
])
def test_a_visit_record_needs_its_published_fields(record, problem):
    assert check_visit_record(record) == problem


def test_worklist_tabs():
    today = date(2026, 5, 6)
    assert worklist_tab(today, today, "scheduled") == "today"
    assert worklist_tab(date(2026, 5, 5), today, "scheduled") == "overdue"
    assert worklist_tab(date(2026, 5, 13), today, "scheduled") == "upcoming"
    assert worklist_tab(date(2026, 5, 14), today, "scheduled") == ""
    assert worklist_tab(date(2026, 5, 1), today, "done") == "done"
    assert worklist_tab(today, today, "cancelled") == ""
