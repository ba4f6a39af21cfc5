"""Writes of 三级联动. Upward (this county → the platform above): a report of each reported step of a matter,
written by `on_case_event` (an `EVENT_LISTENERS` entry) in the step's own transaction; the month's figures
(`do_report_figures`); a cross-region transfer (`do_request_transfer`). Downward (the platform above → a county):
an assignment (`do_assign_down`), a transfer forwarded (`do_receive_transfer_request`) and its result.

Every outbound message is one outbox row of kind `linkage` (`yidi.integrations`), keyed by peer and step, and
delivered by `transports.LinkageTransport`. Reports carry no personal data; an assignment's or a transfer's
content (title, description, parties) is read by the transport from its encrypted row when it is sent, so the
outbox never stores it. Every receiving action is idempotent (see each docstring).
"""

import json
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from yidi.audit.actions import record
from yidi.cases import actions as case_actions
from yidi.cases.bulk import enqueue_outbox_many
from yidi.cases.domain import STATUS_LABELS, CaseDraft, CaseStatus, PartyDraft, RequestType
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.integrations import actions as outbox
from yidi.integrations.domain import MessageStatus
from yidi.integrations.models import OutboxMessage
from yidi.linkage import queries
from yidi.linkage.domain import (
    FORMAT,
    PATHS,
    AssignmentKind,
    AssignmentStatus,
    LinkageError,
    MessageType,
    PeerDirection,
    TransferStatus,
    belongs_to,
    idempotency_key,
    is_newer,
    is_region_code,
    is_reported_step,
    parse_key,
    parse_month,
    transfer_decline_reason,
    transfer_route_told,
)
from yidi.linkage.models import (
    DownwardAssignment,
    FiguresReport,
    Peer,
    ReceivedAssignment,
    ReportedCase,
    ReportedFigures,
    TransferRequest,
)
from yidi.regions.models import Region

KIND = "linkage"
HIGHER_ASSIGNMENT_CHANNEL = "higher_assignment"  # 上级交办, seeded by cases/migrations/0002_seed_channels
# (peer id, reference) of the assignment being registered now, so that its first report names it
_RECEIVING: ContextVar[tuple[int, str] | None] = ContextVar("linkage_receiving", default=None)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _envelope(key: str, message_type: MessageType) -> dict:
    return {"format": FORMAT, "type": str(message_type), "id": key,
            "from": {"region": settings.COUNTY_CODE, "name": getattr(settings, "CENTRE_NAME", "")}}


def _send(peer: Peer, message_type: MessageType, key: str, payload: dict, *, subject_id: str = "",
          subject_type: str = "case") -> OutboxMessage | None:
    return outbox.enqueue(
        kind=KIND, destination=peer.base_url.rstrip("/") + PATHS[message_type], idempotency_key=key,
        payload=payload, subject_type=subject_type if subject_id else "", subject_id=subject_id,
        template=str(message_type),
    )


def _touch(peer: Peer) -> None:
    Peer.objects.filter(pk=peer.pk).update(last_contact_at=clock.now())


# --- upward: matters --------------------------------------------------------------------------------------


_LOOK_UP = object()


def case_summary(case: Case, *, township=_LOOK_UP) -> dict:
    """The matter as reported up: code, type, grade, place, status, dates, lead unit — no personal data (no
    title, description, party, address or coordinates). `township` ((code, name) or None) when already read."""
    if township is _LOOK_UP:
        township = Region.objects.filter(code=case.region_id[:9]).values_list("code", "name").first()
    return {
        "code": case.code, "version": case.version, "status": case.status,
        "status_label": STATUS_LABELS[CaseStatus(case.status)], "request_type": case.request_type,
        "type": {"code": case.primary_type.code, "name": case.primary_type.name} if case.primary_type_id else None,
        "grade": case.grade, "complexity": case.complexity, "is_urgent": case.is_urgent,
        "region": {"code": case.region_id, "name": case.region.name},
        "township": {"code": township[0], "name": township[1]} if township else None,
        "channel": case.channel.code,
        "lead_unit": {"code": case.lead_unit.code, "name": case.lead_unit.name} if case.lead_unit_id else None,
        "registered_at": _iso(case.registered_at), "accepted_at": _iso(case.accepted_at),
        "concluded_at": _iso(case.concluded_at), "closed_at": _iso(case.closed_at), "due_at": _iso(case.due_at),
    }


