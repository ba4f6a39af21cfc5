"""Evaluations at closing: by the person through the portal, or by staff on their behalf; 不满意 reopens by rule."""

from datetime import date

import pytest

from yidi.accounts.access import ActionDenied
from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.domain import CaseStatus, RuleViolation
from yidi.cases.models import Assignment, Case, CaseEvent
from yidi.core import clock
from yidi.evaluation import queries
from yidi.evaluation.actions import do_evaluate_by_citizen
from yidi.evaluation.models import Evaluation, ReturnVisit
from yidi.evaluation.tests.helpers import assert_consecutive, at, full_snapshot, hotline_matter, timeline

pytestmark = pytest.mark.django_db
CLOSED_AT = at(2026, 4, 30, 10, 0)


@pytest.fixture
def closed(registrar, dispatcher, handler):
    return hotline_matter(registrar, dispatcher, handler, when=CLOSED_AT)


def test_citizen_satisfied_is_kept_as_an_online_evaluation(closed, citizen):
    with clock.at(at(2026, 5, 2, 9, 0)):
        case = do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="satisfied")

    assert (case.status, case.evaluation) == (CaseStatus.CLOSED, "satisfied")
    evaluation = Evaluation.objects.get(case=case)
    assert (evaluation.round, evaluation.result, evaluation.method, evaluation.recorded_by, evaluation.on_behalf,
            evaluation.review_state, evaluation.unit.code) == (1, "satisfied", "online", citizen, False, "", "fq-platform")
    event = CaseEvent.objects.get(case=case, action="evaluate")
    assert event.data == {"evaluation": "satisfied", "on_behalf": False, "method": "online"}
    state = queries.evaluation_state(case)
    assert (state["is_open"], state["reason"], state["recorded"]["result_label"]) == (False, "本轮已评价", "满意")


def test_citizen_dissatisfied_reopens_the_matter_for_the_same_lead_unit(closed, citizen):
    before = timeline(closed)
    with clock.at(at(2026, 5, 2, 9, 0)):
        case = do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="dissatisfied", note="路灯还是不亮")

    case.refresh_from_db()
    assert (case.status, case.lead_unit.code, case.closed_at, case.evaluation) == (
        CaseStatus.IN_PROGRESS, "fq-platform", None, "")
    lead = Assignment.objects.get(case=case, role="lead", status="signed")
    assert (lead.unit.code, lead.note) == ("fq-platform", "重办（按评价规则）：群众评价不满意：路灯还是不亮")
    n = before[-1][0]
    assert timeline(case)[len(before):] == [
        (n + 1, "evaluate", str(citizen)),
        (n + 2, "reopen", "系统（评价回访）"),
    ]
    reopen = CaseEvent.objects.get(case=case, action="reopen")
    assert (reopen.reason, reopen.actor, reopen.from_status, reopen.to_status) == (
        "群众评价不满意：路灯还是不亮", None, "closed", "in_progress")
    assert_consecutive(case)
    evaluation = Evaluation.objects.get(case=case)
    assert (evaluation.result, evaluation.note, evaluation.review_state) == ("dissatisfied", "路灯还是不亮", "auto_reopened")
    # The visit of the closed round is cancelled; the matter's next round starts fresh.
    assert list(ReturnVisit.objects.filter(case=case).values_list("status", flat=True)) == ["cancelled"]
    assert queries.current_round(case) == 2


def _close_again(case, *, handler, dispatcher):
    case_actions.do_conclude_case(case.code, actor=handler, outcome="opinion_support")
    return case_actions.do_close_case(case.code, actor=dispatcher)


