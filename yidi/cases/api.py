"""The native API for matters (/api/v1/cases) and reference data (/api/v1/reference).

Parse → authorise (token and scope: `accounts.api_auth`; the matter: `accounts.access` with the client's service
account) → one action or query → render. Rules:
- lists are paginated (`page`, `page_size` ≤ 100) and only ever hold `access.visible_cases`; the matter list also
  syncs by a stable cursor (`since`, then `next_cursor`: ordered by (updated_at, id), so rows with the same
  timestamp are never lost between pages);
- a matter out of scope is 404 `not_found`, exactly like one that does not exist;
- parties are masked by default (ID number, phone, address, as on the web pages); in full only for a client with
  `personal:read` whose unit is actively assigned to the matter, and every such read is audited; free texts
  (descriptions, reasons, summaries) are sent with any ID or mobile number in them masked;
- a create (registration, contact, visit) may carry `Idempotency-Key`: the first response is stored and
  replayed; another body → 422 (`accounts.api_auth.respond_once`);
- an action needs `If-Match` with the matter's ETag (`W/"<version>"`): missing → 428, stale → 412; it may carry
  an `Idempotency-Key` too, so that a retry after a lost answer gets the first answer instead of 412;
- each action is its own operation with its own body (`cases.schemas`), through its `do_*` action in
  `cases.actions`, inside `do_at_version`;
- each client is throttled to its rate (`accounts.api_auth.ClientRateThrottle`: 429 `rate_limited`).
The reference endpoints live here too: their tables belong to `core`, `regions` and `cases`, and only `cases`
may use the token authentication of `accounts`.
"""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from yidi.accounts import access
from yidi.accounts.actions import IdempotencyKeyReused, request_fingerprint
from yidi.accounts.api_auth import (
    as_json,
    checked_idempotency_key,
    client_auth,
    client_throttle,
    etag,
    expected_version,
    json_response,
    respond_once,
)
from yidi.accounts.models import ApiScope
from yidi.cases import actions, api_create, queries
from yidi.cases.domain import (
    STATUS_LABELS,
    CaseDraft,
    CaseStatus,
    IllegalTransition,
    InvalidInput,
    PartyDraft,
    RuleViolation,
)
from yidi.cases.models import (
    DEADLINE_STATE_LABELS,
    STAGE_LABELS,
    Assignment,
    Case,
    CaseParty,
    Channel,
    Contact,
    RequestStatus,
)
from yidi.cases.schemas import (
    AssignIn,
    CaseDeadlinesOut,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePage,
    ChannelOut,
    CloseIn,
    ConcludeIn,
    ConsultationIn,
    ContactIn,
    ContactItemOut,
    ContactPage,
    DeclineIn,
    DivertIn,
    ErrorOut,
    ExtensionDecisionIn,
    ExtensionIn,
    MarkUrgentIn,
    NoBodyIn,
    PageQuery,
    PartyIn,
    PauseIn,
    ReasonIn,
    RegionOut,
    RegionQuery,
    ResolveOnSpotIn,
    ResumeIn,
    StartHandlingIn,
    TaxonomyOut,
    TransferIn,
    VisitIn,
    VisitOut,
    VisitPage,
)
from yidi.core import clock
from yidi.core.api_errors import error_response, register_error
from yidi.core.deadlines import deadline_state
from yidi.core.group_commit import RETRY_ALONE
from yidi.core.masking import PersonalKind, mask, mask_in_text
from yidi.core.models import Taxonomy
from yidi.core.pagination import capped_count
from yidi.core.request_context import current_source_ip
from yidi.regions.models import Region

register_error(InvalidInput, 400, "invalid_input", with_field=True)
register_error(IllegalTransition, 409, "illegal_transition")
register_error(RuleViolation, 409, "rule_violation")
register_error(access.ActionDenied, 403, "action_denied")
register_error(access.CaseNotFound, 404, "not_found")
register_error(IdempotencyKeyReused, 422, "idempotency_key_reused", "此 Idempotency-Key 已用于另一个请求")
register_error(actions.StaleVersion, 412, "precondition_failed")