def _report_messages(case: Case, event: CaseEvent, peers: list[Peer], *, origin, township=_LOOK_UP) -> list[dict]:
    """The outbox messages (keyword arguments of `outbox.enqueue`) reporting one step to each peer above."""
    summary = case_summary(case, township=township)
    summary["version"] = event.seq
    messages = []
    for peer in peers:
        key = idempotency_key(peer.pk, MessageType.CASE_REPORT, case.code, event.seq)
        messages.append({
            "kind": KIND, "destination": peer.base_url.rstrip("/") + PATHS[MessageType.CASE_REPORT],
            "idempotency_key": key, "subject_type": "case", "subject_id": case.code,
            "template": str(MessageType.CASE_REPORT),
            "payload": {
                **_envelope(key, MessageType.CASE_REPORT), "case": summary,
                "step": {"action": event.action, "at": _iso(event.at)},
                "assignment": origin[1] if origin and origin[0] == peer.pk else "",
            },
        })
    return messages


def _origin(case: Case, event: CaseEvent):
    """(peer id, reference) of the assignment from above the matter came from, or None. A matter being registered
    has no `ReceivedAssignment` yet (it is written after the registration): only the one being received now."""
    receiving = _RECEIVING.get()
    if receiving or event.action == "register":
        return receiving
    return ReceivedAssignment.objects.filter(case=case).values_list("peer_id", "reference").first()


def on_case_event(case: Case, event: CaseEvent) -> None:
    """Report a step up to every active platform above (an `EVENT_LISTENERS` entry: in the step's transaction).
    A step that is not reported reads nothing; one that is reads the active peers (one query, nothing more when
    there are none)."""
    if outbox.is_muted() or not is_reported_step(event.action, event.from_status, event.to_status):
        return
    peers = queries.active_peers(PeerDirection.ABOVE)
    if not peers:
        return
    for message in _report_messages(case, event, peers, origin=_origin(case, event)):
        outbox.enqueue(**message)


def _report_batch(pairs) -> None:
    """The batch form (`yidi.cases.bulk`): the same messages as `on_case_event` on each (case, event) in order,
    with the peers, the origins and the townships read once per batch and the messages written with one insert."""
    if outbox.is_muted():
        return
    reported = [(case, event) for case, event in pairs
                if is_reported_step(event.action, event.from_status, event.to_status)]
    if not reported:
        return
    peers = queries.active_peers(PeerDirection.ABOVE)
    if not peers:
        return
    receiving = _RECEIVING.get()
    origins: dict[int, tuple[int, str]] = {}
    looked_up = {case.pk for case, event in reported if event.action != "register"}
    if not receiving and looked_up:
        for case_id, peer_id, reference in ReceivedAssignment.objects.filter(case_id__in=looked_up).values_list(
                "case_id", "peer_id", "reference"):
            origins.setdefault(case_id, (peer_id, reference))  # the model's order: the newest first, as `.first()`
    townships = dict(
        (code, (code, name)) for code, name in Region.objects.filter(
            code__in={case.region_id[:9] for case, _ in reported}).values_list("code", "name")
    )
    messages = []
    for case, event in reported:
        origin = receiving or (None if event.action == "register" else origins.get(case.pk))
        messages += _report_messages(case, event, peers, origin=origin, township=townships.get(case.region_id[:9]))
    enqueue_outbox_many(messages)


on_case_event.for_batch = _report_batch  # type: ignore[attr-defined]


# --- upward: figures --------------------------------------------------------------------------------------


@transaction.atomic
def do_report_figures(month: str, *, actor=None) -> FiguresReport:
    """Compute the month's figures and send them to every active platform above; each run gets the next
    sequence number, so the platform above keeps the latest run whatever the delivery order."""
    parse_month(month)
    figures = queries.count_month_figures(month)
    now = clock.now()
    try:
        with transaction.atomic():
            report = FiguresReport.objects.create(month=month, sequence=0, figures={}, computed_at=now)
    except IntegrityError:
        pass
    report = FiguresReport.objects.select_for_update().get(month=month)
    report.sequence += 1
    report.figures, report.computed_at = figures, now
    report.save(update_fields=["sequence", "figures", "computed_at"])
    for peer in queries.active_peers(PeerDirection.ABOVE):
        key = idempotency_key(peer.pk, MessageType.FIGURES_REPORT, month, report.sequence)
        _send(peer, MessageType.FIGURES_REPORT, key, {
            **_envelope(key, MessageType.FIGURES_REPORT), "month": month, "sequence": report.sequence,
            "computed_at": _iso(now), "figures": figures,
        })
    record(actor=actor, action="linkage.report_figures", object_type="linkage_figures", object_id=month,
           fields=["figures"], data={"sequence": report.sequence, "registered": figures["registered"]})
    return report


