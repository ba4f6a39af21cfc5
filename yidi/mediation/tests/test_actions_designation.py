"""Opening a mediation, designating mediators, conflicts of interest and recusal: each action writes one timeline
event and one audit row; refusals change nothing."""

import pytest

from yidi.accounts.access import ActionDenied, CaseNotFound, get_case_for_user
from yidi.audit.models import AuditEvent
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, HandlingMode, InvalidInput, RuleViolation
from yidi.cases.models import Assignment, CaseEvent
from yidi.cases.tests.helpers import Counter
from yidi.mediation import actions
from yidi.mediation.builders import make_mediator, parties
from yidi.mediation.models import ConflictOfInterest, Designation, Mediation
from yidi.mediation.tests.helpers import matter_in_mediation, mediation_snapshot


def open_mediation(case, actor):
    return actions.do_open_mediation(case.code, actor=actor, source="application", requests="请求疏通排水沟",
                                     applied_on=case.registered_at.date())


def test_the_lead_unit_opens_the_mediation_with_its_number_and_committee(in_mediation, mediator):
    counter = Counter()
    mediation = open_mediation(in_mediation, mediator)

    assert (mediation.status, mediation.committee, mediation.source) == ("preparing", "枫源村人民调解委员会", "application")
    assert mediation.number == f"（{mediation.opened_at.year}）枫源人调字第001号"
    assert mediation.request_list == ("请求疏通排水沟",)
    assert counter.added() == (1, 1)
    event = CaseEvent.objects.filter(case=in_mediation).latest("seq")
    assert (event.action, event.seq, event.data["number"]) == ("open_mediation", in_mediation.version + 1,
                                                              mediation.number)
    assert AuditEvent.objects.latest("id").action == "case.open_mediation"


def test_numbers_run_per_place_so_units_of_the_same_place_never_share_one(registrar, dispatcher, mediator, handler):
    first = open_mediation(matter_in_mediation(registrar, dispatcher, mediator), mediator)
    second = open_mediation(matter_in_mediation(registrar, dispatcher, mediator), mediator)
    township = advance_case(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher=dispatcher, handler=handler,
                            lead_unit=handler.unit, mode=HandlingMode.MEDIATION)
    third = open_mediation(township, handler)  # 枫桥镇's platform prints 枫桥
    year = first.opened_at.year
    assert [m.number for m in (first, second, third)] == [
        f"（{year}）枫源人调字第001号", f"（{year}）枫源人调字第002号", f"（{year}）枫桥人调字第001号"]
    assert third.committee == "诸暨市枫桥镇人民调解委员会"


def test_a_matter_handled_administratively_cannot_be_mediated_and_nothing_changes(registrar, dispatcher, mediator):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    case.handling_mode = HandlingMode.ADMINISTRATIVE
    case.save(update_fields=["handling_mode"])
    before = mediation_snapshot(case)
    with pytest.raises(RuleViolation) as error:
        open_mediation(case, mediator)
    assert str(error.value) == "事项的办理方式不是“调解”，不能建立调解"
    assert mediation_snapshot(case) == before


def test_an_application_needs_its_requests(in_mediation, mediator):
    before = mediation_snapshot(in_mediation)
    with pytest.raises(InvalidInput) as error:
        actions.do_open_mediation(in_mediation.code, actor=mediator, source="application", requests=" \n ")
    assert (error.value.field, str(error.value)) == ("requests", "当事人申请调解的，请填写申请事项")
    assert mediation_snapshot(in_mediation) == before


def test_only_the_lead_unit_opens_and_a_matter_already_in_mediation_is_not_opened_twice(in_mediation, mediator,
                                                                                       dispatcher):
    with pytest.raises(ActionDenied, match="只有主办单位可以建立调解"):
        open_mediation(in_mediation, dispatcher)
    open_mediation(in_mediation, mediator)
    before = mediation_snapshot(in_mediation)
    with pytest.raises(RuleViolation, match="调解“准备调解”时不能“建立调解”"):
        open_mediation(in_mediation, mediator)
    assert mediation_snapshot(in_mediation) == before