router = Router(tags=["事项"], throttle=client_throttle())
reference_router = Router(tags=["基础数据"], throttle=client_throttle())

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 412: ErrorOut, 413: ErrorOut,
          422: ErrorOut, 428: ErrorOut, 429: ErrorOut}
PERSONAL_READ_PURPOSE = "接口客户端读取本单位在办事项的当事人信息"
DEFAULT_SYNC_SETTLE_SECONDS = 2


def _code_name(obj) -> dict | None:
    return None if obj is None else {"code": str(obj.pk if isinstance(obj, Region) else obj.code), "name": obj.name}


def _summary(case: Case) -> dict:
    return {
        "code": case.code, "status": case.status, "status_label": STATUS_LABELS[CaseStatus(case.status)],
        "title": mask_in_text(case.title), "request_type": case.request_type, "region": _code_name(case.region),
        "channel": _code_name(case.channel), "primary_type": _code_name(case.primary_type), "grade": case.grade,
        "complexity": case.complexity, "is_urgent": case.is_urgent, "lead_unit": _code_name(case.lead_unit),
        "registered_at": case.registered_at, "updated_at": case.updated_at, "due_at": case.due_at,
        "deadline_state": case.deadline_state, "version": case.version,
    }


def _party(party, *, full: bool) -> dict:
    person = party.person
    values = {field: getattr(person, field) or "" for field in ("id_number", "phone", "address")}
    if not full:
        values = {field: mask(value, PersonalKind(field)) for field, value in values.items()}
    return {"id": party.pk, "role": party.role, "kind": person.kind, "name": person.name, **values}


def _contact(contact) -> dict:
    return {"channel": _code_name(contact.channel), "contacted_at": contact.contacted_at,
            "summary": mask_in_text(contact.summary), "external_ref": contact.external_ref}


DETAIL_PREFETCH = (
    Prefetch("parties", queryset=CaseParty.objects.select_related("person").order_by("position", "id")),
    Prefetch("assignments", queryset=Assignment.objects.select_related("unit").order_by("assigned_at", "id")),
    Prefetch("contacts", queryset=Contact.objects.select_related("channel").order_by("contacted_at", "id")),
)


def with_detail(cases: QuerySet) -> QuerySet:
    """`cases` with what their detail shows read in a few queries for all of them."""
    return cases.select_related(*access.DETAIL_RELATED).prefetch_related(*DETAIL_PREFETCH)


def as_detail_json(case: Case, client) -> dict:
    return as_json(_detail(case, client))


def _detail(case: Case, client) -> dict:
    """The matter with its parties, masked unless the client may and does receive them in full (audited)."""
    prefetch_related_objects([case], *DETAIL_PREFETCH)  # nothing when read `with_detail`
    parties = list(case.parties.all())
    full = client.has_scope(ApiScope.PERSONAL_READ) and queries.is_unit_actively_assigned(client.unit_id, case)
    if full and parties:
        actions.do_record_personal_data_read(case, parties, actor=client.user, purpose=PERSONAL_READ_PURPOSE)
    return {
        **_summary(case),
        "description": mask_in_text(case.description), "address": mask_in_text(case.address),
        "occurred_at": case.occurred_at, "people_involved": case.people_involved,
        "amount_involved": case.amount_involved, "handling_mode": case.handling_mode, "outcome": case.outcome,
        "personal_data": "full" if full else "masked",
        "parties": [_party(party, full=full) for party in parties],
        "assignments": [
            {"unit": _code_name(a.unit), "role": a.role, "status": a.status, "assigned_at": a.assigned_at,
             "signed_at": a.signed_at}
            for a in case.assignments.all()
        ],
        "contacts": [_contact(c) for c in case.contacts.all()],
    }