# --- the content of a matter that moves (assignment, transfer) -----------------------------------------------


def matter_content(case: Case) -> dict:
    """What another county needs to register a transferred matter: its facts and parties (personal data: read
    by the transport when sending, never stored in the outbox)."""
    parties = case.parties.select_related("person").order_by("position", "id")
    return {
        "title": case.title, "description": case.description, "request_type": case.request_type,
        "region": case.region_id, "address": case.address, "occurred_at": _iso(case.occurred_at),
        "people_involved": case.people_involved,
        "amount_involved": str(case.amount_involved) if case.amount_involved is not None else None,
        "type": case.primary_type.code if case.primary_type_id else "", "grade": case.grade,
        "is_urgent": case.is_urgent,
        "parties": [{"role": p.role, "name": p.person.name, "kind": p.person.kind, "id_number": p.person.id_number or "",
                     "phone": p.person.phone or "", "address": p.person.address or "",
                     "credit_code": p.person.credit_code or ""} for p in parties],
    }


def _draft(matter: dict) -> CaseDraft:
    """A registration draft from a received matter; the county's own checks then apply (`do_register_case`)."""
    try:
        request_type = RequestType(matter.get("request_type") or "")
    except ValueError:
        raise LinkageError("invalid_input", f"未知的诉求类型“{matter.get('request_type')}”",
                           field="matter.request_type") from None
    occurred_at = matter.get("occurred_at")
    amount = matter.get("amount_involved")
    try:
        return CaseDraft(
            channel_code=HIGHER_ASSIGNMENT_CHANNEL, request_type=request_type, title=str(matter.get("title") or ""),
            description=str(matter.get("description") or ""), region_code=str(matter.get("region") or ""),
            address=str(matter.get("address") or ""),
            occurred_at=datetime.fromisoformat(occurred_at) if occurred_at else None,
            people_involved=matter.get("people_involved"),
            amount_involved=Decimal(amount) if amount not in (None, "") else None,
            primary_type_code=str(matter.get("type") or ""), grade=str(matter.get("grade") or ""),
            is_urgent=bool(matter.get("is_urgent")),
            parties=tuple(PartyDraft(**party) for party in matter.get("parties") or ()),
        )
    except (ValueError, TypeError, ArithmeticError) as error:
        raise LinkageError("invalid_input", f"事项内容格式不正确：{error}", field="matter") from None


# --- county: cross-region transfer --------------------------------------------------------------------------


@transaction.atomic
def do_request_transfer(code: str, *, actor, to_region_code: str, to_region_name: str, reason: str) -> TransferRequest:
    """跨区域移交: the matter belongs to another county. It is declined here (不予受理, with the route told: the
    platform above moves it to that county), and the platform above is asked to forward it there.

    - only a registered matter, by whoever may decline it (registrar, dispatcher), as `do_decline_case` checks;
    - the target is another county's six-digit code; a reason is required; a platform above must be configured.
    """
    to_region_code, to_region_name, reason = to_region_code.strip(), to_region_name.strip(), reason.strip()
    peers = queries.active_peers(PeerDirection.ABOVE)
    if not peers:
        raise LinkageError("no_upstream", "未配置上级平台，不能申请跨区域移交")
    if len(to_region_code) != 6 or not to_region_code.isdigit():
        raise LinkageError("invalid_input", "请填写移交对象的 6 位县级区划代码", field="to_region_code")
    if code.startswith(to_region_code + "-"):
        raise LinkageError("invalid_input", "不能移交给本县（市、区）", field="to_region_code")
    if not to_region_name:
        raise LinkageError("invalid_input", "请填写移交对象的名称，如 越城区", field="to_region_name")
    if not reason:
        raise LinkageError("invalid_input", "请填写移交理由", field="reason")
    case = case_actions.do_decline_case(code, actor=actor, reason=transfer_decline_reason(to_region_name, reason),
                                        route_told=transfer_route_told(to_region_name))
    peer = peers[0]
    transfer = TransferRequest.objects.create(
        peer=peer, case=case, to_region_code=to_region_code, to_region_name=to_region_name, reason=reason,
        requested_by=actor, requested_at=clock.now(),
    )
    key = idempotency_key(peer.pk, MessageType.TRANSFER_REQUEST, case.code)
    _send(peer, MessageType.TRANSFER_REQUEST, key, {
        **_envelope(key, MessageType.TRANSFER_REQUEST), "case": {"code": case.code},
        "to_region": {"code": to_region_code, "name": to_region_name}, "reason": reason,
    }, subject_id=case.code)
    record(actor=actor, action="linkage.request_transfer", object_type="case", object_id=case.code,
           fields=["linkage_transfer"], reason=reason, data={"to_region": to_region_code, "peer": peer.region_code})
    return transfer


