"""Hand-offs and command actions: escalate, transfer, consultation, leader instruction, urgency, 督办."""

import pytest

from yidi.accounts.access import CaseNotFound, get_case_for_user
from yidi.accounts.domain import Role
from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case, make_user
from yidi.cases.domain import CaseStatus, InvalidInput, RuleViolation
from yidi.cases.models import Assignment, Consultation, Transfer, Urging
from yidi.cases.tests.helpers import Counter, snapshot


@pytest.fixture
def in_progress(registrar, dispatcher, handler, fq_platform):
    return advance_case(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)


def test_escalating_sends_the_matter_up_a_level_and_ends_the_assignment(in_progress, handler):
    counter = Counter()
    case = actions.do_escalate_case(in_progress.code, actor=handler, reason="涉及多个部门，镇级无法协调")
    assert (case.status, case.lead_unit, case.handling_level) == (CaseStatus.ACCEPTED, None, "township")
    assert not Assignment.objects.filter(case=case, status__in=["pending", "signed"]).exists()
    assert counter.added() == (1, 1)


def test_escalating_needs_a_reason(in_progress, handler):
    before = snapshot(in_progress)
    with pytest.raises(InvalidInput):
        actions.do_escalate_case(in_progress.code, actor=handler, reason="")
    assert snapshot(in_progress) == before


def test_a_transfer_is_seen_by_the_receiving_unit_and_changes_the_lead_only_when_accepted(in_progress, handler,
                                                                                           mediator):
    counter = Counter()
    actions.do_request_transfer(in_progress.code, actor=handler, to_unit_code="fy-committee",
                                reason="属村内邻里纠纷，由村调委会就地化解")
    assert counter.added() == (1, 1)
    assert get_case_for_user(mediator, in_progress.code).lead_unit.code == "fq-platform"
    counter = Counter()
    case = actions.do_accept_transfer(in_progress.code, actor=mediator)
    assert case.lead_unit.code == "fy-committee" and case.status == CaseStatus.IN_PROGRESS
    assert list(case.assignments.filter(status__in=["pending", "signed"]).values_list("unit__code", "role")) == [
        ("fy-committee", "lead")]
    assert Transfer.objects.get(case=case).status == "approved"
    assert counter.added() == (1, 1)


def test_a_transfer_outside_the_matters_region_chain_is_refused(in_progress, handler):
    before = snapshot(in_progress)
    with pytest.raises(InvalidInput, match="不在事项发生地“枫源村”的属地层级内"):
        actions.do_request_transfer(in_progress.code, actor=handler, to_unit_code="jy-platform", reason="转暨阳")
    assert snapshot(in_progress) == before
    assert not Transfer.objects.exists()


def test_a_refused_transfer_leaves_the_first_handler_in_charge(in_progress, handler, mediator):
    actions.do_request_transfer(in_progress.code, actor=handler, to_unit_code="fy-committee", reason="就地化解")
    counter = Counter()
    actions.do_refuse_transfer(in_progress.code, actor=mediator, reason="涉及镇级工程，村里无权处理")
    case = get_case_for_user(handler, in_progress.code)
    assert case.lead_unit.code == "fq-platform"
    assert counter.added() == (1, 1)


def test_only_the_receiving_unit_may_accept_a_transfer(in_progress, handler, dispatcher):
    actions.do_request_transfer(in_progress.code, actor=handler, to_unit_code="fy-committee", reason="就地化解")
    with pytest.raises(RuleViolation, match="没有转给本单位的待接收转办"):
        actions.do_accept_transfer(in_progress.code, actor=handler)


def test_a_consultation_keeps_the_units_minutes_and_decisions(in_progress, dispatcher):
    counter = Counter()
    actions.do_record_consultation(in_progress.code, actor=dispatcher, unit_codes=("fq-platform", "hrss"),
                                   minutes="镇、人社局共同听取双方意见", decisions="由镇牵头，人社局核实工资数额")
    consultation = Consultation.objects.get(case=in_progress)
    assert consultation.unit_names == ["枫桥镇综治工作平台", "市人力资源和社会保障局"]
    assert counter.added() == (1, 1)


def test_a_leader_instruction_is_on_the_timeline(in_progress):
    leader = make_user("leader", Role.LEADER, unit=in_progress.registering_unit)
    counter = Counter()
    actions.do_record_leader_instruction(in_progress.code, actor=leader, instruction="请三天内化解，防止矛盾激化")
    assert in_progress.events.latest("seq").reason == "请三天内化解，防止矛盾激化"
    assert counter.added() == (1, 1)


def test_marking_urgent_twice_is_refused(registrar, dispatcher):
    case = make_case(registrar)
    counter = Counter()
    actions.do_mark_urgent(case.code, actor=dispatcher, reason="涉及老人安全")
    assert counter.added() == (1, 1)
    with pytest.raises(RuleViolation):
        actions.do_mark_urgent(case.code, actor=dispatcher)


def test_a_supervisor_urges_the_lead_unit(in_progress, supervisor):
    counter = Counter()
    actions.do_urge_case(in_progress.code, actor=supervisor, level="yellow", reason="群众多次来电催办")
    urging = Urging.objects.get(case=in_progress)
    assert (urging.level, urging.unit.code, urging.issued_by) == ("yellow", "fq-platform", supervisor)
    assert counter.added() == (1, 1)


def test_a_handler_of_another_township_cannot_urge_or_see(in_progress, outsider):
    with pytest.raises(CaseNotFound):
        actions.do_urge_case(in_progress.code, actor=outsider, level="red", reason="x")


def test_accepting_records_the_routing_rules_proposal_with_the_rule_and_why(registrar, dispatcher):
    case = actions.do_accept_case(make_case(registrar).code, actor=dispatcher)
    route = case.routings.get()
    assert (route.matched, route.rule_code, route.lead_unit_code, route.handling_level) == (
        True, "simple_to_village", "fy-committee", "village")
    assert route.reasons and not route.is_override


def test_assigning_elsewhere_than_the_rules_propose_needs_a_reason_that_is_kept(registrar, dispatcher):
    case = actions.do_accept_case(make_case(registrar).code, actor=dispatcher)
    before = snapshot(case)
    with pytest.raises(InvalidInput, match="与分派规则建议（枫源村人民调解委员会）不同，请说明调整理由"):
        actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform")
    assert snapshot(case) == before
    actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform", override_reason="双方矛盾激烈")
    override = case.routings.get(is_override=True)
    assert (override.lead_unit_code, override.override_reason, override.decided_by) == (
        "fq-platform", "双方矛盾激烈", dispatcher)


def test_following_the_proposal_needs_no_reason(registrar, dispatcher):
    case = actions.do_accept_case(make_case(registrar).code, actor=dispatcher)
    case = actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fy-committee")
    assert case.lead_unit.code == "fy-committee" and not case.routings.filter(is_override=True).exists()


def test_a_matter_no_rule_matches_waits_in_the_queue_marked_as_such(registrar, dispatcher, client):
    registered = make_case(registrar)
    type(registered).objects.filter(pk=registered.pk).update(complexity="")  # as if the clerk cleared it
    case = actions.do_accept_case(registered.code, actor=dispatcher)
    assert case.routings.get().matched is False
    client.force_login(dispatcher)
    page = client.get("/cases/", {"queue": "to_assign"}).content.decode()
    assert case.code in page and "无匹配规则" in page