def _page(queryset, query: PageQuery, render: Callable) -> dict:
    start = (query.page - 1) * query.page_size
    return {"count": queryset.count(), "page": query.page, "page_size": query.page_size,
            "results": [render(row) for row in queryset[start:start + query.page_size]]}


def _case_page(cases, query: PageQuery) -> dict:
    """A page of matters. The count stops at `LIST_COUNT_CAP` (`count_is_capped`): counting a county's million
    matters exactly took a quarter of a second on every page; the pages themselves go on past it."""
    start = (query.page - 1) * query.page_size
    count, capped = capped_count(cases)
    return {"count": count, "count_is_capped": capped, "page": query.page, "page_size": query.page_size,
            "next_cursor": None, "results": [_summary(case) for case in cases[start:start + query.page_size]]}


# --- the sync cursor ------------------------------------------------------------------------------------------


def _encode_cursor(case: Case) -> str:
    position = f"{case.updated_at.astimezone(UTC).isoformat()}|{case.pk}"
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = text.split("|")
        at = datetime.fromisoformat(moment)
        if at.tzinfo is None:
            raise ValueError(moment)
        return at, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("cursor", "cursor 无效：请原样使用上一页返回的 next_cursor") from None


def _sync_page(cases, filters: CaseListQuery) -> dict:
    """One page of changes in (updated_at, id) order after the cursor (or from `since`).

    - rows changed in the last `YIDI_API_SYNC_SETTLE_SECONDS` (default 2) are left for the next request, so that a
      transaction still committing with an earlier timestamp cannot fall behind a cursor already handed out;
    - `next_cursor` is the position of the page's last row (or the cursor given, when nothing new came): the
      client stores it and asks again with it, now or later.
    """
    if filters.page != 1:
        raise InvalidInput("page", "按 since 或 cursor 同步时不能用 page 翻页，请使用返回的 next_cursor")
    settle = int(getattr(settings, "YIDI_API_SYNC_SETTLE_SECONDS", DEFAULT_SYNC_SETTLE_SECONDS))
    cases = cases.filter(updated_at__lte=clock.now() - timedelta(seconds=settle)).order_by("updated_at", "id")
    if filters.cursor:
        at, pk = _decode_cursor(filters.cursor)
        cases = cases.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk))
    rows = list(cases[:filters.page_size])
    next_cursor = _encode_cursor(rows[-1]) if rows else (filters.cursor or None)
    count, capped = capped_count(cases)
    return {"count": count, "count_is_capped": capped, "page": 1, "page_size": filters.page_size,
            "next_cursor": next_cursor, "results": [_summary(case) for case in rows]}


# --- matters ------------------------------------------------------------------------------------------------


@router.get("/cases", response={200: CasePage, **ERRORS}, auth=client_auth(ApiScope.CASES_READ), url_name="api_cases",
            summary="事项列表（分页；since/cursor 增量同步）")
def list_cases(request: HttpRequest, filters: Query[CaseListQuery]):
    cases = queries.list_api_cases(
        request.auth.user, statuses=tuple(filters.status), region_prefix=filters.region, updated_since=filters.since
    )
    if filters.since is not None or filters.cursor:
        return _sync_page(cases, filters)
    return _case_page(cases, filters)


@router.get("/cases/overdue", response={200: CasePage, **ERRORS}, auth=client_auth(ApiScope.CASES_READ),
            url_name="api_cases_overdue", summary="已超期的在办事项（最早到期的在前）")
def list_overdue_cases(request: HttpRequest, filters: Query[PageQuery]):
    cases = queries.list_cases(request.auth.user, queries.CaseFilters(only_open=True))
    cases = cases.filter(due_at__lt=clock.now()).order_by("due_at", "id")
    return _case_page(cases, filters)


@router.get("/cases/{code}", response={200: CaseOut, **ERRORS}, auth=client_auth(ApiScope.CASES_READ),
            url_name="api_case", summary="事项详情（当事人信息默认脱敏）")
