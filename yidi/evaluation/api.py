"""The evaluation part of the native API: a matter's evaluations (评价) and return visits (回访).

- reads need `cases:read`; writes need `evaluations:write`, `If-Match` with the matter's ETag (each write moves
  the matter: an evaluation, a visit's timeline step) and may carry `Idempotency-Key`;
- an evaluation is recorded on the person's behalf (by phone or at the window) through
  `cases.actions.do_evaluate_case`; this app's timeline listener keeps it, one per round, and a 不满意 reopens the
  matter by rule in the same transaction (`yidi.evaluation.actions`);
- a scheduled return visit is recorded through `evaluation.actions.do_record_return_visit` (performance,
  satisfaction, lawsuit, remaining risk); a stated satisfaction becomes the round's evaluation when none was
  recorded yet. A matter without a scheduled visit takes the lifecycle step itself
  (`cases.actions.do_record_return_visit`, with the visit's summary);
- free texts are sent with ID and mobile numbers masked.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field, StrictBool, StrictStr

from yidi.accounts import access
from yidi.accounts.api_auth import as_json, client_auth, client_throttle, expected_version, respond_once
from yidi.accounts.models import ApiScope
from yidi.cases import actions as case_actions
from yidi.cases.domain import EVALUATION_LABELS, STATUS_LABELS, CaseStatus, Evaluation
from yidi.cases.models import Case
from yidi.cases.schemas import CodeName, ErrorOut, RequestSchema
from yidi.core.masking import mask_in_text
from yidi.evaluation import actions, queries
from yidi.evaluation.domain import (
    EVALUATION_METHOD_LABELS,
    LAWSUIT_LABELS,
    PERFORMANCE_LABELS,
    REVIEW_STATE_LABELS,
    SATISFACTION_LABELS,
    VISIT_METHOD_LABELS,
    VISIT_STATUS_LABELS,
    Lawsuit,
    Performance,
    Satisfaction,
    VisitMethod,
)

router = Router(tags=["评价与回访"], throttle=client_throttle())
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 412: ErrorOut, 413: ErrorOut,
          422: ErrorOut, 428: ErrorOut, 429: ErrorOut}


def _text(max_length: int):
    return Annotated[StrictStr, Field(max_length=max_length)]


class EvaluationIn(RequestSchema):
    result: Evaluation
    note: _text(2000) = Field("", description="群众的具体意见；“不满意”必填")
    method: Literal["phone", "window"] = Field(description="代为评价的方式：电话或窗口")


class ReturnVisitIn(RequestSchema):
    method: VisitMethod
    summary: _text(5000)
    performance: Performance = Performance.NOT_APPLICABLE
    satisfaction: Satisfaction = Satisfaction.NOT_STATED
    lawsuit: Lawsuit = Lawsuit.NONE
    lawsuit_note: _text(300) = ""
    risk_remaining: StrictBool = False
    risk_signs: _text(2000) = ""
    measures: _text(2000) = ""


class UnscheduledVisitIn(RequestSchema):
    summary: _text(5000)


class EvaluationOut(Schema):
    round: int
    result: str
    result_label: str
    note: str
    method: str
    method_label: str
    on_behalf: bool
    recorded_at: datetime
    review_state: str
    review_state_label: str


class EvaluationsOut(Schema):
    code: str
    round: int
    evaluations: list[EvaluationOut]


class CaseStateOut(Schema):
    code: str
    status: str
    status_label: str
    version: int


class RecordedEvaluationOut(EvaluationOut):
    case: CaseStateOut


class ReturnVisitOut(Schema):
    id: int
    round: int
    due_on: date
    status: str
    status_label: str
    unit: CodeName | None
    is_follow_up: bool
    done_at: datetime | None
    method: str
    method_label: str
    performance: str
    performance_label: str
    satisfaction: str
    satisfaction_label: str
    lawsuit: str
    lawsuit_label: str
    risk_remaining: bool
    risk_disposed_at: datetime | None
    summary: str
    cancelled_at: datetime | None
    cancel_reason: str


class ReturnVisitsOut(Schema):
    code: str
    return_visits: list[ReturnVisitOut]


class RecordedVisitOut(ReturnVisitOut):
    case: CaseStateOut


def _label(labels: dict, value: str) -> str:
    return next((label for key, label in labels.items() if key == value), "") if value else ""


def _evaluation(row) -> dict:
    return {
        "round": row.round, "result": row.result, "result_label": _label(EVALUATION_LABELS, row.result),
        "note": mask_in_text(row.note), "method": row.method, "method_label": _label(EVALUATION_METHOD_LABELS, row.method),
        "on_behalf": row.on_behalf, "recorded_at": row.recorded_at, "review_state": row.review_state,
        "review_state_label": _label(REVIEW_STATE_LABELS, row.review_state),
    }


def _visit(visit) -> dict:
    return {
        "id": visit.pk, "round": visit.round, "due_on": visit.due_on, "status": visit.status,
        "status_label": _label(VISIT_STATUS_LABELS, visit.status),
        "unit": None if visit.unit is None else {"code": visit.unit.code, "name": visit.unit.name},
        "is_follow_up": visit.is_follow_up, "done_at": visit.done_at, "method": visit.method,
        "method_label": _label(VISIT_METHOD_LABELS, visit.method), "performance": visit.performance,
        "performance_label": _label(PERFORMANCE_LABELS, visit.performance), "satisfaction": visit.satisfaction,
        "satisfaction_label": _label(SATISFACTION_LABELS, visit.satisfaction), "lawsuit": visit.lawsuit,
        "lawsuit_label": _label(LAWSUIT_LABELS, visit.lawsuit), "risk_remaining": visit.risk_remaining,
        "risk_disposed_at": visit.risk_disposed_at, "summary": mask_in_text(visit.summary),
        "cancelled_at": visit.cancelled_at, "cancel_reason": mask_in_text(visit.cancel_reason),
    }


def _state(case: Case) -> dict:
    return {"code": case.code, "status": case.status, "status_label": STATUS_LABELS[CaseStatus(case.status)],
            "version": case.version}


# --- reads ----------------------------------------------------------------------------------------------------


@router.get("/cases/{code}/evaluations", response={200: EvaluationsOut, **ERRORS},
            auth=client_auth(ApiScope.CASES_READ), url_name="api_case_evaluations",
            summary="事项的群众评价（每轮一次；重办开始新一轮）")
def list_evaluations(request: HttpRequest, code: str):
    case = access.get_case_for_user(request.auth.user, code)
    rows = case.evaluations.order_by("round")
    return {"code": case.code, "round": queries.current_round(case), "evaluations": [_evaluation(r) for r in rows]}


@router.get("/cases/{code}/return-visits", response={200: ReturnVisitsOut, **ERRORS},
            auth=client_auth(ApiScope.CASES_READ), url_name="api_case_return_visits",
            summary="事项的回访：应回访日期、责任单位、回访记录与风险")
def list_return_visits(request: HttpRequest, code: str):
    case = access.get_case_for_user(request.auth.user, code)
    return {"code": case.code, "return_visits": [_visit(v) for v in queries.list_case_visits(case)]}


# --- writes (If-Match) --------------------------------------------------------------------------------------------


@router.post("/cases/{code}/evaluations", response={201: RecordedEvaluationOut, **ERRORS},
             auth=client_auth(ApiScope.EVALUATIONS_WRITE), url_name="api_case_evaluations",
             summary="代群众登记评价（电话或窗口；须带 If-Match；不满意按规则重办）")
def record_evaluation(request: HttpRequest, code: str, payload: EvaluationIn):
    client = request.auth
    version = expected_version(request)

    def evaluate() -> tuple[int, dict]:
        case_actions.do_at_version(code, actor=client.user, expected_version=version, perform=lambda: (
            case_actions.do_evaluate_case(code, actor=client.user, evaluation=payload.result, note=payload.note,
                                          method=payload.method)))
        case = access.get_case_for_user(client.user, code)
        return 201, as_json({**_evaluation(case.evaluations.order_by("-round").first()), "case": _state(case)})

    return respond_once(request, evaluate, version_of=lambda body: body["case"]["version"])


@router.post("/cases/{code}/return-visits/{visit_id}", response={200: RecordedVisitOut, **ERRORS},
             auth=client_auth(ApiScope.EVALUATIONS_WRITE), url_name="api_case_return_visit",
             summary="登记已安排的回访（履行、满意度、起诉信访、风险；须带 If-Match）")
def record_return_visit(request: HttpRequest, code: str, visit_id: int, payload: ReturnVisitIn):
    client = request.auth
    version = expected_version(request)

    def record() -> tuple[int, dict]:
        def perform():
            if queries.get_visit_for_user(client.user, visit_id).case.code != code:
                raise access.CaseNotFound("回访不存在或无权查看")
            return actions.do_record_return_visit(visit_id, actor=client.user, **payload.model_dump())

        visit = case_actions.do_at_version(code, actor=client.user, expected_version=version, perform=perform)
        case = access.get_case_for_user(client.user, code)
        return 200, as_json({**_visit(visit), "case": _state(case)})

    return respond_once(request, record, version_of=lambda body: body["case"]["version"])


@router.post("/cases/{code}/return-visits", response={200: CaseStateOut, **ERRORS},
             auth=client_auth(ApiScope.EVALUATIONS_WRITE), url_name="api_case_return_visits",
             summary="登记回访（事项没有已安排的回访时；须带 If-Match）")
def record_unscheduled_return_visit(request: HttpRequest, code: str, payload: UnscheduledVisitIn):
    client = request.auth
    version = expected_version(request)

    def record() -> tuple[int, dict]:
        case = case_actions.do_at_version(code, actor=client.user, expected_version=version, perform=lambda: (
            case_actions.do_record_return_visit(code, actor=client.user, summary=payload.summary)))
        return 200, as_json(_state(case))

    return respond_once(request, record, version_of=lambda body: body["version"])