@transaction.atomic
def do_receive_transfer_result(peer: Peer, body: dict, *, actor) -> TransferRequest:
    """The platform above tells where a transfer went (the other county's code) or why it could not. A repeated
    answer changes nothing."""
    source_code = str(body.get("source_code") or "")
    transfer = (TransferRequest.objects.select_for_update().select_related("case")
                .filter(peer=peer, case__code=source_code).first())
    if transfer is None:
        raise LinkageError("not_found", f"本平台没有事项“{source_code}”的跨区域移交申请")
    _touch(peer)
    status = TransferStatus.FORWARDED if body.get("status") == "forwarded" else TransferStatus.REFUSED
    destination = str(body.get("destination_code") or "") if status == TransferStatus.FORWARDED else ""
    answer = str(body.get("reason") or "")[:300]
    if (transfer.status, transfer.destination_code, transfer.answer) == (status, destination, answer):
        return transfer
    transfer.status, transfer.destination_code, transfer.answer = status, destination, answer
    transfer.answered_at = clock.now()
    transfer.save(update_fields=["status", "destination_code", "answer", "answered_at"])
    record(actor=actor, action="linkage.receive_transfer_result", object_type="case", object_id=source_code,
           fields=["linkage_transfer"], data={"status": status, "destination_code": destination})
    return transfer


# --- county: assignments from above -------------------------------------------------------------------------


@transaction.atomic
def do_receive_assignment(peer: Peer, body: dict, *, actor) -> tuple[Case, bool]:
    """上级交办 (or a transfer forwarded from another county): register the matter through the normal intake
    (channel 上级交办) with the client's service account; returns (matter, created).

    Idempotent on (peer, reference): a repeated delivery returns the matter registered the first time. The
    peer's row is locked first, so two concurrent deliveries of one assignment register it once.
    """
    Peer.objects.select_for_update().get(pk=peer.pk)
    reference = str(body.get("reference") or "")
    if not reference:
        raise LinkageError("invalid_input", "缺少上级交办编号（reference）", field="reference")
    existing = ReceivedAssignment.objects.select_related("case").filter(peer=peer, reference=reference).first()
    if existing is not None:
        _touch(peer)
        return existing.case, False
    kind = AssignmentKind.TRANSFER if body.get("kind") == AssignmentKind.TRANSFER else AssignmentKind.ASSIGNMENT
    draft = _draft(body.get("matter") or {})
    token = _RECEIVING.set((peer.pk, reference))
    try:
        case = case_actions.do_register_case(draft, actor=actor)
    finally:
        _RECEIVING.reset(token)
    source = body.get("source") or {}
    ReceivedAssignment.objects.create(
        peer=peer, reference=reference, kind=kind, case=case, note=str(body.get("note") or ""),
        source_region_code=str(source.get("region") or ""), source_region_name=str(source.get("name") or ""),
        source_code=str(source.get("code") or ""), received_at=clock.now(),
    )
    _touch(peer)
    record(actor=actor, action="linkage.receive_assignment", object_type="case", object_id=case.code,
           fields=["linkage_origin"], data={"peer": peer.region_code, "reference": reference, "kind": kind})
    return case, True


# --- the platform above: mirrors ------------------------------------------------------------------------------


