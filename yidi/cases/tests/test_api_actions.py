"""The native API's actions (POST /api/v1/cases/{code}/actions/<action>): each runs its `do_*` action and answers the
matter with its new ETag; the dispatcher's actions need `cases:assign`; every refusal changes nothing."""

import json

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.models import Unit
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, HandlingMode
from yidi.cases.models import Case, CaseDeadline, CaseEvent, Consultation, ExtensionRequest, Transfer
from yidi.cases.tests.helpers import snapshot
from yidi.core.deadlines import PARTY_STAGES

pytestmark = pytest.mark.django_db
SCOPES = ["cases:read", "cases:act", "cases:assign"]


def _token(name: str, unit_code: str, scopes=SCOPES) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body) if not isinstance(body, bytes | str) else body,
                       content_type="application/json", **headers)


def _act(client, case, action, body, headers, *, version=None):
    version = Case.objects.get(pk=case.pk).version if version is None else version
    return _post(client, f"/api/v1/cases/{case.code}/actions/{action}", body, HTTP_IF_MATCH=f'W/"{version}"', **headers)


@pytest.fixture
def fq(db):
    """The system of 枫桥镇's platform (a dispatching unit of its township): read, act and assign."""
    return _token("fq-system", "fq-platform")


def _unit(code):
    return Unit.objects.get(code=code)


def _at(case, status, dispatcher, handler, **extra):
    return advance_case(case, status, dispatcher=dispatcher, handler=handler, lead_unit=_unit("fq-platform"), **extra)


def _running_stage(case) -> str:
    return CaseDeadline.objects.filter(case=case, met_at=None, cancelled_at=None).exclude(
        stage__in=PARTY_STAGES).order_by("id").values_list("stage", flat=True).first()


# --- each action: its effect, one timeline event of its own, the new ETag ---------------------------------------


def _registered(registrar, dispatcher, handler, mediator):
    return make_case(registrar)


def _accepted(registrar, dispatcher, handler, mediator):
    return _at(make_case(registrar), CaseStatus.ACCEPTED, dispatcher, handler)


def _assigned(registrar, dispatcher, handler, mediator):
    return _at(make_case(registrar), CaseStatus.ASSIGNED, dispatcher, handler)


def _signed(registrar, dispatcher, handler, mediator):
    return _at(make_case(registrar), CaseStatus.SIGNED, dispatcher, handler)


def _in_progress(registrar, dispatcher, handler, mediator):
    return _at(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher, handler, mode=HandlingMode.ADMINISTRATIVE)


def _concluded(registrar, dispatcher, handler, mediator):
    case = _at(make_case(registrar), CaseStatus.IN_PROGRESS, dispatcher, handler, mode=HandlingMode.ADMINISTRATIVE)
    return actions.do_conclude_case(case.code, actor=handler, outcome="opinion_support")


def _closed(registrar, dispatcher, handler, mediator):
    case = _concluded(registrar, dispatcher, handler, mediator)
    return actions.do_close_case(case.code, actor=dispatcher)


def _transfer_to_fq(registrar, dispatcher, handler, mediator):
    """Signed by 枫源村 committee, which asks 枫桥镇's platform to take it over."""
    case = advance_case(make_case(registrar), CaseStatus.SIGNED, dispatcher=dispatcher, handler=mediator,
                        lead_unit=_unit("fy-committee"))
    actions.do_request_transfer(case.code, actor=mediator, to_unit_code="fq-platform", reason="涉及镇级规划，村里无法处理")
    return case


def _extension_asked(registrar, dispatcher, handler, mediator):
    case = _signed(registrar, dispatcher, handler, mediator)
    actions.do_request_extension(case.code, actor=handler, stage=_running_stage(case), days=5, reason="需现场勘验")
    return case


def _paused(registrar, dispatcher, handler, mediator):
    case = _signed(registrar, dispatcher, handler, mediator)
    actions.do_pause_deadline(case.code, actor=handler, stage=_running_stage(case), reason="等待鉴定结论")
    return case