def test_designating_a_mediator_of_another_unit_gives_that_unit_access_while_designated(in_mediation, mediator, wu,
                                                                                       yang):
    open_mediation(in_mediation, mediator)
    with pytest.raises(CaseNotFound):
        get_case_for_user(yang.user, in_mediation.code)
    counter = Counter()

    designated = actions.do_designate_mediators(
        in_mediation.code, actor=mediator, mediator_ids=[wu.pk, yang.pk], source="parties", note="双方共同选定")

    assert counter.added() == (1, 1)
    assert [(d.mediator_id, d.is_lead, d.source) for d in designated] == [
        (wu.pk, True, "parties"), (yang.pk, False, "parties")]
    assert designated[0].assignment is None  # 吴调解's committee leads the matter already
    assert (designated[1].assignment.unit.code, designated[1].assignment.role,
            designated[1].assignment.status) == ("room-laoyang", "co", "signed")
    assert get_case_for_user(yang.user, in_mediation.code) == in_mediation
    event = CaseEvent.objects.filter(case=in_mediation).latest("seq")
    assert (event.action, event.reason, event.data["mediator_names"], event.data["source_name"]) == (
        "designate_mediators", "双方共同选定", ["吴调解", "杨光明"], "当事人选定")


def test_a_dispatcher_may_designate_but_not_mediate(in_mediation, mediator, dispatcher, wu):
    open_mediation(in_mediation, mediator)
    actions.do_designate_mediators(in_mediation.code, actor=dispatcher, mediator_ids=[wu.pk], source="committee")
    before = mediation_snapshot(in_mediation)
    respondent = parties(in_mediation)[1]
    with pytest.raises(ActionDenied, match="只有本事项指定的调解员或主办单位可以执行此操作"):
        actions.do_notify_other_party(in_mediation.code, actor=dispatcher, party_id=respondent.pk, method="电话")
    assert mediation_snapshot(in_mediation) == before


def test_a_mediator_with_a_declared_conflict_cannot_be_designated_and_nothing_changes(in_mediation, mediator, yang):
    open_mediation(in_mediation, mediator)
    respondent = parties(in_mediation)[1]
    counter = Counter()
    actions.do_declare_conflict(in_mediation.code, actor=mediator, mediator_id=yang.pk, relation="relative",
                                party_id=respondent.pk, note="系被申请人的表兄")
    assert counter.added() == (1, 1)
    before = mediation_snapshot(in_mediation)

    with pytest.raises(RuleViolation) as error:
        actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[yang.pk], source="parties")

    assert str(error.value) == "杨光明已申报利益冲突（与当事人王志强系近亲属（系被申请人的表兄）），须回避，不能指定"
    assert mediation_snapshot(in_mediation) == before


def test_a_conflict_with_a_person_bars_the_mediator_from_that_persons_other_matters(registrar, dispatcher, mediator,
                                                                                   yang):
    first = matter_in_mediation(registrar, dispatcher, mediator)
    open_mediation(first, mediator)
    actions.do_declare_conflict(first.code, actor=mediator, mediator_id=yang.pk, relation="colleague",
                                party_id=parties(first)[0].pk)
    second = matter_in_mediation(registrar, dispatcher, mediator)  # the same applicant, 陈建国
    open_mediation(second, mediator)
    with pytest.raises(RuleViolation, match="与当事人陈建国系同事"):
        actions.do_designate_mediators(second.code, actor=mediator, mediator_ids=[yang.pk], source="committee")


def test_an_unavailable_or_unknown_mediator_is_refused(in_mediation, mediator, yang):
    open_mediation(in_mediation, mediator)
    make_mediator(yang.user, availability="unavailable")
    with pytest.raises(RuleViolation, match="杨光明暂停接案，不能指定"):
        actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[yang.pk], source="committee")
    with pytest.raises(InvalidInput, match="所选调解员不在调解专家库中或已停用"):
        actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[99999], source="committee")


