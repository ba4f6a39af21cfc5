"""The written agreement: signatures, taking effect, the 30-day window to apply for judicial confirmation (a clock on
the matter) and the court's acceptance and ruling."""

from datetime import date

import pytest

from yidi.cases import actions as case_actions
from yidi.cases.domain import InvalidInput, RuleViolation
from yidi.cases.models import Case, CaseDeadline, CaseEvent
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.mediation import actions
from yidi.mediation.builders import AGREEMENT, advance_mediation, parties
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import AgreementSignature, JudicialConfirmation, Mediation
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot


def signing(case, actor, wu):
    return advance_mediation(case, MediationStatus.SIGNING, actor=actor, mediator=wu)


def test_drafting_the_agreement_keeps_its_content_and_waits_for_signatures(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    counter = Counter()
    agreement = actions.do_draft_agreement(in_mediation.code, actor=mediator, content=AGREEMENT)
    assert counter.added() == (1, 1)
    assert (agreement.form, agreement.effective_at, len(agreement.term_list)) == ("written", None, 3)
    assert Mediation.objects.get(case=in_mediation).status == "signing"
    assert Case.objects.get(pk=in_mediation.pk).status == "in_progress"


def test_an_agreement_missing_its_performance_terms_is_refused(in_mediation, mediator, wu):
    from dataclasses import replace

    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    before = mediation_snapshot(in_mediation)
    with pytest.raises(InvalidInput) as error:
        actions.do_draft_agreement(in_mediation.code, actor=mediator,
                                   content=replace(AGREEMENT, performance_place=""))
    assert (error.value.field, str(error.value)) == ("performance_place", "请填写履行地点")
    assert mediation_snapshot(in_mediation) == before


def test_an_agreement_is_not_effective_until_everyone_has_signed_and_the_refusal_names_who(in_mediation, mediator, wu):
    signing(in_mediation, mediator, wu)
    applicant, _ = parties(in_mediation)
    actions.do_record_signatures(in_mediation.code, actor=mediator, signer_keys=[f"party:{applicant.pk}"])
    before = mediation_snapshot(in_mediation)

    with pytest.raises(RuleViolation) as error:
        actions.do_make_agreement_effective(in_mediation.code, actor=mediator)

    assert str(error.value) == "以下各方尚未签名（盖章），协议不能生效：当事人王志强、调解员吴调解、枫源村人民调解委员会（盖章）"
    assert mediation_snapshot(in_mediation) == before


def test_signatures_are_recorded_once_each_and_only_for_required_signers(in_mediation, mediator, wu):
    signing(in_mediation, mediator, wu)
    applicant, _ = parties(in_mediation)
    counter = Counter()
    actions.do_record_signatures(in_mediation.code, actor=mediator, signer_keys=[f"party:{applicant.pk}", "seal"])
    assert counter.added() == (1, 1)
    assert CaseEvent.objects.filter(case=in_mediation).latest("seq").data["signed"] == [
        "当事人陈建国", "枫源村人民调解委员会（盖章）"]
    with pytest.raises(InvalidInput, match="请勾选新签名（盖章）的各方"):
        actions.do_record_signatures(in_mediation.code, actor=mediator, signer_keys=["seal"])
    with pytest.raises(InvalidInput, match="所选签署方不是本协议的当事人、调解员或调解委员会"):
        actions.do_record_signatures(in_mediation.code, actor=mediator, signer_keys=["party:99999"])


def test_a_revised_draft_clears_the_signatures(in_mediation, mediator, wu):
    signing(in_mediation, mediator, wu)
    actions.do_record_signatures(in_mediation.code, actor=mediator, signer_keys=["seal"])
    actions.do_draft_agreement(in_mediation.code, actor=mediator, content=AGREEMENT)
    assert not AgreementSignature.objects.exists()


def test_the_effective_agreement_concludes_the_matter_and_starts_an_exact_30_day_window(
    registrar, dispatcher, mediator, wu,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 10, 15, 0)):
        signing(case, mediator, wu)
        applicant, respondent = parties(case)
        actions.do_record_signatures(case.code, actor=mediator, signer_keys=[
            f"party:{applicant.pk}", f"party:{respondent.pk}", f"mediator:{wu.pk}", "seal"])
        counter = Counter()
        agreement = actions.do_make_agreement_effective(case.code, actor=mediator)

    assert counter.added() == (2, 2)  # and the return visit scheduled by `yidi.evaluation`
    assert agreement.effective_at == at(2026, 3, 10, 15, 0)
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.outcome) == ("concluded", "written_agreement")
    window = CaseDeadline.objects.get(case=case, stage="judicial_confirmation")
    assert (window.policy_code, window.limit_days, window.day_unit) == ("people_mediation", 30, "calendar_days")
    assert window.due_at == at(2026, 4, 9, 23, 59, 59)  # 10 March + 30 calendar days, the start day not counted
    assert case.due_at == CaseDeadline.objects.get(case=case, stage="verify").due_at  # the unit's own clock
    event = CaseEvent.objects.filter(case=case, action="make_agreement_effective").latest("seq")
    assert (event.action, event.from_status, event.to_status) == ("make_agreement_effective", "in_progress",
                                                                  "concluded")


def effective_on_10_march(registrar, dispatcher, mediator, wu) -> Case:
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 10, 15, 0)):
        advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
    return case