def _mirror_fields(case: dict, step: dict) -> dict:
    township = case.get("township") or {}
    lead_unit = case.get("lead_unit") or {}
    kind = case.get("type") or {}
    return {
        "version": case["version"], "status": case["status"], "status_label": case.get("status_label", ""),
        "request_type": case.get("request_type", ""), "type_code": kind.get("code", ""),
        "type_name": kind.get("name", ""), "grade": case.get("grade", ""), "region_code": case["region"]["code"],
        "region_name": case["region"].get("name", ""), "township_code": township.get("code", ""),
        "township_name": township.get("name", ""), "channel": case.get("channel", ""),
        "lead_unit_name": lead_unit.get("name", ""), "registered_at": case["registered_at"],
        "accepted_at": case.get("accepted_at"), "concluded_at": case.get("concluded_at"),
        "closed_at": case.get("closed_at"), "due_at": case.get("due_at"),
        "changed_at": step.get("at") or case["registered_at"], "last_step": step.get("action", ""),
    }


def _lock_or_create(model, lookup: dict, defaults: dict):
    """(row locked, created): insert in a savepoint; on a concurrent insert, lock the row that won."""
    existing = model.objects.select_for_update().filter(**lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return model.objects.create(**lookup, **defaults), True
    except IntegrityError:
        return model.objects.select_for_update().get(**lookup), False


@transaction.atomic
def do_receive_case_report(peer: Peer, body: dict, *, actor) -> str:
    """Keep the latest reported state of a matter of a platform below; returns "applied" or "stale".

    - the matter's code must belong to the platform's county;
    - a report whose version is not higher than the mirror's changes nothing ("stale": a repeat, or an older
      report arriving late);
    - a matter registered from an assignment of ours links it; for a forwarded transfer, the county that asked
      is told the new code.
    """
    case, step = body["case"], body.get("step") or {}
    if not belongs_to(case["code"], peer.region_code):
        raise LinkageError("region_mismatch", f"事项编码“{case['code']}”不属于{peer.region_name}（{peer.region_code}）")
    _touch(peer)
    now = clock.now()
    fields = _mirror_fields(case, step)
    mirror, created = _lock_or_create(ReportedCase, {"peer": peer, "code": case["code"]},
                                      {**fields, "received_at": now})
    if not created and not is_newer(mirror.version, case["version"]):
        return "stale"
    if not created:
        for name, value in fields.items():
            setattr(mirror, name, value)
        mirror.received_at = now
        mirror.save(update_fields=[*fields, "received_at"])
    reference = str(body.get("assignment") or "")
    if reference.isdigit() and mirror.assignment_id is None:
        _link_assignment(peer, mirror, int(reference), now=now)
    record(actor=actor, action="linkage.receive_case_report", object_type="reported_case",
           object_id=f"{peer.region_code}:{case['code']}", fields=list(fields),
           data={"version": case["version"], "status": case["status"]})
    return "applied"


def _link_assignment(peer: Peer, mirror: ReportedCase, assignment_id: int, *, now) -> None:
    assignment = DownwardAssignment.objects.select_for_update().filter(pk=assignment_id, peer=peer).first()
    if assignment is None:
        return
    ReportedCase.objects.filter(pk=mirror.pk).update(assignment=assignment)
    if assignment.status == AssignmentStatus.RECEIVED:
        return
    assignment.status, assignment.case_code, assignment.received_at = AssignmentStatus.RECEIVED, mirror.code, now
    assignment.save(update_fields=["status", "case_code", "received_at"])
    if assignment.kind == AssignmentKind.TRANSFER and assignment.source_peer_id:
        _send_transfer_result(assignment, status="forwarded", destination_code=mirror.code, reason="")


def _send_transfer_result(assignment: DownwardAssignment, *, status: str, destination_code: str, reason: str) -> None:
    source = assignment.source_peer
    key = idempotency_key(source.pk, MessageType.TRANSFER_RESULT, assignment.source_code, status)
    _send(source, MessageType.TRANSFER_RESULT, key, {
        **_envelope(key, MessageType.TRANSFER_RESULT), "source_code": assignment.source_code, "status": status,
        "destination_code": destination_code, "to_region": {"code": assignment.to_region_code}, "reason": reason,
    }, subject_id=assignment.source_code)


@transaction.atomic
def do_receive_figures(peer: Peer, body: dict, *, actor) -> str:
    """Keep a platform's latest figures of a month; a lower or equal sequence changes nothing ("stale")."""
    month = str(body.get("month") or "")
    parse_month(month)
    _touch(peer)
    now = clock.now()
    defaults = {"sequence": body["sequence"], "figures": body["figures"], "computed_at": body["computed_at"]}
    row, created = _lock_or_create(ReportedFigures, {"peer": peer, "month": month}, {**defaults, "received_at": now})
    if not created and not is_newer(row.sequence, body["sequence"]):
        return "stale"
    if not created:
        row.sequence, row.figures, row.computed_at, row.received_at = (
            body["sequence"], body["figures"], body["computed_at"], now)
        row.save(update_fields=["sequence", "figures", "computed_at", "received_at"])
    record(actor=actor, action="linkage.receive_figures", object_type="linkage_figures",
           object_id=f"{peer.region_code}:{month}", fields=["figures"], data={"sequence": body["sequence"]})
    return "applied"


# --- the platform above: sending down ---------------------------------------------------------------------


def _check_matter(matter: dict, peer: Peer) -> None:
    """The checks the platform above can make; the county checks the rest when it registers the matter."""
    if not str(matter.get("title") or "").strip():
        raise LinkageError("invalid_input", "请填写事项标题", field="title")
    if not str(matter.get("description") or "").strip():
        raise LinkageError("invalid_input", "请填写事项描述", field="description")
    region = str(matter.get("region") or "")
    if not is_region_code(region) or not region.startswith(peer.region_code):
        raise LinkageError("invalid_input", f"发生地须为{peer.region_name}（{peer.region_code}）辖区内的区划代码",
                           field="region")


def _send_assignment(assignment: DownwardAssignment) -> None:
    peer = assignment.peer
    key = idempotency_key(peer.pk, MessageType.ASSIGNMENT, assignment.pk)
    source = {}
    if assignment.source_peer_id:
        source = {"region": assignment.source_peer.region_code, "name": assignment.source_peer.region_name,
                  "code": assignment.source_code}
    _send(peer, MessageType.ASSIGNMENT, key, {
        **_envelope(key, MessageType.ASSIGNMENT), "reference": str(assignment.pk), "kind": assignment.kind,
        "note": assignment.note, "source": source,
    }, subject_type="linkage_assignment", subject_id=str(assignment.pk))


@transaction.atomic
def do_assign_down(peer_id: int, *, actor, matter: dict, note: str = "") -> DownwardAssignment:
    """上级交办: send a matter down to a county, which registers it through its own intake and reports it up.

    - dispatchers only (or the system, `actor` None, from the command line), to an active platform below within
      the dispatcher's region;
    - the place must lie in that county; the county checks the rest and a refusal shows as 下派失败.
    """
    peer = Peer.objects.filter(pk=peer_id, direction=PeerDirection.BELOW, is_active=True).first()
    if actor is not None and (not queries.can_assign_down(actor)
                              or peer not in queries.visible_peers_below(actor)):
        raise LinkageError("forbidden", "您无权向该下级平台交办事项")
    if peer is None:
        raise LinkageError("invalid_input", "请选择一个已启用的下级平台", field="peer")
    _check_matter(matter, peer)
    assignment = DownwardAssignment.objects.create(
        kind=AssignmentKind.ASSIGNMENT, peer=peer, to_region_code=peer.region_code,
        content=json.dumps(matter, ensure_ascii=False), note=note.strip(), created_by=actor, created_at=clock.now(),
    )
    _send_assignment(assignment)
    record(actor=actor, action="linkage.assign_down", object_type="linkage_assignment", object_id=assignment.pk,
           fields=["content", "note"], data={"peer": peer.region_code})
    return assignment


@transaction.atomic
def do_receive_transfer_request(peer: Peer, body: dict, *, actor) -> DownwardAssignment:
    """跨区域移交 asked by a county below: forward the matter to the target county as an assignment, or, when no
    active platform below has that code, answer the asking county that it cannot be forwarded.

    Idempotent on (asking platform, matter code): a repeated request returns the first forwarding.
    """
    source_code = str((body.get("case") or {}).get("code") or "")
    if not belongs_to(source_code, peer.region_code):
        raise LinkageError("region_mismatch", f"事项编码“{source_code}”不属于{peer.region_name}（{peer.region_code}）")
    _touch(peer)
    existing = DownwardAssignment.objects.filter(source_peer=peer, source_code=source_code).first()
    if existing is not None:
        return existing
    to_code = str((body.get("to_region") or {}).get("code") or "")
    target = (Peer.objects.filter(direction=PeerDirection.BELOW, region_code=to_code, is_active=True)
              .exclude(pk=peer.pk).first())
    # the place becomes the receiving county (its own code: this county's finer codes mean nothing there); the
    # address text stays
    matter = {**(body.get("matter") or {}), "region": to_code}
    problem = "" if target else f"本平台未接入区划代码为“{to_code}”的下级平台，无法移交，请与上级平台联系"
    assignment = DownwardAssignment.objects.create(
        kind=AssignmentKind.TRANSFER, peer=target, to_region_code=to_code,
        content=json.dumps(matter, ensure_ascii=False), note=str(body.get("reason") or ""),
        status=AssignmentStatus.SENT if target else AssignmentStatus.REFUSED, source_peer=peer,
        source_code=source_code, problem=problem, created_by=None, created_at=clock.now(),
    )
    if target:
        _send_assignment(assignment)
    else:
        _send_transfer_result(assignment, status="refused", destination_code="", reason=problem)
    record(actor=actor, action="linkage.receive_transfer_request", object_type="linkage_assignment",
           object_id=assignment.pk, fields=["content"],
           data={"from": peer.region_code, "source_code": source_code, "to": to_code, "status": assignment.status})
    return assignment


def on_delivery(message: OutboxMessage, ok: bool) -> None:
    """An assignment that finally failed (the county refused it, or could not be reached): mark it 下派失败 and,
    for a forwarded transfer, tell the county that asked (a `DELIVERY_LISTENERS` entry of the outbox)."""
    parsed = parse_key(message.idempotency_key) if message.kind == KIND else None
    if ok or parsed is None or parsed.message_type != MessageType.ASSIGNMENT or message.status != MessageStatus.FAILED:
        return
    assignment = DownwardAssignment.objects.select_for_update().filter(pk=int(parsed.parts[0])).first()
    if assignment is None or assignment.status != AssignmentStatus.SENT:
        return
    assignment.status, assignment.problem = AssignmentStatus.FAILED, message.last_error[:300]
    assignment.save(update_fields=["status", "problem"])
    if assignment.kind == AssignmentKind.TRANSFER and assignment.source_peer_id:
        _send_transfer_result(assignment, status="refused", destination_code="",
                              reason="接收方未能登记该事项，请与上级平台联系")
    record(actor=None, action="linkage.assignment_failed", object_type="linkage_assignment",
           object_id=assignment.pk, fields=["status"], data={"error": assignment.problem})


# --- configuration ---------------------------------------------------------------------------------------


@transaction.atomic
def do_save_peer(*, direction: str, region_code: str, name: str, base_url: str, token: str = "",
                 client_name: str = "", is_active: bool = True, actor=None) -> tuple[Peer, bool]:
    """Add or update (by direction and region code) a platform above or below; returns (peer, created).

    - the address must pass the webhook URL rules (https; http only to this machine or in development; no
      private, link-local or metadata address);
    - a new peer needs its token; an empty token keeps the stored one;
    - `client_name` names the inbound API client, which must hold `linkage:exchange`.
    """
    from yidi.accounts.models import ApiClient, ApiScope
    from yidi.webhooks.domain import check_url

    direction = PeerDirection(direction)
    if not is_region_code(region_code) or (direction == PeerDirection.BELOW and len(region_code) != 6):
        raise LinkageError("invalid_input", "区划代码不正确（下级平台须为 6 位县级代码）", field="region_code")
    problem = check_url(base_url, debug=settings.DEBUG)
    if problem:
        raise LinkageError("invalid_input", problem.replace("回调地址", "平台地址"), field="base_url")
    client = None
    if client_name:
        client = ApiClient.objects.filter(name=client_name, revoked_at__isnull=True).first()
        if client is None or not client.has_scope(ApiScope.LINKAGE_EXCHANGE):
            raise LinkageError("invalid_input", f"接口客户端“{client_name}”不存在、已吊销或没有 linkage:exchange 权限",
                               field="client")
    peer = Peer.objects.select_for_update().filter(direction=direction, region_code=region_code).first()
    created = peer is None
    if created and not token:
        raise LinkageError("invalid_input", "新增联动平台须提供对方开设的接口令牌", field="token")
    peer = peer or Peer(direction=direction, region_code=region_code)
    peer.name, peer.region_name, peer.base_url, peer.is_active = name, name, base_url, is_active
    if token:
        peer.token = token
    if client is not None:
        peer.api_client = client
    peer.save()
    record(actor=actor, action="linkage.create_peer" if created else "linkage.update_peer", object_type="linkage_peer",
           object_id=f"{direction}:{region_code}", fields=["name", "base_url", "api_client", "is_active"]
           + (["token"] if token else []), data={"base_url": base_url, "client": client_name})
    return peer, created
