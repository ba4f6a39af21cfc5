"""The mediation's steps, who may act, signatures, the judicial-confirmation window and the documents' helpers (no DB)."""

from datetime import date

import pytest

from yidi.accounts.domain import Role
from yidi.cases.domain import CaseStatus
from yidi.mediation.domain import (
    ActorKind,
    IllegalStep,
    MediationAction,
    MediationStatus,
    ObligationState,
    actor_kinds,
    age_on,
    allowed_actions,
    birth_date_from_id,
    check_matter_status,
    denial_reason,
    dispute_subject,
    file_number,
    missing_signers,
    next_status,
    obligation_state,
    place_abbreviation,
    required_signers,
    sex_from_id,
    split_lines,
    window_closed_message,
)

A, S = MediationAction, MediationStatus


@pytest.mark.parametrize(("status", "action", "after"), [
    (None, A.OPEN, S.PREPARING),
    (S.FAILED, A.OPEN, S.PREPARING),
    (S.PREPARING, A.NOTIFY_OTHER_PARTY, S.AWAITING_RESPONSE),
    (S.PREPARING, A.RECORD_CONSENT, S.MEDIATING),
    (S.AWAITING_RESPONSE, A.RECORD_CONSENT, S.MEDIATING),
    (S.AWAITING_RESPONSE, A.RECORD_REFUSAL, S.REFUSED),
    (S.SIGNING, A.RECORD_REFUSAL, S.REFUSED),
    (S.MEDIATING, A.DRAFT_AGREEMENT, S.SIGNING),
    (S.SIGNING, A.DRAFT_AGREEMENT, S.SIGNING),
    (S.SIGNING, A.MAKE_AGREEMENT_EFFECTIVE, S.AGREED),
    (S.MEDIATING, A.RECORD_ORAL_AGREEMENT, S.AGREED),
    (S.MEDIATING, A.RECORD_FAILURE, S.FAILED),
    (S.SIGNING, A.RECORD_FAILURE, S.FAILED),
    (S.MEDIATING, A.RECORD_SESSION, S.MEDIATING),
    (S.AGREED, A.REQUEST_JUDICIAL_CONFIRMATION, S.AGREED),
    (S.FAILED, A.RECORD_RATING, S.FAILED),
])
def test_each_step_of_a_mediation_is_a_row_of_the_tables(status, action, after):
    assert next_status(status, action) == after


@pytest.mark.parametrize(("status", "action", "message"), [
    (S.PREPARING, A.RECORD_SESSION, "调解“准备调解”时不能“登记调解笔录”"),
    (S.MEDIATING, A.MAKE_AGREEMENT_EFFECTIVE, "调解“调解中”时不能“协议生效”"),
    (S.MEDIATING, A.OPEN, "调解“调解中”时不能“建立调解”"),
    (None, A.DESIGNATE, "调解“尚未建立调解”时不能“指定调解员”"),
    (S.REFUSED, A.RECORD_SESSION, "调解“当事人拒绝调解”时不能“登记调解笔录”"),
    (S.MEDIATING, A.RECORD_RATING, "调解“调解中”时不能“登记当事人评价”"),
])
def test_anything_else_is_refused_in_chinese(status, action, message):
    with pytest.raises(IllegalStep) as error:
        next_status(status, action)
    assert str(error.value) == message


def test_the_matter_must_be_in_hand_for_the_process_and_concluded_to_apply_for_confirmation():
    check_matter_status(A.RECORD_SESSION, CaseStatus.IN_PROGRESS)
    check_matter_status(A.REQUEST_JUDICIAL_CONFIRMATION, CaseStatus.CONCLUDED)
    with pytest.raises(IllegalStep, match="事项“已签收”时不能“建立调解”"):
        check_matter_status(A.OPEN, CaseStatus.SIGNED)
    with pytest.raises(IllegalStep, match="事项“履行监督中”时不能“申请司法确认”"):
        check_matter_status(A.REQUEST_JUDICIAL_CONFIRMATION, CaseStatus.PERFORMANCE_MONITORING)


def test_the_page_offers_the_steps_the_status_allows():
    assert allowed_actions(None) == [A.OPEN]
    assert A.NOTIFY_OTHER_PARTY in allowed_actions(S.PREPARING)
    assert A.RECORD_SESSION not in allowed_actions(S.PREPARING)
    assert {A.REQUEST_JUDICIAL_CONFIRMATION, A.ADD_OBLIGATION, A.RECORD_RATING, A.OPEN} <= set(allowed_actions(S.AGREED))


def test_who_stands_where():
    assert actor_kinds(frozenset({Role.MEDIATOR}), in_lead_unit=False, is_designated=True) == {
        ActorKind.DESIGNATED_MEDIATOR}
    assert actor_kinds(frozenset({Role.HANDLER}), in_lead_unit=True, is_designated=False) == {ActorKind.LEAD_UNIT}
    assert actor_kinds(frozenset({Role.HANDLER}), in_lead_unit=False, is_designated=True) == frozenset()
    assert actor_kinds(frozenset({Role.DISPATCHER}), in_lead_unit=False, is_designated=False) == {
        ActorKind.DISPATCHER}
    assert actor_kinds(frozenset({Role.SUPERVISOR}), in_lead_unit=True, is_designated=False) == frozenset()