STAGE = "<running stage>"
SCENARIOS = [
    # (action, setup, body, status after)
    ("accept", _registered, {}, "accepted"),
    ("decline", _registered, {"reason": "不属于受理范围", "route_told": "已告知向人民法院起诉"}, "not_accepted"),
    ("assign", _accepted, {"lead_unit": "fq-platform", "co_units": ["fy-committee"], "note": "请枫桥镇牵头",
                           "override_reason": "由接口指定"}, "assigned"),
    ("sign", _assigned, {}, "signed"),
    ("return", _assigned, {"reason": "不属本单位职责"}, "returned"),
    ("start_handling", _signed, {"mode": "administrative"}, "in_progress"),
    ("divert", _in_progress, {"route": "litigation", "reason": "当事人坚持起诉"}, "diverted"),
    ("conclude", _in_progress, {"outcome": "opinion_explain", "summary": "已向当事人解释政策"}, "concluded"),
    ("close", _concluded, {"note": "经核实已办结"}, "closed"),
    ("reopen", _closed, {"reason": "群众反映未解决"}, "in_progress"),
    ("escalate", _signed, {"reason": "涉及多个乡镇，需县级协调"}, "accepted"),
    ("request_transfer", _signed, {"to_unit": "fy-committee", "reason": "村调委会更熟悉情况"}, "signed"),
    ("accept_transfer", _transfer_to_fq, {}, "signed"),
    ("refuse_transfer", _transfer_to_fq, {"reason": "不属本单位职责"}, "signed"),
    ("record_consultation", _signed, {"units": ["fq-platform", "fy-committee"], "minutes": "两单位会商排水沟问题",
                                      "decisions": "由村调委会上门调解"}, "signed"),
    ("mark_urgent", _registered, {"reason": "汛期积水影响居住"}, "registered"),
    ("request_extension", _signed, {"stage": STAGE, "days": 5, "reason": "需现场勘验"}, "signed"),
    ("decide_extension", _extension_asked, {"approve": True}, "signed"),
    ("pause_deadline", _signed, {"stage": STAGE, "reason": "等待鉴定结论"}, "signed"),
    ("resume_deadline", _paused, {"stage": STAGE}, "signed"),
]


