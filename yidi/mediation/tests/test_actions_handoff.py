"""Hand-offs (诉调、仲调、访调对接): the package, the status that comes back, the matter waiting (diverted) until
the outcome, the labour-arbitration 15-day rule, the 信访 复查 / 复核 clocks and the no-repeat rule after 复核."""

import io
import zipfile
from datetime import date

import pytest

from yidi.accounts.access import ActionDenied, CaseNotFound
from yidi.cases.actions import do_close_case, do_conclude_case
from yidi.cases.domain import IllegalTransition, InvalidInput, RuleViolation
from yidi.cases.models import Case, CaseDeadline, CaseEvent
from yidi.cases.tests.helpers import Counter, snapshot
from yidi.core import clock
from yidi.mediation import actions, handoffs
from yidi.mediation.builders import advance_mediation
from yidi.mediation.domain import HandOffKind, MediationStatus, PetitionStep, labour_arbitration_possible_on
from yidi.mediation.models import HandOff
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot


def failed(case, mediator, wu):
    advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    actions.do_record_failure(case.code, actor=mediator, reason="双方对赔偿数额分歧过大", routes_told="已告知可以向人民法院起诉")
    return case


def package_files(handoff: HandOff) -> dict[str, str]:
    with handoff.package_file.open("rb") as file, zipfile.ZipFile(io.BytesIO(file.read())) as package:
        return {name: package.read(name).decode() for name in package.namelist() if name.endswith(".txt")}


def test_a_failed_mediation_goes_to_court_waits_and_is_concluded_when_the_court_answers(
    registrar, dispatcher, mediator, wu,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 3, 10, 0)):
        failed(case, mediator, wu)
        counter = Counter()
        handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING,
                                       receiver="诸暨市人民法院", reason="调解不成，当事人坚持起诉")
    assert counter.added() == (1, 1)
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.diversion_route, handoff.status) == ("diverted", "litigation", "sent")
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.action, event.data["kind"], event.data["receiver"]) == ("divert", "court_filing", "诸暨市人民法院")
    files = package_files(handoff)
    assert set(files) == {"事项摘要.txt", "当事人.txt", "材料清单.txt"}
    assert f"事项编码：{case.code}" in files["事项摘要.txt"]
    assert "调解不成原因：双方对赔偿数额分歧过大" in files["事项摘要.txt"]
    assert "申请人：陈建国" in files["当事人.txt"] and "脱敏" not in files["当事人.txt"]  # the court is entitled

    # the matter waits: it cannot be closed before the court's outcome comes back
    with pytest.raises(IllegalTransition):
        do_close_case(case.code, actor=dispatcher)
    with clock.at(at(2026, 3, 5, 10, 0)):
        with pytest.raises(RuleViolation, match="请先登记接收机关已接收"):
            handoffs.do_record_handoff_outcome(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                               decided_on=date(2026, 3, 5), decision="立案受理")
        counter = Counter()
        handoffs.do_record_handoff_receipt(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           received_on=date(2026, 3, 4), reference_number="(2026)浙0681民初123号")
        assert counter.added() == (1, 1)
        counter = Counter()
        handoff = handoffs.do_record_handoff_outcome(case.code, actor=mediator, handoff_id=handoff.pk,
                                                     decided_on=date(2026, 3, 5), decision="已立案受理")
    assert counter.added() == (1, 1)
    assert (handoff.status, handoff.reference_number, handoff.decided_on) == (
        "outcome_recorded", "(2026)浙0681民初123号", date(2026, 3, 5))
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.outcome) == ("concluded", "resolved_by_diversion")
    assert CaseEvent.objects.filter(case=case).latest("seq").action == "record_handoff_outcome"
    do_close_case(case.code, actor=dispatcher)
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_court_filing_before_a_failure_is_refused_and_changes_nothing(registrar, dispatcher, mediator, wu):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    before = mediation_snapshot(case)
    with pytest.raises(RuleViolation, match="调解不成或当事人拒绝调解后"):
        handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver="诸暨市人民法院",
                             reason="当事人要求起诉")
    assert mediation_snapshot(case) == before
    assert not HandOff.objects.exists()


def test_labour_arbitration_is_refused_until_fifteen_days_passed_with_the_date_it_becomes_possible(
    registrar, dispatcher, mediator,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0), primary_type_code="labour")
    assert labour_arbitration_possible_on(date(2026, 3, 2)) == date(2026, 3, 18)
    with clock.at(at(2026, 3, 17, 18, 0)):
        before = mediation_snapshot(case)
        with pytest.raises(RuleViolation, match="本事项自2026年3月18日起可以移送"):
            handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.LABOUR_ARBITRATION,
                                 receiver="诸暨市劳动人事争议仲裁委员会", reason="15日内未达成协议")
        assert mediation_snapshot(case) == before
    with clock.at(at(2026, 3, 18, 9, 0)):
        handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.LABOUR_ARBITRATION,
                                       receiver="诸暨市劳动人事争议仲裁委员会", reason="15日内未达成协议")
    assert (Case.objects.get(pk=case.pk).diversion_route, handoff.status) == ("arbitration", "sent")