def get_case(request: HttpRequest, code: str, response: HttpResponse):
    case = access.get_case_for_user(request.auth.user, code)
    response["ETag"] = etag(case.version)
    return _detail(case, request.auth)


def _draft(payload: CaseIn) -> CaseDraft:
    return CaseDraft(
        channel_code=payload.channel, request_type=payload.request_type, title=payload.title,
        description=payload.description, region_code=payload.region, address=payload.address,
        occurred_at=payload.occurred_at, people_involved=payload.people_involved,
        amount_involved=payload.amount_involved, latitude=payload.latitude, longitude=payload.longitude,
        primary_type_code=payload.primary_type, grade=payload.grade or "", complexity=payload.complexity or "",
        is_urgent=payload.is_urgent, in_person=payload.in_person, external_ref=payload.external_ref,
        labels=dict(payload.labels),
        parties=tuple(_party_draft(party) for party in payload.parties),
    )


def _party_draft(party: PartyIn) -> PartyDraft:
    return PartyDraft(**party.model_dump())


@router.post("/cases", response={201: CaseOut, **ERRORS}, auth=client_auth(ApiScope.CASES_WRITE),
             url_name="api_cases", summary="登记事项（支持 Idempotency-Key）")
def create_case(request: HttpRequest, payload: CaseIn):
    client, draft = request.auth, _draft(payload)

    def register() -> tuple[int, dict]:
        case = actions.do_register_case(draft, actor=client.user)
        return 201, as_json(_detail(access.get_case_for_user(client.user, case.code), client))

    if settings.YIDI_API_GROUP_COMMIT:  # with the others arriving now (`cases.api_create`)
        key = checked_idempotency_key(request)
        outcome = api_create.registrations.submit(api_create.PendingCreate(
            client=client, draft=draft, key=key,
            fingerprint=request_fingerprint(request.method, request.path, request.body),
            source_ip=current_source_ip(),
        ))
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is not RETRY_ALONE:
            status, body = outcome
            return json_response(status, body, version=body["version"])
    return respond_once(request, register, version_of=lambda body: body["version"])


# --- actions (If-Match) -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRoute:
    """One action of the API: its path segment, body, scope, summary, and how it calls its `do_*` action."""

    name: str
    body: type[Schema]
    scope: str
    summary: str
    perform: Callable[[str, Schema, object], object]  # (code, payload, actor)


