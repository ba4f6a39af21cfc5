import pytest

from yidi.accounts.domain import Role
from yidi.cases.domain import (
    SIDE_ACTIONS,
    TRANSITIONS,
    CaseAction,
    CaseDraft,
    CaseStatus,
    HandlingMode,
    IllegalTransition,
    InvalidInput,
    Outcome,
    PartyDraft,
    RequestType,
    RuleViolation,
    allowed_actions,
    can_perform,
    check_draft,
    check_judicial_confirmation,
    check_outcome,
    higher_level,
    next_status,
)


def test_registration_starts_every_matter_as_registered():
    assert next_status(None, CaseAction.REGISTER) == CaseStatus.REGISTERED


def test_main_path_runs_from_registration_to_archive():
    status = CaseStatus.REGISTERED
    for action in (CaseAction.ACCEPT, CaseAction.ASSIGN, CaseAction.SIGN, CaseAction.START_HANDLING,
                   CaseAction.CONCLUDE, CaseAction.CLOSE, CaseAction.ARCHIVE):
        status = next_status(status, action)
    assert status == CaseStatus.ARCHIVED


def test_a_returned_matter_can_be_assigned_again():
    assert next_status(CaseStatus.RETURNED, CaseAction.ASSIGN) == CaseStatus.ASSIGNED


def test_signing_a_matter_that_is_not_assigned_is_illegal_with_a_chinese_message():
    with pytest.raises(IllegalTransition) as error:
        next_status(CaseStatus.REGISTERED, CaseAction.SIGN)
    assert str(error.value) == "当前状态“已登记”下不能执行“签收”"


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("action", list(CaseAction))
def test_every_pair_outside_the_table_is_refused(status, action):
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(status, action)]
    elif status in SIDE_ACTIONS.get(action, ()):
        assert next_status(status, action) == status
    else:
        with pytest.raises(IllegalTransition):
            next_status(status, action)


def test_archived_matters_allow_no_action():
    assert allowed_actions(CaseStatus.ARCHIVED) == []


def test_a_closed_matter_may_be_reopened_archived_evaluated_or_visited_only():
    assert sorted(allowed_actions(CaseStatus.CLOSED)) == [
        CaseAction.ARCHIVE, CaseAction.EVALUATE, CaseAction.RECORD_RETURN_VISIT, CaseAction.REOPEN,
    ]
    # evaluating and visiting a closed matter leave it closed; 不满意 reopens it by its own action
    assert next_status(CaseStatus.CLOSED, CaseAction.EVALUATE) == CaseStatus.CLOSED
    assert next_status(CaseStatus.CLOSED, CaseAction.RECORD_RETURN_VISIT) == CaseStatus.CLOSED


def test_a_registered_matter_may_be_resolved_on_the_spot():
    assert next_status(CaseStatus.REGISTERED, CaseAction.RESOLVE_ON_SPOT) == CaseStatus.CONCLUDED
    with pytest.raises(IllegalTransition):
        next_status(CaseStatus.ACCEPTED, CaseAction.RESOLVE_ON_SPOT)


def test_escalation_sends_the_matter_back_to_the_command_desk():
    assert next_status(CaseStatus.IN_PROGRESS, CaseAction.ESCALATE) == CaseStatus.ACCEPTED


def test_a_transfer_does_not_change_the_status_and_is_refused_before_signing():
    assert next_status(CaseStatus.IN_PROGRESS, CaseAction.REQUEST_TRANSFER) == CaseStatus.IN_PROGRESS
    with pytest.raises(IllegalTransition):
        next_status(CaseStatus.ASSIGNED, CaseAction.REQUEST_TRANSFER)


def test_levels_go_up_one_at_a_time():
    assert [higher_level(x) for x in ("village", "township", "county", "")] == [
        "township", "county", "county", "township"]


def test_only_dispatchers_assign():
    assert can_perform(frozenset({Role.DISPATCHER}), CaseAction.ASSIGN)
    assert not can_perform(frozenset({Role.REGISTRAR, Role.HANDLER}), CaseAction.ASSIGN)


def test_admin_roles_perform_no_case_action():
    for action in CaseAction:
        assert not can_perform(frozenset({Role.SYSTEM_ADMIN}), action)
        assert not can_perform(frozenset({Role.AUDITOR}), action)


def test_a_mediation_cannot_end_with_an_administrative_opinion():
    with pytest.raises(RuleViolation, match="“调解”方式下不能登记“处理意见：支持”"):
        check_outcome(status=CaseStatus.IN_PROGRESS, mode=HandlingMode.MEDIATION, outcome=Outcome.OPINION_SUPPORT)


def test_a_diverted_matter_ends_with_the_result_of_the_diversion():
    check_outcome(status=CaseStatus.DIVERTED, mode=HandlingMode.MEDIATION, outcome=Outcome.RESOLVED_BY_DIVERSION)
    with pytest.raises(RuleViolation):
        check_outcome(status=CaseStatus.DIVERTED, mode=HandlingMode.MEDIATION, outcome=Outcome.WRITTEN_AGREEMENT)


def test_judicial_confirmation_needs_a_written_agreement():
    check_judicial_confirmation(Outcome.WRITTEN_AGREEMENT)
    with pytest.raises(RuleViolation, match="只有书面调解协议才能申请司法确认"):
        check_judicial_confirmation(Outcome.ORAL_AGREEMENT)


def _draft(**overrides):
    values = dict(channel_code="walk_in", request_type=RequestType.MEDIATION, title="t", description="d",
                  region_code="330681109290", parties=(PartyDraft(role="applicant", name="陈建国"),))
    values.update(overrides)
    return CaseDraft(**values)


def test_a_mediation_request_without_an_applicant_is_refused_on_the_parties_field():
    with pytest.raises(InvalidInput) as error:
        check_draft(_draft(parties=(PartyDraft(role="respondent", name="王志强"),)))
    assert error.value.field == "parties"


def test_an_anonymous_report_needs_no_applicant():
    check_draft(_draft(request_type=RequestType.REPORT, parties=()))


def test_a_blank_description_is_refused():
    with pytest.raises(InvalidInput) as error:
        check_draft(_draft(description="   "))
    assert (error.value.field, str(error.value)) == ("description", "请填写事项描述")


def test_latitude_without_longitude_is_refused():
    from decimal import Decimal

    with pytest.raises(InvalidInput) as error:
        check_draft(_draft(latitude=Decimal("29.7")))
    assert error.value.field == "latitude"