def test_labour_arbitration_is_only_for_labour_disputes(registrar, dispatcher, mediator, wu):
    case = failed(matter_in_mediation(registrar, dispatcher, mediator), mediator, wu)
    with pytest.raises(RuleViolation, match="只有劳动争议"):
        handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.LABOUR_ARBITRATION, receiver="仲裁委",
                             reason="调解不成")


def test_petition_package_masks_the_parties_and_the_opinion_starts_the_review_clocks(
    registrar, dispatcher, mediator,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 4, 1, 9, 0))
    with clock.at(at(2026, 4, 1, 10, 0)):
        handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.PETITION,
                                       receiver="诸暨市信访局", reason="申诉求决类，转入信访程序")
        files = package_files(handoff)
        assert "陈建国" in files["当事人.txt"] and "（接收机关未获授权查看完整身份信息，已脱敏）" in files["当事人.txt"]
        assert "13905759876" not in files["当事人.txt"]
        handoffs.do_record_handoff_receipt(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           received_on=date(2026, 4, 1))
    with clock.at(at(2026, 4, 20, 10, 0)):
        with pytest.raises(InvalidInput, match="处理意见"):
            handoffs.do_record_handoff_outcome(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                               decided_on=date(2026, 4, 20), opinion="maybe")
        handoffs.do_record_handoff_outcome(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           decided_on=date(2026, 4, 20), opinion="not_support")
    window = CaseDeadline.objects.get(case=case, stage="review_request")
    assert (window.policy_code, window.limit_days, window.due_at) == ("petition", 30, at(2026, 5, 20, 23, 59, 59))
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.outcome) == ("concluded", "resolved_by_diversion")

    # 复查 asked on the 30th day: accepted; the body's 30 days start
    with clock.at(at(2026, 5, 20, 16, 0)):
        counter = Counter()
        handoffs.do_record_petition_request(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                            step=PetitionStep.REVIEW, requested_on=date(2026, 5, 20))
        assert counter.added() == (1, 1)
    assert CaseDeadline.objects.get(case=case, stage="review_request").met_at is not None
    assert CaseDeadline.objects.get(case=case, stage="review").due_at == at(2026, 6, 19, 23, 59, 59)
    with clock.at(at(2026, 6, 10, 10, 0)):
        handoffs.do_record_petition_answer(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           step=PetitionStep.REVIEW, opinion="not_support",
                                           answered_on=date(2026, 6, 10))
    assert CaseDeadline.objects.get(case=case, stage="recheck_request").due_at == at(2026, 7, 10, 23, 59, 59)

    # 复核 asked on the 31st day: refused with the date the window closed, nothing changes
    with clock.at(at(2026, 7, 11, 10, 0)):
        before = mediation_snapshot(case)
        with pytest.raises(RuleViolation, match="请求复核的期限已于2026年7月10日届满"):
            handoffs.do_record_petition_request(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                                step=PetitionStep.RECHECK, requested_on=date(2026, 7, 11))
        assert mediation_snapshot(case) == before


def test_after_recheck_the_same_persons_matter_of_the_same_type_is_refused_for_the_petition_procedure(
    registrar, dispatcher, mediator,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 4, 1, 9, 0))
    with clock.at(at(2026, 4, 1, 10, 0)):
        handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.PETITION,
                                       receiver="诸暨市信访局", reason="转入信访程序")
        handoffs.do_record_handoff_receipt(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           received_on=date(2026, 4, 1))
        handoffs.do_record_handoff_outcome(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           decided_on=date(2026, 4, 1), opinion="explain")
    with clock.at(at(2026, 6, 1, 10, 0)):
        for step, day in ((PetitionStep.REVIEW, date(2026, 4, 10)), (PetitionStep.RECHECK, date(2026, 5, 10))):
            handoffs.do_record_petition_request(case.code, actor=dispatcher, handoff_id=handoff.pk, step=step,
                                                requested_on=day)
            handoffs.do_record_petition_answer(case.code, actor=dispatcher, handoff_id=handoff.pk, step=step,
                                               opinion="explain", answered_on=day.replace(day=20))
        assert CaseDeadline.objects.get(case=case, stage="recheck").met_at is not None
        again = matter_in_mediation(registrar, dispatcher, mediator)
        assert handoffs.final_petition_code(again) == case.code
        before = mediation_snapshot(again)
        with pytest.raises(RuleViolation, match=f"已在{case.code}中经过复核"):
            handoffs.do_hand_off(again.code, actor=mediator, kind=HandOffKind.PETITION, receiver="诸暨市信访局",
                                 reason="再次信访")
        assert mediation_snapshot(again) == before
        # another route stays open
        handoffs.do_hand_off(again.code, actor=mediator, kind=HandOffKind.ADMINISTRATIVE_REVIEW,
                             receiver="诸暨市人民政府", reason="引导行政复议")