ACT, ASSIGN = ApiScope.CASES_ACT, ApiScope.CASES_ASSIGN
ACTION_ROUTES = (
    ActionRoute("accept", NoBodyIn, ACT, "受理", lambda code, p, actor: actions.do_accept_case(code, actor=actor)),
    ActionRoute("decline", DeclineIn, ACT, "不予受理（理由和已告知当事人的其他途径）",
                lambda code, p, actor: actions.do_decline_case(code, actor=actor, reason=p.reason,
                                                               route_told=p.route_told)),
    ActionRoute("assign", AssignIn, ASSIGN, "交办：主办单位和协办单位（指挥调度）",
                lambda code, p, actor: actions.do_assign_case(
                    code, actor=actor, lead_unit_code=p.lead_unit, co_unit_codes=tuple(p.co_units), note=p.note,
                    handling_level=p.handling_level or "", override_reason=p.override_reason)),
    ActionRoute("sign", NoBodyIn, ACT, "签收", lambda code, p, actor: actions.do_sign_case(code, actor=actor)),
    ActionRoute("return", ReasonIn, ACT, "回退（须说明理由）",
                lambda code, p, actor: actions.do_return_case(code, actor=actor, reason=p.reason)),
    ActionRoute("start_handling", StartHandlingIn, ACT, "开始办理（调解、行政处理或信访办理）",
                lambda code, p, actor: actions.do_start_handling(code, actor=actor, mode=p.mode)),
    ActionRoute("divert", DivertIn, ACT, "分流（诉讼、仲裁、行政复议、纪检监察、信访程序）",
                lambda code, p, actor: actions.do_divert_case(code, actor=actor, route=p.route, reason=p.reason)),
    ActionRoute("conclude", ConcludeIn, ACT, "登记办理结果",
                lambda code, p, actor: actions.do_conclude_case(code, actor=actor, outcome=p.outcome,
                                                                summary=p.summary)),
    ActionRoute("close", CloseIn, ASSIGN, "办结（指挥调度）",
                lambda code, p, actor: actions.do_close_case(code, actor=actor, note=p.note)),
    ActionRoute("reopen", ReasonIn, ASSIGN, "重办（指挥调度；须说明理由）",
                lambda code, p, actor: actions.do_reopen_case(code, actor=actor, reason=p.reason)),
    ActionRoute("escalate", ReasonIn, ACT, "上报提级（主办单位；须说明理由）",
                lambda code, p, actor: actions.do_escalate_case(code, actor=actor, reason=p.reason)),
    ActionRoute("request_transfer", TransferIn, ASSIGN, "申请转办（主办单位）",
                lambda code, p, actor: actions.do_request_transfer(code, actor=actor, to_unit_code=p.to_unit,
                                                                   reason=p.reason)),
    ActionRoute("accept_transfer", NoBodyIn, ASSIGN, "接收转办（接收单位）",
                lambda code, p, actor: actions.do_accept_transfer(code, actor=actor)),
    ActionRoute("refuse_transfer", ReasonIn, ASSIGN, "拒收转办（接收单位；须说明理由）",
                lambda code, p, actor: actions.do_refuse_transfer(code, actor=actor, reason=p.reason)),
    ActionRoute("record_consultation", ConsultationIn, ASSIGN, "会商研判（参加单位、纪要、研判意见）",
                lambda code, p, actor: actions.do_record_consultation(
                    code, actor=actor, unit_codes=tuple(p.units), minutes=p.minutes, decisions=p.decisions)),
    ActionRoute("mark_urgent", MarkUrgentIn, ASSIGN, "加急",
                lambda code, p, actor: actions.do_mark_urgent(code, actor=actor, reason=p.reason)),
    ActionRoute("request_extension", ExtensionIn, ACT, "申请延期（主办单位）",
                lambda code, p, actor: actions.do_request_extension(code, actor=actor, stage=p.stage, days=p.days,
                                                                    reason=p.reason)),
    ActionRoute("decide_extension", ExtensionDecisionIn, ASSIGN, "审批延期（指挥调度；不同意须说明理由）",
                lambda code, p, actor: actions.do_decide_extension(code, actor=actor, approve=p.approve,
                                                                   reason=p.reason)),
    ActionRoute("pause_deadline", PauseIn, ACT, "暂停计时（鉴定、听证等不计入办理期限的时间）",
                lambda code, p, actor: actions.do_pause_deadline(code, actor=actor, stage=p.stage, reason=p.reason)),
    ActionRoute("resume_deadline", ResumeIn, ACT, "恢复计时",
                lambda code, p, actor: actions.do_resume_deadline(code, actor=actor, stage=p.stage)),
    ActionRoute("resolve_on_spot", ResolveOnSpotIn, ACT, "当场化解（登记单位；须达成协议）",
                lambda code, p, actor: actions.do_resolve_on_spot(code, actor=actor, outcome=p.outcome,
                                                                  summary=p.summary)),
)


def _act(request: HttpRequest, code: str, route: ActionRoute, payload: Schema):
    client = request.auth
    version = expected_version(request)

    def act() -> tuple[int, dict]:
        actions.do_at_version(code, actor=client.user, expected_version=version,
                              perform=lambda: route.perform(code, payload, client.user))
        return 200, as_json(_detail(access.get_case_for_user(client.user, code), client))

    return respond_once(request, act, version_of=lambda body: body["version"])