def test_recusal_at_a_partys_request_ends_the_designation_and_its_access_and_bars_a_new_one(in_mediation, mediator,
                                                                                          wu, yang):
    open_mediation(in_mediation, mediator)
    actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[yang.pk, wu.pk], source="committee")
    counter = Counter()

    actions.do_recuse_mediator(in_mediation.code, actor=mediator, mediator_id=yang.pk, relation="party_request",
                               reason="被申请人认为调解员与申请人熟识", party_id=parties(in_mediation)[1].pk)

    assert counter.added() == (1, 1)
    ended = Designation.objects.get(mediator=yang)
    assert (ended.ended_at is not None, ended.end_reason) == (True, "被申请人认为调解员与申请人熟识")
    assert Assignment.objects.get(pk=ended.assignment_id).status == "ended"
    assert Designation.objects.get(mediator=wu).is_lead  # the lead passes to the remaining mediator
    conflict = ConflictOfInterest.objects.get(mediator=yang)
    assert (conflict.case_id, conflict.person_id, conflict.relation) == (in_mediation.pk, None, "party_request")
    with pytest.raises(CaseNotFound):
        get_case_for_user(yang.user, in_mediation.code)
    with pytest.raises(RuleViolation, match="当事人申请回避（被申请人认为调解员与申请人熟识）"):
        actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[yang.pk], source="parties")


def test_a_designated_mediator_must_recuse_rather_than_declare_and_a_recusal_needs_a_reason(in_mediation, mediator,
                                                                                           yang):
    open_mediation(in_mediation, mediator)
    actions.do_designate_mediators(in_mediation.code, actor=mediator, mediator_ids=[yang.pk], source="committee")
    before = mediation_snapshot(in_mediation)
    with pytest.raises(RuleViolation, match="杨光明已被指定为本事项的调解员，请办理回避"):
        actions.do_declare_conflict(in_mediation.code, actor=yang.user, mediator_id=yang.pk, relation="relative",
                                    party_id=parties(in_mediation)[1].pk)
    with pytest.raises(InvalidInput, match="请填写回避理由"):
        actions.do_recuse_mediator(in_mediation.code, actor=yang.user, mediator_id=yang.pk, relation="relative",
                                   reason=" ")
    assert mediation_snapshot(in_mediation) == before
    # the designated mediator recuses himself on the conflict
    actions.do_recuse_mediator(in_mediation.code, actor=yang.user, mediator_id=yang.pk, relation="relative",
                               reason="系被申请人的表兄", party_id=parties(in_mediation)[1].pk)
    assert ConflictOfInterest.objects.get(mediator=yang).person_id == parties(in_mediation)[1].person_id


def test_other_townships_get_not_found_and_other_units_of_the_township_are_denied(in_mediation, mediator, outsider,
                                                                                 handler, wu):
    open_mediation(in_mediation, mediator)
    before = mediation_snapshot(in_mediation)
    with pytest.raises(CaseNotFound):
        actions.do_designate_mediators(in_mediation.code, actor=outsider, mediator_ids=[wu.pk], source="committee")
    with pytest.raises(ActionDenied, match="只有主办单位或指挥调度员可以指定调解员"):
        actions.do_designate_mediators(in_mediation.code, actor=handler, mediator_ids=[wu.pk], source="committee")
    assert mediation_snapshot(in_mediation) == before


def test_designation_before_the_mediation_is_opened_is_refused(registrar, dispatcher, mediator, wu):
    case = make_case(registrar)
    with pytest.raises(ActionDenied):  # not assigned yet: the village committee sees it but does not lead it
        actions.do_designate_mediators(case.code, actor=mediator, mediator_ids=[wu.pk], source="committee")
    case = matter_in_mediation(registrar, dispatcher, mediator)
    with pytest.raises(RuleViolation, match="调解“尚未建立调解”时不能“指定调解员”"):
        actions.do_designate_mediators(case.code, actor=mediator, mediator_ids=[wu.pk], source="committee")
    assert not Mediation.objects.exists()