@pytest.mark.parametrize(("action", "kinds", "reason"), [
    (A.RECORD_SESSION, {ActorKind.DESIGNATED_MEDIATOR}, None),
    (A.RECORD_SESSION, {ActorKind.LEAD_UNIT}, None),
    (A.RECORD_SESSION, {ActorKind.DISPATCHER}, "只有本事项指定的调解员或主办单位可以执行此操作"),
    (A.RECORD_SESSION, set(), "只有本事项指定的调解员或主办单位可以执行此操作"),
    (A.OPEN, {ActorKind.DESIGNATED_MEDIATOR}, "只有主办单位可以建立调解"),
    (A.DESIGNATE, {ActorKind.DISPATCHER}, None),
    (A.DESIGNATE, {ActorKind.DESIGNATED_MEDIATOR}, "只有主办单位或指挥调度员可以指定调解员"),
    (A.RECUSE, {ActorKind.DISPATCHER}, None),
    (A.RECORD_RATING, {ActorKind.INTAKE}, None),
    (A.RECORD_RATING, {ActorKind.LEAD_UNIT, ActorKind.DESIGNATED_MEDIATOR}, "调解员不能登记当事人对本人的评价"),
])
def test_only_the_designated_mediators_or_the_lead_unit_do_the_work(action, kinds, reason):
    assert denial_reason(action, frozenset(kinds)) == reason


def test_an_agreement_needs_every_party_every_mediator_and_the_seal():
    required = required_signers([(7, "陈建国"), (8, "王志强")], [(3, "吴调解")], committee="枫源村人民调解委员会")

    assert [s.key for s in required] == ["party:7", "party:8", "mediator:3", "seal"]
    missing = missing_signers(required, ["party:7", "mediator:3"])
    assert [s.label for s in missing] == ["当事人王志强", "枫源村人民调解委员会（盖章）"]
    assert missing_signers(required, ["seal", "party:8", "party:7", "mediator:3"]) == []


def test_an_application_after_the_window_is_refused_with_the_day_it_closed():
    assert window_closed_message(date(2026, 4, 9), date(2026, 4, 9)) is None
    assert window_closed_message(date(2026, 4, 10), date(2026, 4, 9)) == (
        "申请司法确认的期限已于2026年4月9日届满（调解协议生效之日起30日内），2026年4月10日的申请不能受理")


def test_sex_and_age_come_from_the_id_number():
    assert birth_date_from_id("330681198003150017") == date(1980, 3, 15)
    assert (sex_from_id("330681198003150017"), sex_from_id("330681196401200025")) == ("男", "女")
    assert age_on(date(1980, 3, 15), date(2026, 3, 14)) == 45
    assert age_on(date(1980, 3, 15), date(2026, 3, 15)) == 46
    assert (sex_from_id(""), birth_date_from_id("330681198013450017"), age_on(None, date(2026, 1, 1))) == ("", None, None)


def test_numbers_subjects_and_items_as_the_documents_print_them():
    assert file_number(2026, place_abbreviation("枫源村"), 7) == "（2026）枫源人调字第007号"
    assert [place_abbreviation(n) for n in ("枫桥镇", "暨阳街道", "江东社区", "诸暨市")] == ["枫桥", "暨阳", "江东", "诸暨市"]
    assert dispute_subject("陈建国", "王志强", "邻里") == "陈建国与王志强邻里纠纷"
    assert dispute_subject("陈建国", "", "邻里纠纷") == "陈建国邻里纠纷"
    assert split_lines("1. 三日内赔偿\n（二）十分感谢\n三、清理排水沟\n\n  其余不变") == (
        "三日内赔偿", "十分感谢", "清理排水沟", "其余不变")


@pytest.mark.parametrize(("today", "performed", "records", "state"), [
    (date(2026, 5, 1), False, 0, ObligationState.PENDING),
    (date(2026, 5, 1), False, 1, ObligationState.PARTLY),
    (date(2026, 5, 10), False, 0, ObligationState.PENDING),
    (date(2026, 5, 11), False, 1, ObligationState.OVERDUE),
    (date(2026, 5, 11), True, 1, ObligationState.PERFORMED),
])
def test_an_obligation_is_overdue_after_its_due_day_until_performed(today, performed, records, state):
    assert obligation_state(due_on=date(2026, 5, 10), today=today, performed=performed, records=records) is state


@pytest.mark.parametrize("kind", ["court_filing", "labour_arbitration", "administrative_review", "petition",
                                  "discipline"])
def test_a_hand_off_that_came_back_with_its_outcome_is_not_handed_off_again(kind):
    from yidi.mediation.domain import HandOffKind, HandOffRefused, check_hand_off

    with pytest.raises(HandOffRefused, match="本事项已移送并收到处理结果，不能再次移送"):
        check_hand_off(HandOffKind(kind), outcome="resolved_by_diversion", is_labour=True,
                       received_on=date(2026, 3, 2), today=date(2026, 5, 1))