def _add_action_route(route: ActionRoute) -> None:
    """One operation per action: POST /cases/{code}/actions/<name>, with the action's own body."""
    if route.body is NoBodyIn:
        def view(request: HttpRequest, code: str, payload: NoBodyIn | None = None):
            return _act(request, code, route, payload or NoBodyIn())
    else:
        def view(request: HttpRequest, code: str, payload: route.body):  # type: ignore[name-defined]
            return _act(request, code, route, payload)
    view.__name__ = f"act_{route.name}"
    router.post(
        f"/cases/{{code}}/actions/{route.name}", response={200: CaseOut, **ERRORS}, auth=client_auth(route.scope),
        url_name="api_case_action", operation_id=f"case_action_{route.name}",
        summary=f"{route.summary}（须带 If-Match；权限 {route.scope}）",
    )(view)


for _route in ACTION_ROUTES:
    _add_action_route(_route)


# --- contacts and visits (additions: Idempotency-Key) ------------------------------------------------------------


def _contact_item(contact, version: int) -> dict:
    return {"id": contact.pk, **_contact(contact), "case_version": version}


@router.get("/cases/{code}/contacts", response={200: ContactPage, **ERRORS}, auth=client_auth(ApiScope.CASES_READ),
            url_name="api_case_contacts", summary="事项的反映记录（首次登记及重复来电、来信、投诉）")
def list_contacts(request: HttpRequest, code: str, filters: Query[PageQuery]):
    case = access.get_case_for_user(request.auth.user, code)
    contacts = case.contacts.select_related("channel").order_by("contacted_at", "id")
    return _page(contacts, filters, lambda contact: _contact_item(contact, case.version))


@router.post("/cases/{code}/contacts", response={201: ContactItemOut, **ERRORS},
             auth=client_auth(ApiScope.CONTACTS_WRITE), url_name="api_case_contacts",
             summary="补充反映记录：同一事项的重复来电或新的投诉（支持 Idempotency-Key）")
def add_contact(request: HttpRequest, code: str, payload: ContactIn):
    client = request.auth

    def add() -> tuple[int, dict]:
        contact = actions.do_add_contact(
            code, actor=client.user, channel_code=payload.channel, summary=payload.summary,
            party=_party_draft(payload.party) if payload.party else None, external_ref=payload.external_ref,
        )
        return 201, as_json(_contact_item(contact, contact.case.version))

    return respond_once(request, add, version_of=lambda body: body["case_version"])


def _visit(visit, version: int) -> dict:
    return {"id": visit.pk, "place": visit.place, "unit": _code_name(visit.unit), "visited_at": visit.visited_at,
            "purpose": visit.purpose, "case_version": version}


@router.get("/cases/{code}/visits", response={200: VisitPage, **ERRORS}, auth=client_auth(ApiScope.CASES_READ),
            url_name="api_case_visits", summary="当事人到场来访记录（最多跑一地）")
def list_visits(request: HttpRequest, code: str, filters: Query[PageQuery]):
    case = access.get_case_for_user(request.auth.user, code)
    visits = case.visits.select_related("unit").order_by("visited_at", "id")
    return _page(visits, filters, lambda visit: _visit(visit, case.version))


@router.post("/cases/{code}/visits", response={201: VisitOut, **ERRORS}, auth=client_auth(ApiScope.CONTACTS_WRITE),
             url_name="api_case_visits", summary="登记来访：当事人到本单位（支持 Idempotency-Key）")
def record_visit(request: HttpRequest, code: str, payload: VisitIn):
    client = request.auth

    def add() -> tuple[int, dict]:
        visit = actions.do_record_visit(code, actor=client.user, place=payload.place, purpose=payload.purpose)
        return 201, as_json(_visit(visit, visit.case.version))

    return respond_once(request, add, version_of=lambda body: body["case_version"])


# --- deadlines ----------------------------------------------------------------------------------------------------