def test_a_court_referral_is_recorded_on_arrival_and_its_result_reported_back(registrar, dispatcher, mediator):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        counter = Counter()
        handoff = handoffs.do_record_court_referral(
            case.code, actor=dispatcher, kind=HandOffKind.COURT_REFERRAL_PRE_FILING, court="诸暨市人民法院",
            received_on=date(2026, 3, 2), reference_number="(2026)浙0681民诉前调100号")
        assert counter.added() == (1, 1)
        handoffs.do_record_handoff_outcome(case.code, actor=dispatcher, handoff_id=handoff.pk,
                                           decided_on=date(2026, 3, 2), decision="已向法院反馈调解进展")
    assert HandOff.objects.get(pk=handoff.pk).status == "outcome_recorded"
    assert Case.objects.get(pk=case.pk).status == "in_progress"
    # the court's limit applies from the acceptance: 委派 30 calendar days
    case = Case.objects.get(pk=case.pk)
    handle = CaseDeadline.objects.get(case=case, stage="handle", met_at=None, cancelled_at=None)
    assert (case.routed_policy, handle.policy_code, handle.due_at) == (
        "court_pre_filing", "court_pre_filing", at(2026, 4, 1, 23, 59, 59))


@pytest.mark.parametrize(("procedure", "policy", "due"), [
    ("ordinary", "court_entrusted_ordinary", (2026, 3, 17, 23, 59, 59)),  # 委托: 15 days
    ("simplified", "court_entrusted_simplified", (2026, 3, 9, 23, 59, 59)),  # 简易程序: 7 days
])
def test_an_entrusted_referral_runs_under_the_courts_limit_for_its_procedure(
    registrar, dispatcher, mediator, procedure, policy, due,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        handoffs.do_record_court_referral(
            case.code, actor=dispatcher, kind=HandOffKind.COURT_REFERRAL_ENTRUSTED, court="诸暨市人民法院",
            received_on=date(2026, 3, 2), reference_number="(2026)浙0681民初200号", procedure=procedure)
    handle = CaseDeadline.objects.get(case=case, stage="handle", met_at=None, cancelled_at=None)
    assert (handle.policy_code, handle.due_at) == (policy, at(*due))
    assert Case.objects.get(pk=case.pk).due_at == handle.due_at
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.action, event.data["policy"]) == ("record_court_referral", policy)


def test_a_handler_of_another_unit_cannot_track_and_an_outsider_gets_not_found(
    registrar, dispatcher, mediator, wu, handler, outsider,
):
    case = failed(matter_in_mediation(registrar, dispatcher, mediator), mediator, wu)
    handoff = handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING,
                                   receiver="诸暨市人民法院", reason="调解不成")
    before = mediation_snapshot(case)
    with pytest.raises(CaseNotFound):
        handoffs.do_record_handoff_receipt(case.code, actor=outsider, handoff_id=handoff.pk,
                                           received_on=date.today())
    with pytest.raises((ActionDenied, CaseNotFound)):
        handoffs.do_record_handoff_receipt(case.code, actor=handler, handoff_id=handoff.pk,
                                           received_on=date.today())
    assert mediation_snapshot(case) == before


def test_the_generic_conclusion_waits_for_an_open_mediation_and_for_the_receiving_body(
    registrar, dispatcher, mediator, wu,
):
    """The matter page's 登记办理结果 cannot bypass the mediation or a hand-off: both record the outcome."""
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 3, 10, 0)):
        mediation = advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    before = snapshot(case)
    with pytest.raises(RuleViolation, match=f"调解（{mediation.number}）尚未结束"):
        do_conclude_case(case.code, actor=mediator, outcome="mediation_failed")
    assert snapshot(case) == before

    with clock.at(at(2026, 3, 3, 11, 0)):
        actions.do_record_failure(case.code, actor=mediator, reason="双方对赔偿数额分歧过大",
                                  routes_told="已告知可以向人民法院起诉")
        handoffs.do_hand_off(case.code, actor=mediator, kind=HandOffKind.COURT_FILING, receiver="诸暨市人民法院",
                             reason="调解不成，当事人坚持起诉")
    before = snapshot(case)
    with pytest.raises(RuleViolation, match="事项已移送诸暨市人民法院，尚未收到处理结果"):
        do_conclude_case(case.code, actor=mediator, outcome="resolved_by_diversion")
    assert snapshot(case) == before