def test_an_application_within_the_window_moves_the_matter_to_judicial_confirmation(registrar, dispatcher, mediator,
                                                                                   wu):
    case = effective_on_10_march(registrar, dispatcher, mediator, wu)
    counter = Counter()
    with clock.at(at(2026, 4, 9, 16, 0)):  # the last day of the window
        confirmation = actions.do_request_judicial_confirmation(case.code, actor=mediator, court="诸暨市人民法院",
                                                                applied_on=date(2026, 4, 9))
    assert counter.added() == (1, 1)
    assert (confirmation.court, confirmation.window_due_at) == ("诸暨市人民法院", at(2026, 4, 9, 23, 59, 59))
    case = Case.objects.get(pk=case.pk)
    assert case.status == "judicial_confirmation"
    assert CaseDeadline.objects.get(case=case, stage="judicial_confirmation").met_at == at(2026, 4, 9, 16, 0)
    assert CaseEvent.objects.filter(case=case).latest("seq").action == "request_judicial_confirmation"


def test_an_application_after_the_window_is_refused_with_the_date_it_expired(registrar, dispatcher, mediator, wu):
    case = effective_on_10_march(registrar, dispatcher, mediator, wu)
    before = mediation_snapshot(case)
    with clock.at(at(2026, 4, 12, 9, 0)), pytest.raises(RuleViolation) as error:
        actions.do_request_judicial_confirmation(case.code, actor=mediator, court="诸暨市人民法院",
                                                 applied_on=date(2026, 4, 10))
    assert str(error.value) == (
        "申请司法确认的期限已于2026年4月9日届满（调解协议生效之日起30日内），2026年4月10日的申请不能受理")
    assert mediation_snapshot(case) == before
    # the matter page's own button is held to the same window
    with clock.at(at(2026, 4, 12, 9, 0)), pytest.raises(RuleViolation, match="已于2026年4月9日届满"):
        case_actions.do_request_judicial_confirmation(case.code, actor=mediator)
    assert mediation_snapshot(case) == before


def test_the_court_accepts_then_rules_with_its_number(registrar, dispatcher, mediator, wu):
    case = effective_on_10_march(registrar, dispatcher, mediator, wu)
    with clock.at(at(2026, 3, 20, 10, 0)):
        actions.do_request_judicial_confirmation(case.code, actor=mediator, court="诸暨市人民法院枫桥人民法庭",
                                                 applied_on=date(2026, 3, 20))
        with pytest.raises(RuleViolation, match="请先登记法院受理"):
            actions.do_record_ruling(case.code, actor=mediator, ruling="confirmed", ruled_on=date(2026, 3, 20),
                                     number="（2026）浙0681民特12号")
    with clock.at(at(2026, 3, 23, 10, 0)):
        counter = Counter()
        actions.do_record_court_acceptance(case.code, actor=mediator, accepted_on=date(2026, 3, 23))
        assert counter.added() == (1, 1)
    with clock.at(at(2026, 4, 2, 10, 0)):
        counter = Counter()
        confirmation = actions.do_record_ruling(case.code, actor=mediator, ruling="confirmed",
                                                ruled_on=date(2026, 4, 2), number="（2026）浙0681民特调确字第12号",
                                                note="调解协议有效")
        assert counter.added() == (1, 1)
    assert (confirmation.accepted_on, confirmation.ruling, confirmation.ruled_on, confirmation.number) == (
        date(2026, 3, 23), "confirmed", date(2026, 4, 2), "（2026）浙0681民特调确字第12号")
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert event.detail == "裁定：确认调解协议有效；文号：（2026）浙0681民特调确字第12号"
    # the matter goes on to performance monitoring through its own transition
    with clock.at(at(2026, 4, 3, 10, 0)):
        case_actions.do_monitor_performance(case.code, actor=mediator)
    assert Case.objects.get(pk=case.pk).status == "performance_monitoring"


def test_a_rejected_application_needs_the_routes_told(registrar, dispatcher, mediator, wu):
    case = effective_on_10_march(registrar, dispatcher, mediator, wu)
    with clock.at(at(2026, 3, 20, 10, 0)):
        actions.do_request_judicial_confirmation(case.code, actor=mediator, court="诸暨市人民法院",
                                                 applied_on=date(2026, 3, 20))
        actions.do_record_court_acceptance(case.code, actor=mediator, accepted_on=date(2026, 3, 20))
        before = mediation_snapshot(case)
        with pytest.raises(InvalidInput, match="驳回申请的，请填写已告知当事人的途径"):
            actions.do_record_ruling(case.code, actor=mediator, ruling="rejected", ruled_on=date(2026, 3, 20),
                                     number="（2026）浙0681民特13号")
        assert mediation_snapshot(case) == before
        actions.do_record_ruling(case.code, actor=mediator, ruling="rejected", ruled_on=date(2026, 3, 20),
                                 number="（2026）浙0681民特13号", note="协议内容不明确",
                                 routes_told="已告知双方可以重新调解、变更原协议或者向人民法院起诉")
    assert JudicialConfirmation.objects.get().routes_told == "已告知双方可以重新调解、变更原协议或者向人民法院起诉"


def test_monitoring_performance_without_an_application_lets_the_window_go(registrar, dispatcher, mediator, wu):
    case = effective_on_10_march(registrar, dispatcher, mediator, wu)
    with clock.at(at(2026, 3, 12, 10, 0)):
        case_actions.do_monitor_performance(case.code, actor=mediator)
    window = CaseDeadline.objects.get(case=case, stage="judicial_confirmation")
    assert (window.met_at, window.cancelled_at) == (None, at(2026, 3, 12, 10, 0))


def test_the_matter_pages_own_button_is_hidden_once_the_mediation_runs_the_window(registrar, dispatcher, mediator, wu,
                                                                                 client):
    case = effective_on_10_march(registrar, dispatcher, mediator, wu)
    client.force_login(mediator)
    page = client.get(f"/cases/{case.code}/").content.decode()
    assert "/actions/request_judicial_confirmation/" not in page
    assert "转入履行监督" in page
