"""Issue 4, "done when": a matter registered in a village flows by rule to the village committee, is signed
for, returned, reassigned to the township, escalated to the county when its deadline passes, and every step
is on its timeline with who, when and why. Also: a rule's deadline policy is the one the matter runs under."""

from datetime import datetime
from zoneinfo import ZoneInfo

from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Case, CaseDeadline, CaseEvent, RoutingRecord
from yidi.core import clock
from yidi.routing.actions import do_save_rule
from yidi.workflow.jobs import sweep_deadlines

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def timeline(case: Case) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "actor_name", "at", "reason")
    )


def test_a_village_matter_flows_by_rule_is_returned_reassigned_and_escalated_when_overdue(
    registrar, dispatcher, mediator, handler
):
    with clock.at(at(2026, 3, 2, 9, 0)):
        case = make_case(registrar)  # a simple neighbour dispute in 枫源村
    with clock.at(at(2026, 3, 2, 9, 30)):
        actions.do_accept_case(case.code, actor=dispatcher)
    proposal = RoutingRecord.objects.get(case=case)
    assert (proposal.rule_code, proposal.matched, proposal.handling_level, proposal.lead_unit_code) == (
        "simple_to_village", True, "village", "fy-committee"
    )
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fy-committee",
                               handling_level="village")  # follows the rule: no reason needed
    with clock.at(at(2026, 3, 2, 14, 0)):
        actions.do_sign_case(case.code, actor=mediator)
    with clock.at(at(2026, 3, 3, 9, 0)):
        actions.do_return_case(case.code, actor=mediator, reason="涉及镇级规划审批，村调委会无权处理")
    with clock.at(at(2026, 3, 3, 10, 0)):
        actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform", handling_level="township",
                               override_reason="村调委会回退，改由镇综治平台办理")
    with clock.at(at(2026, 3, 3, 11, 0)):
        actions.do_sign_case(case.code, actor=handler)
        actions.do_start_handling(case.code, actor=handler, mode="mediation")

    # 人民调解: one month from acceptance (2 Mar) → due 1 Apr; the ladder escalates 5 days after.
    result = sweep_deadlines(now=at(2026, 4, 7, 9, 0))
    assert (result.processed, result.effects, result.failures) == (1, 3, 0)

    case.refresh_from_db()
    assert (case.status, case.lead_unit, case.handling_level) == (CaseStatus.ACCEPTED, None, "county")
    assert timeline(case) == [
        ("register", "李窗口", at(2026, 3, 2, 9, 0), ""),
        ("accept", "赵调度", at(2026, 3, 2, 9, 30), ""),
        ("assign", "赵调度", at(2026, 3, 2, 10, 0), ""),
        ("sign", "吴调解", at(2026, 3, 2, 14, 0), ""),
        ("return", "吴调解", at(2026, 3, 3, 9, 0), "涉及镇级规划审批，村调委会无权处理"),
        ("assign", "赵调度", at(2026, 3, 3, 10, 0), ""),
        ("sign", "钱承办", at(2026, 3, 3, 11, 0), ""),
        ("start_handling", "钱承办", at(2026, 3, 3, 11, 0), ""),
        ("deadline_warning", "系统（期限巡检）", at(2026, 4, 7, 9, 0), "进入黄色预警，按规则 warn_on_yellow 执行预警提醒"),
        ("urge", "系统（期限巡检）", at(2026, 4, 7, 9, 0),
         "逾期满 5 天，按规则 red_card_after_5_days_overdue 执行红牌督办"),
        ("escalate", "系统（期限巡检）", at(2026, 4, 7, 9, 0),
         "逾期满 5 天，按规则 escalate_handling_after_5_days_overdue 执行提级上报"),
    ]
    override = RoutingRecord.objects.get(case=case, is_override=True)
    assert (override.lead_unit_code, override.override_reason, override.decided_by) == (
        "fq-platform", "村调委会回退，改由镇综治平台办理", dispatcher
    )
    # At the county the rules have nothing lower to offer: the dispatcher decides, and a fresh clock runs.
    latest = RoutingRecord.objects.filter(case=case, is_override=False).order_by("-decided_at", "-id").first()
    assert (latest.decided_at, latest.matched) == (at(2026, 4, 7, 9, 0), False)
    assert CaseDeadline.objects.get(case=case, stage="handle", met_at=None, cancelled_at=None).due_at == at(
        2026, 5, 7, 23, 59, 59
    )


def test_the_deadline_policy_named_by_the_followed_rule_is_the_one_the_matter_runs_under(
    registrar, dispatcher, admin
):
    do_save_rule({
        "id": "fengyuan_neighbour_court_referral", "order": 1, "name": "枫源村邻里纠纷按诉前委派时限",
        "when": {"dispute_types": ["neighbour"], "region_prefix": "330681109290"},
        "then": {"handling_level": "village", "lead": {"unit": "fy-committee"}, "policy_id": "court_pre_filing"},
    }, actor=admin)
    with clock.at(at(2026, 3, 2, 9, 0)):
        followed = make_case(registrar)
        overridden = make_case(registrar)
        for case in (followed, overridden):
            actions.do_accept_case(case.code, actor=dispatcher)
        actions.do_assign_case(followed.code, actor=dispatcher, lead_unit_code="fy-committee")
        actions.do_assign_case(overridden.code, actor=dispatcher, lead_unit_code="fq-platform",
                               override_reason="由调度员指定镇平台办理")

    followed.refresh_from_db()
    overridden.refresh_from_db()
    assert RoutingRecord.objects.get(case=followed, is_override=False).policy_code == "court_pre_filing"
    assert (followed.routed_policy, followed.deadline_policy) == ("court_pre_filing", "court_pre_filing")
    assert (overridden.routed_policy, overridden.deadline_policy) == ("", "people_mediation")
    sign = CaseDeadline.objects.get(case=followed, stage="sign")
    assert (sign.policy_code, sign.limit_days, sign.due_at) == ("court_pre_filing", 3, at(2026, 3, 5, 23, 59, 59))
