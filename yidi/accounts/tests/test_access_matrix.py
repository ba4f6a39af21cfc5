"""The role × action × scope matrix, checked against the one chokepoint (`accounts.access`)."""

import pytest

from yidi.accounts import access
from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case, make_party
from yidi.cases.domain import CaseAction, CaseStatus

PERSONAS = ["registrar", "dispatcher", "supervisor", "handler", "outsider", "mediator", "labour_handler", "admin",
            "citizen"]


@pytest.fixture
def people(request):
    return {name: request.getfixturevalue(name) for name in PERSONAS}


@pytest.fixture
def cases(people, fq_platform):
    registrar, dispatcher = people["registrar"], people["dispatcher"]
    fengqiao = make_case(registrar)  # neighbour dispute in 枫源村, 枫桥镇
    jiyang = make_case(registrar, region_code="330681001001", address="江东社区")
    labour = make_case(registrar, region_code="330681001001", primary_type_code="labour",
                       parties=(make_party(name="何小燕", id_number="", phone="13600001111"),))
    # located in 枫桥镇 but assigned to 暨阳街道's platform (a unit of the matter's region chain is required,
    # so assign to the county-level department instead and check the assignment grants access)
    assigned = make_case(registrar, primary_type_code="contract")
    actions.do_accept_case(assigned.code, actor=dispatcher)
    actions.do_assign_case(assigned.code, actor=dispatcher, lead_unit_code="hrss", override_reason="由调度员指定")
    return {"fengqiao": fengqiao, "jiyang": jiyang, "labour": labour, "assigned": assigned}


VISIBLE = {
    "registrar": {"fengqiao", "jiyang", "labour", "assigned"},
    "dispatcher": {"fengqiao", "jiyang", "labour", "assigned"},
    "supervisor": {"fengqiao", "jiyang", "labour", "assigned"},
    "handler": {"fengqiao", "assigned"},
    "outsider": {"jiyang", "labour"},
    "mediator": {"fengqiao", "assigned"},
    "labour_handler": {"labour", "assigned"},
    "admin": set(),
    "citizen": set(),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_exactly_the_matters_of_its_scope(persona, people, cases):
    user = people[persona]
    visible = {name for name, case in cases.items() if access.visible_cases(user).filter(pk=case.pk).exists()}
    assert visible == VISIBLE[persona]
    for name, case in cases.items():
        if name not in VISIBLE[persona]:
            with pytest.raises(access.CaseNotFound):
                access.get_case_for_user(user, case.code)


def test_assignment_access_ends_when_the_matter_is_returned(people, cases):
    labour_handler, assigned = people["labour_handler"], cases["assigned"]
    actions.do_return_case(assigned.code, actor=labour_handler, reason="不属于劳动争议")
    with pytest.raises(access.CaseNotFound):
        access.get_case_for_user(labour_handler, assigned.code)


# For each action: the status the matter is brought to first, and who may perform it.
# The matter is in 枫源村 and, once assigned, its lead unit is 枫桥镇's platform ("handler").
ACTION_MATRIX = {
    CaseAction.ACCEPT: (CaseStatus.REGISTERED, {"registrar", "dispatcher"}),
    CaseAction.DECLINE: (CaseStatus.REGISTERED, {"registrar", "dispatcher"}),
    CaseAction.ASSIGN: (CaseStatus.ACCEPTED, {"dispatcher"}),
    CaseAction.SIGN: (CaseStatus.ASSIGNED, {"handler"}),
    CaseAction.RETURN: (CaseStatus.SIGNED, {"handler"}),
    CaseAction.START_HANDLING: (CaseStatus.SIGNED, {"handler"}),
    CaseAction.DIVERT: (CaseStatus.IN_PROGRESS, {"handler"}),
    CaseAction.CONCLUDE: (CaseStatus.IN_PROGRESS, {"handler"}),
    CaseAction.REQUEST_JUDICIAL_CONFIRMATION: (CaseStatus.CONCLUDED, {"handler"}),
    CaseAction.MONITOR_PERFORMANCE: (CaseStatus.CONCLUDED, {"handler"}),
    CaseAction.RECORD_RETURN_VISIT: (CaseStatus.CONCLUDED, {"handler", "registrar", "mediator"}),
    CaseAction.EVALUATE: (CaseStatus.CONCLUDED, {"handler", "registrar", "dispatcher"}),
    CaseAction.CLOSE: (CaseStatus.CONCLUDED, {"dispatcher"}),
    CaseAction.REOPEN: (CaseStatus.CLOSED, {"dispatcher", "supervisor"}),
    CaseAction.ARCHIVE: (CaseStatus.CLOSED, {"dispatcher", "registrar"}),
    CaseAction.ESCALATE: (CaseStatus.IN_PROGRESS, {"handler", "dispatcher"}),
    CaseAction.REQUEST_TRANSFER: (CaseStatus.IN_PROGRESS, {"handler"}),
    # Receiving a transfer needs a pending transfer to the user's unit too (checked by the action).
    CaseAction.ACCEPT_TRANSFER: (CaseStatus.IN_PROGRESS, {"handler", "mediator"}),
    CaseAction.RECORD_CONSULTATION: (CaseStatus.REGISTERED, {"dispatcher"}),
    CaseAction.MARK_URGENT: (CaseStatus.REGISTERED, {"dispatcher"}),
    CaseAction.URGE: (CaseStatus.ASSIGNED, {"supervisor"}),
    CaseAction.REQUEST_EXTENSION: (CaseStatus.SIGNED, {"handler"}),
    CaseAction.DECIDE_EXTENSION: (CaseStatus.SIGNED, {"dispatcher"}),
    CaseAction.PAUSE_DEADLINE: (CaseStatus.SIGNED, {"handler"}),
}


@pytest.mark.parametrize("action", list(ACTION_MATRIX))
def test_role_action_scope_matrix(action, people, fq_platform):
    status, allowed = ACTION_MATRIX[action]
    case = make_case(people["registrar"])
    if status != CaseStatus.REGISTERED:
        case = advance_case(case, status, dispatcher=people["dispatcher"], handler=people["handler"],
                            lead_unit=fq_platform)
    permitted = set()
    for persona in PERSONAS:
        user = people[persona]
        try:
            visible = access.get_case_for_user(user, case.code)
        except access.CaseNotFound:
            continue
        if access.denial_reason(user, visible, action) is None:
            permitted.add(persona)
    assert permitted == allowed
