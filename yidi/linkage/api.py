"""The linkage part of the native API (/api/v1/linkage/): what another yidi instance posts here (三级联动).

Parse → authorise → one action → render:
- every operation needs a client token with scope `linkage:exchange`; the client must be the inbound client of an
  active peer (`Peer.api_client`) of the direction that sends that message (reports and transfer requests come
  from a platform below, assignments and transfer results from the platform above); otherwise 403 `not_a_peer`;
- each message carries its own `id`; every action is idempotent, so a retried delivery changes nothing more.
"""

from django.http import HttpRequest
from ninja import Router, Status

from yidi.accounts.api_auth import client_auth
from yidi.accounts.models import ApiScope
from yidi.core.api_errors import error_response, register_error
from yidi.linkage import actions
from yidi.linkage.domain import SENDER_DIRECTION, LinkageError, MessageType
from yidi.linkage.models import Peer
from yidi.linkage.schemas import (
    AssignmentIn,
    AssignmentOut,
    CaseReportIn,
    ErrorOut,
    FiguresReportIn,
    ReportOut,
    TransferOut,
    TransferRequestIn,
    TransferResultIn,
    TransferResultOut,
)

router = Router(tags=["三级联动"])


class NotAPeer(Exception):
    pass


register_error(NotAPeer, 403, "not_a_peer", "此客户端不是本平台已启用的相应联动平台")
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut}
AUTH = client_auth(ApiScope.LINKAGE_EXCHANGE)
STATUS_BY_CODE = {"not_found": 404, "no_upstream": 409, "forbidden": 403}


def _refusal(error: LinkageError):
    """A broken rule: its stable code, 400 unless `STATUS_BY_CODE` says otherwise."""
    return error_response(STATUS_BY_CODE.get(error.code, 400), error.code, str(error), field=error.field or None)


def _peer(request: HttpRequest, message_type: MessageType) -> Peer:
    peer = Peer.objects.filter(api_client=request.auth, is_active=True,
                               direction=SENDER_DIRECTION[message_type]).first()
    if peer is None:
        raise NotAPeer()
    return peer


@router.post("/reports/cases", response={200: ReportOut, **ERRORS}, auth=AUTH, url_name="api_linkage_case_report",
             summary="下级平台上报事项（新事项或状态变化，不含个人信息）")
def receive_case_report(request: HttpRequest, payload: CaseReportIn):
    peer = _peer(request, MessageType.CASE_REPORT)
    try:
        result = actions.do_receive_case_report(peer, payload.model_dump(by_alias=True), actor=request.auth.user)
    except LinkageError as error:
        return _refusal(error)
    return {"result": result}


@router.post("/reports/figures", response={200: ReportOut, **ERRORS}, auth=AUTH,
             url_name="api_linkage_figures_report", summary="下级平台上报月度数据")
def receive_figures(request: HttpRequest, payload: FiguresReportIn):
    peer = _peer(request, MessageType.FIGURES_REPORT)
    try:
        result = actions.do_receive_figures(peer, payload.model_dump(by_alias=True, mode="json"),
                                            actor=request.auth.user)
    except LinkageError as error:
        return _refusal(error)
    return {"result": result}


@router.post("/transfers", response={200: TransferOut, **ERRORS}, auth=AUTH, url_name="api_linkage_transfer",
             summary="下级平台申请跨区域移交")
def receive_transfer_request(request: HttpRequest, payload: TransferRequestIn):
    peer = _peer(request, MessageType.TRANSFER_REQUEST)
    try:
        assignment = actions.do_receive_transfer_request(peer, payload.model_dump(by_alias=True, mode="json"),
                                                         actor=request.auth.user)
    except LinkageError as error:
        return _refusal(error)
    return {"reference": str(assignment.pk), "status": assignment.status}


@router.post("/assignments", response={200: AssignmentOut, 201: AssignmentOut, **ERRORS}, auth=AUTH,
             url_name="api_linkage_assignment", summary="上级平台交办事项（含跨区域移交转来的事项）")
def receive_assignment(request: HttpRequest, payload: AssignmentIn):
    peer = _peer(request, MessageType.ASSIGNMENT)
    try:
        case, created = actions.do_receive_assignment(peer, payload.model_dump(by_alias=True, mode="json"),
                                                      actor=request.auth.user)
    except LinkageError as error:
        return _refusal(error)
    return Status(201 if created else 200, {"case_code": case.code, "created": created})


@router.post("/transfer-results", response={200: TransferResultOut, **ERRORS}, auth=AUTH,
             url_name="api_linkage_transfer_result", summary="上级平台告知跨区域移交结果")
def receive_transfer_result(request: HttpRequest, payload: TransferResultIn):
    peer = _peer(request, MessageType.TRANSFER_RESULT)
    try:
        transfer = actions.do_receive_transfer_result(peer, payload.model_dump(by_alias=True),
                                                      actor=request.auth.user)
    except LinkageError as error:
        return _refusal(error)
    return {"status": transfer.status, "destination_code": transfer.destination_code}