def test_the_third_dissatisfaction_is_not_reopened_and_waits_for_the_supervisor(
        closed, citizen, handler, dispatcher, registrar, supervisor):
    with clock.at(at(2026, 5, 2, 9, 0)):
        do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="dissatisfied", note="第一次不满意")
        _close_again(closed, handler=handler, dispatcher=dispatcher)
        case_actions.do_evaluate_case(closed.code, actor=registrar, evaluation="dissatisfied", note="第二次不满意",
                                      method="window")
        _close_again(closed, handler=handler, dispatcher=dispatcher)
        case = do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="dissatisfied", note="第三次不满意")

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert list(Evaluation.objects.filter(case=case).values_list("round", "method", "review_state")) == [
        (1, "online", "auto_reopened"), (2, "window", "auto_reopened"), (3, "online", "awaiting")]
    assert CaseEvent.objects.filter(case=case, action="reopen").count() == 2
    assert_consecutive(case)
    awaiting = list(queries.list_dissatisfied(supervisor, "awaiting"))
    assert [(e.case_id, e.round, e.review_note) for e in awaiting] == [
        (case.pk, 3, "已重办2次，达到自动重办上限（2次），待督查研判")]

    # The supervisor reopens from the matter page: it leaves the awaiting list.
    case_actions.do_reopen_case(case.code, actor=supervisor, reason="督查研判：责令重新办理")
    assert list(queries.list_dissatisfied(supervisor, "awaiting")) == []
    assert Evaluation.objects.get(case=case, round=3).review_state == "reopened"


def test_a_second_evaluation_in_the_round_is_refused_and_changes_nothing(closed, citizen, registrar):
    with clock.at(at(2026, 5, 2, 9, 0)):
        do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="basically_satisfied")
    before = full_snapshot(closed)

    with clock.at(at(2026, 5, 3, 9, 0)):
        with pytest.raises(RuleViolation, match="本轮已评价，不能重复评价"):
            do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="dissatisfied", note="改主意了")
        with pytest.raises(RuleViolation, match="本轮已登记群众评价，不能重复评价"):
            case_actions.do_evaluate_case(closed.code, actor=registrar, evaluation="satisfied")

    assert full_snapshot(closed) == before


def test_an_evaluation_after_the_window_is_refused_and_changes_nothing(closed, citizen):
    before = full_snapshot(closed)
    with clock.at(at(2026, 5, 30, 11, 0)), pytest.raises(RuleViolation) as error:
        do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="satisfied")

    assert str(error.value) == "评价期限已过（办结之日起30日内可评价，本事项已于2026年5月30日截止）"
    assert full_snapshot(closed) == before
    with clock.at(at(2026, 5, 30, 11, 0)):
        assert queries.evaluation_state(Case.objects.get(pk=closed.pk))["reason"] == "评价期限已过"


def test_a_matter_still_in_hand_cannot_be_evaluated(registrar, dispatcher, handler, citizen):
    case = hotline_matter(registrar, dispatcher, handler, status=CaseStatus.IN_PROGRESS, when=CLOSED_AT)
    before = full_snapshot(case)
    with pytest.raises(RuleViolation, match="事项当前“办理中”，暂不能评价"):
        do_evaluate_by_citizen(case.code, actor=citizen, evaluation="satisfied")
    assert full_snapshot(case) == before


def test_dissatisfied_without_words_and_a_staff_account_are_refused(closed, citizen, registrar):
    before = full_snapshot(closed)
    with clock.at(at(2026, 5, 3, 9, 0)):
        with pytest.raises(RuleViolation, match="“不满意”须说明具体意见"):
            do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="dissatisfied", note=" ")
        with pytest.raises(ActionDenied):
            do_evaluate_by_citizen(closed.code, actor=registrar, evaluation="satisfied")
    assert full_snapshot(closed) == before


def test_staff_evaluation_on_the_phone_is_recorded_as_on_behalf(registrar, dispatcher, handler):
    case = hotline_matter(registrar, dispatcher, handler, status=CaseStatus.CONCLUDED, when=CLOSED_AT)
    events, audit = CaseEvent.objects.count(), AuditEvent.objects.count()
    with clock.at(at(2026, 5, 2, 9, 0)):
        case = case_actions.do_evaluate_case(case.code, actor=registrar, evaluation="satisfied", method="phone")

    assert case.status == CaseStatus.EVALUATED
    assert (CaseEvent.objects.count() - events, AuditEvent.objects.count() - audit) == (1, 1)
    evaluation = Evaluation.objects.get(case=case)
    assert (evaluation.method, evaluation.recorded_by, evaluation.on_behalf, evaluation.recorded_at.date()) == (
        "phone", registrar, True, date(2026, 5, 2))
