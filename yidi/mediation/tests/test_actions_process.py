"""The mediation's process: rights notice, the other party's answer (a clock on the matter), sessions and their
records, evidence, and the outcomes that end it — failure and refusal with the legal routes told, an oral
agreement. Each state path; refusals change nothing."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.accounts.access import ActionDenied
from yidi.cases.domain import InvalidInput, RequestType, RuleViolation
from yidi.cases.models import Case, CaseDeadline, CaseEvent, Urging
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.mediation import actions
from yidi.mediation.builders import AGREEMENT, advance_mediation, parties, session_input
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import Mediation, PartyDetail
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot
from yidi.workflow.jobs import sweep_deadlines

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def prepared(case, actor, mediator_profile):
    return advance_mediation(case, MediationStatus.PREPARING, actor=actor, mediator=mediator_profile)


def test_notifying_the_other_party_starts_a_three_working_day_clock_that_never_makes_the_matter_late(
    registrar, dispatcher, mediator, wu,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 9, 9, 0))
    with clock.at(at(2026, 3, 10, 10, 0)):
        prepared(case, mediator, wu)
        counter = Counter()
        mediation = actions.do_notify_other_party(case.code, actor=mediator, party_id=parties(case)[1].pk,
                                                  method="电话", note="询问是否同意调解")
    assert counter.added() == (1, 1)
    assert (mediation.status, mediation.notice_method) == ("awaiting_response", "电话")
    clock_row = CaseDeadline.objects.get(case=case, stage="party_response")
    assert (clock_row.policy_code, clock_row.limit_days, clock_row.day_unit) == ("people_mediation", 3, "workdays")
    assert clock_row.due_at == at(2026, 3, 13, 23, 59, 59)  # Tue + 3 working days = Fri, end of day
    case = Case.objects.get(pk=case.pk)
    assert case.due_at == CaseDeadline.objects.get(case=case, stage="handle").due_at

    # overdue: the sweep warns (the parties' period is named by a rule) but never urges the unit
    sweep_deadlines(now=at(2026, 3, 16, 9, 0))
    warnings = CaseEvent.objects.filter(case=case, action="deadline_warning")
    assert [event.data["stage"] for event in warnings] == ["party_response"]
    assert not Urging.objects.filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).deadline_state == "green"


def test_a_matter_whose_own_policy_has_no_parties_periods_uses_the_people_mediation_policy(
    registrar, dispatcher, mediator, wu,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, channel_code="hotline_12345",
                               request_type=RequestType.COMPLAINT)
    assert Case.objects.get(pk=case.pk).deadline_policy == "hotline_12345_complaint"
    advance_mediation(case, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    assert CaseDeadline.objects.get(case=case, stage="party_response").policy_code == "people_mediation"


def test_the_other_partys_consent_meets_the_clock_and_opens_the_sessions(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    counter = Counter()
    mediation = actions.do_record_consent(in_mediation.code, actor=mediator, party_id=parties(in_mediation)[1].pk)
    assert counter.added() == (1, 1)
    assert mediation.status == "mediating" and mediation.consented_at is not None
    assert CaseDeadline.objects.get(case=in_mediation, stage="party_response").met_at is not None


def test_a_refusal_ends_the_mediation_and_concludes_the_matter_with_the_routes_told(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    respondent = parties(in_mediation)[1]
    before = mediation_snapshot(in_mediation)
    with pytest.raises(InvalidInput) as error:
        actions.do_record_refusal(in_mediation.code, actor=mediator, party_id=respondent.pk, reason="不同意调解",
                                  routes_told="")
    assert error.value.field == "routes_told"
    assert mediation_snapshot(in_mediation) == before
    counter = Counter()

    mediation = actions.do_record_refusal(in_mediation.code, actor=mediator, party_id=respondent.pk,
                                          reason="被申请人明确表示不同意调解", routes_told="已告知申请人可以向人民法院起诉")

    assert counter.added() == (1, 1)
    assert (mediation.status, mediation.refused_by, mediation.routes_told) == (
        "refused", respondent, "已告知申请人可以向人民法院起诉")
    case = Case.objects.get(pk=in_mediation.pk)
    assert (case.status, case.outcome) == ("concluded", "refused_by_party")
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.action, event.from_status, event.to_status, event.reason) == (
        "record_refusal", "in_progress", "concluded", "被申请人明确表示不同意调解")
    assert event.detail == "已告知途径：已告知申请人可以向人民法院起诉；办理结果：当事人拒绝调解；当事人：王志强"
    assert CaseDeadline.objects.get(case=case, stage="party_response").met_at is not None
    assert CaseDeadline.objects.get(case=case, stage="verify").met_at is None  # verification starts at conclusion


def test_a_session_needs_the_rights_notice_delivered_to_every_party(in_mediation, mediator, wu):
    actions.do_open_mediation(in_mediation.code, actor=mediator, source="own_initiative")
    actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[wu.pk], source="committee")
    applicant, respondent = parties(in_mediation)
    actions.do_deliver_rights_notice(in_mediation.code, actor=mediator, party_ids=[applicant.pk], method="当面告知",
                                     delivered_on=clock.now().date())
    actions.do_record_consent(in_mediation.code, actor=mediator, party_id=respondent.pk, note="双方共同到场申请")
    before = mediation_snapshot(in_mediation)

    with pytest.raises(RuleViolation) as error:
        actions.do_record_session(in_mediation.code, actor=mediator, session=session_input(in_mediation))

    assert str(error.value) == "调解前须向全部当事人告知权利义务，尚未告知：王志强"
    assert mediation_snapshot(in_mediation) == before


def test_a_session_is_recorded_with_its_statements(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    actions.do_record_consent(in_mediation.code, actor=mediator, party_id=parties(in_mediation)[1].pk)
    counter = Counter()
    session = actions.do_record_session(in_mediation.code, actor=mediator, session=session_input(in_mediation))
    assert counter.added() == (1, 1)
    assert (session.number, session.kind, session.mode, session.recorder) == (1, "joint", "on_site", "王秀英")
    assert [s["speaker"] for s in session.statements] == ["调解员", "陈建国", "王志强"]
    second = actions.do_record_session(in_mediation.code, actor=mediator, session=session_input(in_mediation))
    assert second.number == 2


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"place": " "}, "place", "请填写调解地点"),
    ({"statements": ()}, "statements", "请至少记录一段调解笔录"),
    ({"statements": (("调解员", ""),)}, "statements", "第1段笔录须同时填写发言人和内容"),
    ({"result": ""}, "result", "请填写本次调解结果"),
    ({"kind": "both"}, "kind", "请选择调解形式"),
])
def test_an_incomplete_session_record_is_refused_on_its_field(in_mediation, mediator, wu, change, field, message):
    from dataclasses import replace

    advance_mediation(in_mediation, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    actions.do_record_consent(in_mediation.code, actor=mediator, party_id=parties(in_mediation)[1].pk)
    before = mediation_snapshot(in_mediation)
    with pytest.raises(InvalidInput) as error:
        actions.do_record_session(in_mediation.code, actor=mediator,
                                  session=replace(session_input(in_mediation), **change))
    assert (error.value.field, str(error.value)) == (field, message)
    assert mediation_snapshot(in_mediation) == before


def test_a_session_before_the_other_party_agreed_is_refused(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    with pytest.raises(RuleViolation, match="调解“待对方答复”时不能“登记调解笔录”"):
        actions.do_record_session(in_mediation.code, actor=mediator, session=session_input(in_mediation))


def test_a_failure_needs_the_legal_routes_told_and_concludes_the_matter(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    before = mediation_snapshot(in_mediation)
    with pytest.raises(InvalidInput, match="请填写已告知当事人的法律途径"):
        actions.do_record_failure(in_mediation.code, actor=mediator, reason="分歧过大", routes_told=" ")
    assert mediation_snapshot(in_mediation) == before
    counter = Counter()
    mediation = actions.do_record_failure(in_mediation.code, actor=mediator, reason="双方对赔偿数额分歧过大",
                                          routes_told="已告知双方可以向诸暨市人民法院起诉")
    assert counter.added() == (1, 1)
    assert (mediation.status, mediation.end_reason) == ("failed", "双方对赔偿数额分歧过大")
    case = Case.objects.get(pk=in_mediation.pk)
    assert (case.status, case.outcome) == ("concluded", "mediation_failed")
    assert CaseEvent.objects.filter(case=case).latest("seq").data["route_told"] == "已告知双方可以向诸暨市人民法院起诉"


def test_an_oral_agreement_takes_effect_at_once_without_a_judicial_confirmation_window(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    counter = Counter()
    agreement = actions.do_record_oral_agreement(in_mediation.code, actor=mediator, content=AGREEMENT)
    assert counter.added() == (2, 2)  # and the return visit scheduled by `yidi.evaluation`
    assert (agreement.form, agreement.effective_at is not None) == ("oral", True)
    case = Case.objects.get(pk=in_mediation.pk)
    assert (case.status, case.outcome) == ("concluded", "oral_agreement")
    assert Mediation.objects.get(case=case).status == "agreed"
    assert not CaseDeadline.objects.filter(case=case, stage="judicial_confirmation").exists()
    with pytest.raises(RuleViolation, match="只有已生效的书面调解协议才能申请司法确认"):
        actions.do_request_judicial_confirmation(case.code, actor=mediator, court="诸暨市人民法院",
                                                 applied_on=clock.now().date())


def test_evidence_goes_through_the_matters_attachment_action(in_mediation, mediator, wu, handler):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    counter = Counter()
    attachment = actions.do_add_evidence(in_mediation.code, actor=mediator, description="积水照片",
                                         upload=SimpleUploadedFile("photo.png", PNG, content_type="image/png"))
    assert counter.added() == (1, 1)
    assert (attachment.case_id, attachment.content_type, attachment.description) == (
        in_mediation.pk, "image/png", "积水照片")
    assert CaseEvent.objects.filter(case=in_mediation).latest("seq").action == "add_attachment"
    before = mediation_snapshot(in_mediation)
    with pytest.raises(ActionDenied):  # 枫桥镇's platform reads the matter but does not mediate it
        actions.do_add_evidence(in_mediation.code, actor=handler,
                                upload=SimpleUploadedFile("photo.png", PNG, content_type="image/png"))
    assert mediation_snapshot(in_mediation) == before


def test_party_details_for_the_documents_are_recorded(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=wu)
    respondent = parties(in_mediation)[1]
    counter = Counter()
    actions.do_update_party_details(in_mediation.code, actor=mediator, party_id=respondent.pk,
                                    details=actions.PartyDetailInput(sex="男", ethnicity="汉族", age=62, occupation="农民"))
    assert counter.added() == (1, 1)
    assert PartyDetail.objects.filter(party=respondent).values_list("sex", "age", "occupation").get() == (
        "男", 62, "农民")
    with pytest.raises(InvalidInput, match="年龄不正确"):
        actions.do_update_party_details(in_mediation.code, actor=mediator, party_id=respondent.pk,
                                        details=actions.PartyDetailInput(age=200))


def test_a_rights_notice_cannot_be_dated_in_the_future(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=wu)
    with pytest.raises(InvalidInput, match="告知日期不能晚于今天"):
        actions.do_deliver_rights_notice(in_mediation.code, actor=mediator, party_ids=[parties(in_mediation)[0].pk],
                                         method="当面", delivered_on=clock.now().date() + timedelta(days=2))