def _deadline(deadline, extensions: list, now: datetime) -> dict:
    running = deadline.is_running
    paused = deadline.is_paused
    state = deadline_state(now, deadline.due_at, deadline.yellow_at, deadline.red_at) if running and not paused \
        else deadline.state
    return {
        "stage": deadline.stage, "stage_label": STAGE_LABELS.get(deadline.stage, deadline.stage),
        "policy": deadline.policy_code, "day_unit": deadline.day_unit, "limit_days": deadline.limit_days,
        "started_at": deadline.started_at, "due_at": deadline.due_at, "state": str(state),
        "state_label": DEADLINE_STATE_LABELS.get(str(state), ""), "is_running": running, "is_paused": paused,
        "is_overdue": running and not paused and now > deadline.due_at,
        "pauses": [{"started_at": datetime.fromisoformat(start), "ended_at": datetime.fromisoformat(end) if end else None}
                   for start, end in deadline.pauses],
        "extension_days": deadline.extension_days, "met_at": deadline.met_at, "cancelled_at": deadline.cancelled_at,
        "extensions": [
            {"id": e.pk, "days": e.days, "reason": mask_in_text(e.reason), "status": e.status,
             "status_label": RequestStatus(e.status).label, "requested_at": e.requested_at,
             "decided_at": e.decided_at, "decision_reason": mask_in_text(e.decision_reason)}
            for e in extensions
        ],
    }


@router.get("/cases/{code}/deadlines", response={200: CaseDeadlinesOut, **ERRORS},
            auth=client_auth(ApiScope.CASES_READ), url_name="api_case_deadlines",
            summary="事项各阶段期限：到期时间、暂停、超期与延期")
def get_deadlines(request: HttpRequest, code: str, response: HttpResponse):
    case = access.get_case_for_user(request.auth.user, code)
    deadlines = case.deadlines.order_by("started_at", "id")
    extensions: dict[int, list] = {}
    for extension in case.extension_requests.order_by("requested_at", "id"):
        extensions.setdefault(extension.deadline_id, []).append(extension)
    now = clock.now()
    response["ETag"] = etag(case.version)
    return {"code": case.code, "due_at": case.due_at, "deadline_state": case.deadline_state,
            "deadlines": [_deadline(d, extensions.get(d.pk, []), now) for d in deadlines]}


# --- reference data -----------------------------------------------------------------------------------------


@reference_router.get("/channels", response={200: list[ChannelOut], **ERRORS},
                      auth=client_auth(ApiScope.REFERENCE_READ), url_name="api_reference_channels", summary="来源渠道")
def list_channels(request: HttpRequest):
    return list(Channel.objects.filter(is_active=True).order_by("position", "code").values("code", "name", "group"))


@reference_router.get("/taxonomies/{code}", response={200: TaxonomyOut, **ERRORS},
                      auth=client_auth(ApiScope.REFERENCE_READ), url_name="api_reference_taxonomy",
                      summary="分类体系及其标签")
def get_taxonomy(request: HttpRequest, code: str):
    taxonomy = Taxonomy.objects.filter(code=code, is_active=True).first()
    if taxonomy is None:
        return error_response(404, "not_found", "分类体系不存在")
    labels = taxonomy.labels.filter(is_active=True).order_by("position", "code").values("code", "name")
    return {"code": taxonomy.code, "name": taxonomy.name, "version": taxonomy.version, "labels": list(labels)}


@reference_router.get("/regions", response={200: list[RegionOut], **ERRORS},
                      auth=client_auth(ApiScope.REFERENCE_READ), url_name="api_reference_regions",
                      summary="行政区划（parent 的下一级；不指定为最上级）")
def list_regions(request: HttpRequest, filters: Query[RegionQuery]):
    regions = Region.objects.filter(is_active=True, parent_id=filters.parent or None).order_by("code")
    return [{"code": r.code, "name": r.name, "short_name": r.short_name, "level": r.level, "parent": r.parent_id}
            for r in regions]


@router.get("/ping", response={200: dict}, auth=None, url_name="api_ping", summary="服务在线检查（公开，无数据）")
def ping(request: HttpRequest):
    """A trivial JSON answer from the same process: the baseline the API benchmark compares create-matter with."""
    return {"status": "ok"}
