"""One test per action: its effect, exactly one timeline event and one audit row; refusals change nothing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.accounts.access import ActionDenied, CaseNotFound
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case, make_party
from yidi.cases.domain import CaseStatus, IllegalTransition, InvalidInput, Outcome, RuleViolation
from yidi.cases.models import Assignment, CaseEvent, Person, Visit
from yidi.cases.tests.helpers import Counter, snapshot


def test_registering_gives_the_county_code_and_records_parties_contact_visit_event_and_audit(registrar):
    counter = Counter()
    case = make_case(registrar)
    assert case.code.startswith("330681-") and case.code.endswith("-000001")
    assert case.status == CaseStatus.REGISTERED
    assert case.registering_unit.code == "centre"
    assert [(p.role, p.person.name) for p in case.parties.all()] == [("applicant", "陈建国"), ("respondent", "王志强")]
    assert case.contacts.count() == 1
    assert list(case.visits.values_list("place", flat=True)) == ["诸暨市社会矛盾纠纷调处化解中心"]
    assert counter.added() == (1, 1)
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.from_status, event.to_status, event.actor, event.seq) == (
        "register", "", "registered", registrar, 1)
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.object_id, audit.actor_username, audit.actor_unit_code) == (
        "case.register", case.code, "registrar", "centre")


def test_codes_count_up_per_county_and_year(registrar):
    first, second = make_case(registrar), make_case(registrar)
    assert int(second.code[-6:]) == int(first.code[-6:]) + 1


def test_the_same_person_reported_twice_is_one_entry_of_the_person_index(registrar):
    first = make_case(registrar)
    second = make_case(registrar, parties=(make_party(address=""),))
    applicant_ids = {c.parties.get(role="applicant").person_id for c in (first, second)}
    assert len(applicant_ids) == 1
    assert Person.objects.filter(name="陈建国").count() == 1


def test_a_person_without_id_number_is_matched_by_name_and_phone(registrar):
    make_case(registrar, parties=(make_party(id_number=""),))
    make_case(registrar, parties=(make_party(id_number=""),))
    assert Person.objects.filter(name="陈建国").count() == 1


def test_registering_in_an_unknown_region_is_refused_and_writes_nothing(registrar):
    counter = Counter()
    with pytest.raises(InvalidInput) as error:
        make_case(registrar, region_code="330681999999")
    assert (error.value.field, str(error.value)) == ("region", "未知的区划代码“330681999999”")
    assert counter.added() == (0, 0)
    assert Person.objects.count() == 0


def test_a_township_cannot_register_a_matter_of_another_township(outsider):
    outsider_unit = outsider.unit
    outsider.roles.create(role="registrar")
    outsider.__dict__.pop("_role_codes", None)
    assert outsider_unit.code == "jy-platform"
    with pytest.raises(InvalidInput) as error:
        make_case(outsider)
    assert str(error.value) == "发生地“枫源村”不在本单位（暨阳街道综治工作平台）辖区内"


def test_an_invalid_id_number_is_refused_on_its_party_field(registrar):
    with pytest.raises(InvalidInput) as error:
        make_case(registrar, parties=(make_party(id_number="330681198003150014"),))
    assert error.value.field == "parties-0-id_number"


def test_a_handler_may_not_register(handler):
    with pytest.raises(ActionDenied):
        make_case(handler)


def test_accepting_records_the_time_event_and_audit(registrar, dispatcher):
    case = make_case(registrar)
    counter = Counter()
    case = actions.do_accept_case(case.code, actor=dispatcher)
    assert case.status == CaseStatus.ACCEPTED and case.accepted_at is not None
    assert counter.added() == (1, 1)


def test_declining_needs_reason_and_route_and_keeps_both(registrar):
    case = make_case(registrar)
    with pytest.raises(InvalidInput):
        actions.do_decline_case(case.code, actor=registrar, reason="", route_told="仲裁")
    counter = Counter()
    case = actions.do_decline_case(case.code, actor=registrar, reason="属劳动仲裁受理范围", route_told="已告知申请仲裁")
    assert case.status == CaseStatus.NOT_ACCEPTED
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.reason, event.data) == ("属劳动仲裁受理范围", {"route_told": "已告知申请仲裁"})
    assert counter.added() == (1, 1)


def test_assigning_creates_lead_and_co_assignments(registrar, dispatcher, fq_platform):
    case = actions.do_accept_case(make_case(registrar).code, actor=dispatcher)
    counter = Counter()
    case = actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                                  co_unit_codes=("fy-committee",), note="请枫桥镇牵头调处", handling_level="township", override_reason="由调度员指定")
    assert case.status == CaseStatus.ASSIGNED and case.lead_unit == fq_platform and case.handling_level == "township"
    assert list(case.assignments.values_list("unit__code", "role", "status")) == [
        ("fq-platform", "lead", "pending"), ("fy-committee", "co", "pending")]
    assert counter.added() == (1, 1)


def test_assigning_to_a_unit_of_another_township_is_refused_and_changes_nothing(registrar, dispatcher):
    case = actions.do_accept_case(make_case(registrar).code, actor=dispatcher)
    before = snapshot(case)
    with pytest.raises(InvalidInput) as error:
        actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="jy-platform", override_reason="由调度员指定")
    assert str(error.value) == "“暨阳街道综治工作平台”不负责“枫源村”，不能交办"
    assert snapshot(case) == before


def test_signing_marks_the_lead_assignment_signed(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.ASSIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_sign_case(case.code, actor=handler)
    assert case.status == CaseStatus.SIGNED
    assert case.assignments.get(role="lead").status == "signed"
    assert counter.added() == (1, 1)


def test_only_the_lead_unit_may_sign_and_a_refusal_changes_nothing(registrar, dispatcher, handler, mediator,
                                                                    fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.ASSIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    before = snapshot(case)
    with pytest.raises(ActionDenied, match="只有当前主办单位可以执行此操作"):
        actions.do_sign_case(case.code, actor=mediator)
    assert snapshot(case) == before


def test_returning_ends_the_assignment_and_goes_back_to_the_dispatcher(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.SIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_return_case(case.code, actor=handler, reason="属劳动争议，应由人社局办理")
    assert case.status == CaseStatus.RETURNED and case.lead_unit is None
    assert case.assignments.get(role="lead").status == "returned"
    assert counter.added() == (1, 1)


def test_returning_without_a_reason_is_refused(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.SIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    before = snapshot(case)
    with pytest.raises(InvalidInput, match="“回退”必须填写理由"):
        actions.do_return_case(case.code, actor=handler, reason="  ")
    assert snapshot(case) == before


def test_starting_handling_records_the_mode(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.SIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_start_handling(case.code, actor=handler, mode="mediation")
    assert (case.status, case.handling_mode) == (CaseStatus.IN_PROGRESS, "mediation")
    assert counter.added() == (1, 1)


def test_diverting_waits_for_the_outcome(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_divert_case(case.code, actor=handler, route="litigation", reason="调解不成，当事人起诉")
    assert (case.status, case.diversion_route) == (CaseStatus.DIVERTED, "litigation")
    assert counter.added() == (1, 1)
    case = actions.do_conclude_case(case.code, actor=handler, outcome=Outcome.RESOLVED_BY_DIVERSION)
    assert (case.status, case.outcome) == (CaseStatus.CONCLUDED, "resolved_by_diversion")


def test_concluding_records_the_outcome(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_conclude_case(case.code, actor=handler, outcome="written_agreement", summary="赔偿3000元")
    assert (case.status, case.outcome) == (CaseStatus.CONCLUDED, "written_agreement")
    assert case.concluded_at is not None
    assert counter.added() == (2, 2)  # the step, and the return visit `yidi.evaluation` schedules for an agreement


def test_an_outcome_that_does_not_fit_the_mode_is_refused(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    before = snapshot(case)
    with pytest.raises(RuleViolation):
        actions.do_conclude_case(case.code, actor=handler, outcome="opinion_support")
    assert snapshot(case) == before


def test_judicial_confirmation_and_performance_monitoring_follow_a_written_agreement(
        registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_request_judicial_confirmation(case.code, actor=handler)
    assert case.status == CaseStatus.JUDICIAL_CONFIRMATION
    case = actions.do_monitor_performance(case.code, actor=handler)
    assert case.status == CaseStatus.PERFORMANCE_MONITORING
    assert counter.added() == (2, 2)


def test_an_oral_agreement_cannot_go_to_judicial_confirmation(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform, outcome=Outcome.ORAL_AGREEMENT)
    before = snapshot(case)
    with pytest.raises(RuleViolation):
        actions.do_request_judicial_confirmation(case.code, actor=handler)
    assert snapshot(case) == before


def test_return_visit_evaluation_and_closing(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_record_return_visit(case.code, actor=handler, summary="协议已履行，双方无异议")
    assert case.status == CaseStatus.RETURN_VISITED
    case = actions.do_evaluate_case(case.code, actor=registrar, evaluation="satisfied")
    assert (case.status, case.evaluation) == (CaseStatus.EVALUATED, "satisfied")
    case = actions.do_close_case(case.code, actor=dispatcher)
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert not Assignment.objects.filter(case=case, status__in=["pending", "signed"]).exists()
    assert counter.added() == (3, 3)


def test_dissatisfaction_needs_the_persons_words(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.CONCLUDED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    with pytest.raises(InvalidInput, match="“不满意”须记录群众的具体意见"):
        actions.do_evaluate_case(case.code, actor=registrar, evaluation="dissatisfied")


def test_reopening_gives_the_matter_back_to_the_last_lead_unit(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.CLOSED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_reopen_case(case.code, actor=dispatcher, reason="群众不满意，赔偿未到位")
    assert (case.status, case.lead_unit, case.outcome, case.closed_at) == (
        CaseStatus.IN_PROGRESS, fq_platform, "", None)
    assert case.assignments.filter(status="signed", role="lead").count() == 1
    assert counter.added() == (1, 1)


def test_archiving_a_closed_matter(registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.CLOSED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    counter = Counter()
    case = actions.do_archive_case(case.code, actor=dispatcher)
    assert case.status == CaseStatus.ARCHIVED
    assert counter.added() == (1, 1)


def test_an_illegal_transition_changes_nothing(registrar, dispatcher):
    case = make_case(registrar)
    before = snapshot(case)
    with pytest.raises(IllegalTransition):
        actions.do_close_case(case.code, actor=dispatcher)
    assert snapshot(case) == before


def test_another_township_cannot_even_find_the_matter(registrar, outsider):
    case = make_case(registrar)
    before = snapshot(case)
    with pytest.raises(CaseNotFound):
        actions.do_add_contact(case.code, actor=outsider, channel_code="phone", summary="再次来电")
    assert snapshot(case) == before


def test_adding_a_contact_keeps_every_report(registrar):
    case = make_case(registrar)
    counter = Counter()
    actions.do_add_contact(case.code, actor=registrar, channel_code="hotline_12345", summary="当事人再次来电催办",
                           external_ref="ZJ12345-0001")
    assert list(case.contacts.values_list("channel__code", flat=True)) == ["walk_in", "hotline_12345"]
    assert counter.added() == (1, 1)


def test_recording_a_visit_counts_the_places_the_person_went(registrar):
    case = make_case(registrar)
    counter = Counter()
    actions.do_record_visit(case.code, actor=registrar, place="枫桥镇矛调中心", purpose="补充材料")
    assert Visit.objects.filter(case=case).count() == 2
    assert counter.added() == (1, 1)


def test_an_attachment_is_typed_by_content(registrar):
    case = make_case(registrar)
    counter = Counter()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    attachment = actions.do_add_attachment(case.code, actor=registrar,
                                           upload=SimpleUploadedFile("现场照片.png", png, "image/png"))
    assert (attachment.content_type, attachment.size, attachment.original_name) == ("image/png", 72, "现场照片.png")
    assert counter.added() == (1, 1)


def test_a_disguised_attachment_is_refused_and_nothing_is_kept(registrar):
    case = make_case(registrar)
    before = snapshot(case)
    with pytest.raises(InvalidInput, match="不支持的文件类型"):
        actions.do_add_attachment(case.code, actor=registrar,
                                  upload=SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image", "image/jpeg"))
    assert snapshot(case) == before


def test_an_oversized_attachment_is_refused(registrar, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    case = make_case(registrar)
    with pytest.raises(InvalidInput, match="文件过大"):
        actions.do_add_attachment(case.code, actor=registrar,
                                  upload=SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * 200, "application/pdf"))


def test_confirming_labels_sets_the_primary_type_and_grade(registrar, dispatcher):
    case = make_case(registrar, primary_type_code="", grade="", complexity="")
    counter = Counter()
    case = actions.do_set_labels(case.code, actor=dispatcher, grade="orange", complexity="complex",
                                 labels={"mediation_type": "labour", "request_type": "help"})
    assert (case.primary_type.code, case.grade, case.complexity) == ("labour", "orange", "complex")
    confirmed = case.labels.filter(taxonomy__code__in=["mediation_type", "request_type"])
    assert sorted(confirmed.values_list("taxonomy__code", "label__code", "source")) == [
        ("mediation_type", "labour", "manual"), ("request_type", "help", "manual")]
    assert counter.added() == (1, 1)


def test_amounts_are_kept_exactly(registrar):
    case = make_case(registrar, amount_involved=Decimal("123456.78"))
    case.refresh_from_db()
    assert case.amount_involved == Decimal("123456.78")