@pytest.mark.parametrize(("action", "setup", "body", "after"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_action_runs_once_and_answers_the_matter_with_its_new_etag(
    client, fq, registrar, dispatcher, handler, mediator, action, setup, body, after,
):
    case = setup(registrar, dispatcher, handler, mediator)
    if body.get("stage") == STAGE:
        body = {**body, "stage": _running_stage(case)}
    version = Case.objects.get(pk=case.pk).version
    own_events = CaseEvent.objects.filter(case=case, action=action).count()
    own_audits = AuditEvent.objects.filter(action=f"case.{action}", object_id=case.code).count()

    response = _act(client, case, action, body, fq, version=version)

    case = Case.objects.get(pk=case.pk)
    assert response.status_code == 200, response.json()
    assert (response.json()["code"], response.json()["status"], case.status) == (case.code, after, after)
    assert response["ETag"] == f'W/"{case.version}"' and response.json()["version"] == case.version > version
    assert CaseEvent.objects.filter(case=case, action=action).count() == own_events + 1
    assert AuditEvent.objects.filter(action=f"case.{action}", object_id=case.code).count() == own_audits + 1
    event = CaseEvent.objects.filter(case=case, action=action).latest("seq")
    assert (event.actor.username, event.actor_unit.code) == ("api-client-fq-system", "fq-platform")


def test_assign_records_lead_and_co_units_as_the_dispatcher(client, fq, registrar, dispatcher, handler, mediator):
    case = _accepted(registrar, dispatcher, handler, mediator)

    body = _act(client, case, "assign", SCENARIOS[2][2], fq).json()

    assert [(a["unit"]["code"], a["role"], a["status"]) for a in body["assignments"]] == [
        ("fq-platform", "lead", "pending"), ("fy-committee", "co", "pending")]
    assert body["lead_unit"] == {"code": "fq-platform", "name": "枫桥镇综治工作平台"}


def test_side_actions_keep_their_records(client, fq, registrar, dispatcher, handler, mediator):
    signed = _signed(registrar, dispatcher, handler, mediator)
    stage = _running_stage(signed)

    _act(client, signed, "request_extension", {"stage": stage, "days": 5, "reason": "需现场勘验"}, fq)
    _act(client, signed, "decide_extension", {"approve": False, "reason": "期限内可以办结"}, fq)
    _act(client, signed, "record_consultation", SCENARIOS[14][2], fq)
    _act(client, signed, "request_transfer", {"to_unit": "fy-committee", "reason": "村调委会更熟悉情况"}, fq)

    assert list(ExtensionRequest.objects.filter(case=signed).values_list("days", "status", "decision_reason")) == [
        (5, "refused", "期限内可以办结")]
    assert list(Consultation.objects.filter(case=signed).values_list("unit_names", "decisions")) == [
        (["枫桥镇综治工作平台", "枫源村人民调解委员会"], "由村调委会上门调解")]
    assert list(Transfer.objects.filter(case=signed).values_list("to_unit__code", "status")) == [
        ("fy-committee", "pending")]


def test_resolve_on_spot_by_the_registering_client(client, fq):
    from yidi.accounts.models import ApiClient

    case = make_case(ApiClient.objects.get(name="fq-system").user)

    response = _act(client, case, "resolve_on_spot", {"outcome": "oral_agreement", "summary": "双方当场同意疏通排水沟"}, fq)

    case = Case.objects.get(pk=case.pk)
    assert (response.status_code, case.status, case.outcome, case.lead_unit.code) == (
        200, "concluded", "oral_agreement", "fq-platform")


# --- who may: scopes and the dispatcher role -----------------------------------------------------------------------


def test_the_dispatchers_actions_need_the_assign_scope(client, registrar, dispatcher, handler, mediator):
    acting = _token("fq-acting", "fq-platform", ["cases:read", "cases:act"])
    case = _accepted(registrar, dispatcher, handler, mediator)
    before = snapshot(case)

    response = _act(client, case, "assign", {"lead_unit": "fq-platform", "override_reason": "由接口指定"}, acting)

    assert (response.status_code, response.json()) == (
        403, {"code": "forbidden_scope", "message": "此客户端没有“交办、转办、改派（指挥调度）”（cases:assign）权限"})
    assert snapshot(case) == before


def test_a_department_client_with_the_assign_scope_is_no_dispatcher(client, registrar, dispatcher, handler, mediator):
    department = _token("hrss-system", "hrss", SCOPES)
    case = make_case(registrar, primary_type_code="labour")
    actions.do_accept_case(case.code, actor=dispatcher)
    before = snapshot(case)

    response = _act(client, case, "assign", {"lead_unit": "hrss", "override_reason": "由接口指定"}, department)

    assert (response.status_code, response.json()) == (
        403, {"code": "action_denied", "message": "您的角色无权执行此操作"})
    assert snapshot(case) == before


def test_the_dispatcher_role_is_only_for_the_assign_operations(client, fq, registrar, dispatcher, handler, mediator):
    """Escalating is a lead unit's action (cases:act): a client not leading the matter may not, even with
    cases:assign."""
    case = advance_case(make_case(registrar), CaseStatus.SIGNED, dispatcher=dispatcher, handler=mediator,
                        lead_unit=_unit("fy-committee"))
    before = snapshot(case)

    response = _act(client, case, "escalate", {"reason": "需县级协调"}, fq)

    assert (response.status_code, response.json()["code"]) == (403, "action_denied")
    assert snapshot(case) == before


# --- refusals change nothing ----------------------------------------------------------------------------------------


def test_out_of_scope_stale_missing_etag_and_illegal_steps_change_nothing(client, fq, registrar, dispatcher, handler,
                                                                         mediator):
    jy = _token("jy-system", "jy-platform")
    case = _signed(registrar, dispatcher, handler, mediator)
    before = snapshot(case)
    url = f"/api/v1/cases/{case.code}/actions/start_handling"

    out_of_scope = _act(client, case, "start_handling", {"mode": "mediation"}, jy)
    stale = _act(client, case, "start_handling", {"mode": "mediation"}, fq, version=1)
    missing = _post(client, url, {"mode": "mediation"}, **fq)
    illegal = _act(client, case, "sign", {}, fq)

    assert (out_of_scope.status_code, out_of_scope.json()) == (404, {"code": "not_found", "message": "事项不存在或无权查看"})
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert (illegal.status_code, illegal.json()) == (
        409, {"code": "illegal_transition", "message": "当前状态“已签收”下不能执行“签收”"})
    assert snapshot(case) == before


@pytest.mark.parametrize(("action", "body", "code", "field"), [
    ("decline", {"reason": " ", "route_told": "已告知"}, "invalid_input", "reason"),
    ("decline", {"reason": "不属于受理范围", "route_told": ""}, "invalid_input", "route_told"),
    ("decline", {"reason": "不属于受理范围"}, "validation_error", "route_told"),
    ("assign", {"lead_unit": "nowhere", "override_reason": "由接口指定"}, "invalid_input", "lead_unit"),
    ("assign", {"lead_unit": "jy-platform", "override_reason": "由接口指定"}, "invalid_input", "lead_unit"),
    ("assign", {"lead_unit": "fq-platform", "status": "closed"}, "validation_error", "status"),
    ("accept", {"reason": "多余字段"}, "validation_error", "reason"),
    ("mark_urgent", {"reason": 5}, "validation_error", "reason"),
])
def test_bad_input_is_400_with_the_field_and_changes_nothing(client, fq, registrar, dispatcher, action, body, code,
                                                             field):
    case = make_case(registrar)
    if action == "assign":
        actions.do_accept_case(case.code, actor=dispatcher)
    before = snapshot(case)

    response = _act(client, case, action, body, fq)

    error = response.json()
    assert (response.status_code, error["code"]) == (400, code)
    assert (error.get("field") or error["details"][0]["loc"][-1]) == field
    assert snapshot(case) == before


def test_a_second_extension_a_party_period_or_a_clock_not_paused_is_refused(client, fq, registrar, dispatcher,
                                                                            handler, mediator):
    case = _extension_asked(registrar, dispatcher, handler, mediator)
    before = snapshot(case)

    again = _act(client, case, "request_extension", {"stage": _running_stage(case), "days": 3,
                                                      "reason": "需现场勘验"}, fq)
    not_paused = _act(client, case, "resume_deadline", {"stage": _running_stage(case)}, fq)
    party_stage = _act(client, case, "request_extension", {"stage": "party_response", "days": 5,
                                                            "reason": "需现场勘验"}, fq)
    zero = _act(client, case, "request_extension", {"stage": _running_stage(case), "days": 0, "reason": "需"}, fq)

    assert (again.status_code, again.json()) == (409, {"code": "rule_violation", "message": "该期限已有待审批的延期申请"})
    assert (not_paused.status_code, not_paused.json()) == (409, {"code": "rule_violation", "message": "该期限未暂停"})
    assert (party_stage.status_code, party_stage.json()["code"]) == (400, "validation_error")
    assert (zero.status_code, zero.json()["code"]) == (400, "validation_error")
    assert snapshot(case) == before


# --- retries: Idempotency-Key on an action ----------------------------------------------------------------------------


def test_a_retried_action_with_its_key_gets_the_first_answer_instead_of_412(client, fq, registrar):
    case = make_case(registrar)

    first = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, HTTP_IF_MATCH='W/"1"',
                  HTTP_IDEMPOTENCY_KEY="acc-1", **fq)
    retry = _post(client, f"/api/v1/cases/{case.code}/actions/accept", {}, HTTP_IF_MATCH='W/"1"',
                  HTTP_IDEMPOTENCY_KEY="acc-1", **fq)
    other = _post(client, f"/api/v1/cases/{case.code}/actions/decline", {"reason": "x", "route_told": "y"},
                  HTTP_IF_MATCH='W/"2"', HTTP_IDEMPOTENCY_KEY="acc-1", **fq)

    assert (first.status_code, retry.status_code, retry.content, retry["ETag"]) == (200, 200, first.content, 'W/"2"')
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1
    assert Case.objects.get(pk=case.pk).status == "accepted"


def test_a_refused_action_does_not_use_up_its_key(client, fq, registrar):
    case = make_case(registrar)
    url = f"/api/v1/cases/{case.code}/actions/accept"

    stale = _post(client, url, {}, HTTP_IF_MATCH='W/"9"', HTTP_IDEMPOTENCY_KEY="acc-2", **fq)
    good = _post(client, url, {}, HTTP_IF_MATCH='W/"1"', HTTP_IDEMPOTENCY_KEY="acc-2", **fq)
    bad_key = _post(client, url, {}, HTTP_IF_MATCH='W/"2"', HTTP_IDEMPOTENCY_KEY="键", **fq)

    assert (stale.status_code, good.status_code) == (412, 200)
    assert (bad_key.status_code, bad_key.json()["code"]) == (400, "invalid_idempotency_key")
