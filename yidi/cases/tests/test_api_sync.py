"""The native API's sync cursor (`since`, `next_cursor`), deadlines and overdue matters, and per-client throttling."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.models import Unit
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Case, CaseDeadline
from yidi.core.deadlines import PARTY_STAGES

pytestmark = pytest.mark.django_db


def _token(name: str, unit_code: str, scopes=("cases:read", "cases:act")) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def fq(db):
    return _token("fq-system", "fq-platform")


# --- the sync cursor ----------------------------------------------------------------------------------------------


@override_settings(YIDI_API_SYNC_SETTLE_SECONDS=0)
def test_matters_changed_at_the_same_instant_are_never_lost_between_pages(client, fq, registrar):
    codes = [make_case(registrar).code for _ in range(3)]
    same = timezone.now() - timedelta(minutes=5)
    Case.objects.filter(code__in=codes).update(updated_at=same)
    since = (same - timedelta(seconds=1)).isoformat()

    first = client.get("/api/v1/cases", {"since": since, "page_size": 2}, **fq).json()
    second = client.get("/api/v1/cases", {"cursor": first["next_cursor"], "page_size": 2}, **fq).json()
    third = client.get("/api/v1/cases", {"cursor": second["next_cursor"], "page_size": 2}, **fq).json()

    assert [c["code"] for c in first["results"] + second["results"]] == codes  # (updated_at, id) order
    assert (first["count"], second["count"], third["count"]) == (3, 1, 0)
    assert third["results"] == [] and third["next_cursor"] == second["next_cursor"]


@override_settings(YIDI_API_SYNC_SETTLE_SECONDS=0)
def test_a_matter_changed_after_the_cursor_comes_on_the_next_request(client, fq, registrar, dispatcher):
    old, changed = make_case(registrar), make_case(registrar)
    Case.objects.filter(pk__in=[old.pk, changed.pk]).update(updated_at=timezone.now() - timedelta(minutes=5))
    page = client.get("/api/v1/cases", {"since": "2020-01-01T00:00:00+08:00"}, **fq).json()

    actions.do_accept_case(changed.code, actor=dispatcher)
    later = client.get("/api/v1/cases", {"cursor": page["next_cursor"]}, **fq).json()

    assert [c["code"] for c in page["results"]] == [old.code, changed.code]
    assert [(c["code"], c["status"]) for c in later["results"]] == [(changed.code, "accepted")]


def test_changes_of_the_last_seconds_wait_for_the_next_request(client, fq, registrar):
    case = make_case(registrar)

    now = client.get("/api/v1/cases", {"since": "2020-01-01T00:00:00+08:00"}, **fq).json()
    with time_machine.travel(timezone.now() + timedelta(seconds=3), tick=False):
        settled = client.get("/api/v1/cases", {"since": "2020-01-01T00:00:00+08:00"}, **fq).json()

    assert (now["results"], now["next_cursor"]) == ([], None)
    assert [c["code"] for c in settled["results"]] == [case.code]


@pytest.mark.parametrize(("query", "field"), [
    ({"since": "2026-01-01T00:00:00+08:00", "page": 2}, "page"),
    ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    ({"cursor": "!!"}, "cursor"),
    ({"since": "1072-02-15T01:23:18.607+16:57"}, "since"),  # an offset no clock shows (PostgreSQL refuses it)
])
def test_a_bad_cursor_or_a_page_number_while_syncing_is_400(client, fq, query, field):
    response = client.get("/api/v1/cases", query, **fq)

    error = response.json()
    assert (response.status_code, error.get("field") or error["details"][0]["loc"][-1]) == (400, field)


# --- deadlines -------------------------------------------------------------------------------------------------------


def _signed(registrar, dispatcher, handler):
    return advance_case(make_case(registrar), CaseStatus.SIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=Unit.objects.get(code="fq-platform"))


def test_deadlines_show_each_stage_with_pauses_and_extensions(client, fq, registrar, dispatcher, handler):
    case = _signed(registrar, dispatcher, handler)
    running = CaseDeadline.objects.filter(case=case, met_at=None, cancelled_at=None).exclude(
        stage__in=PARTY_STAGES).order_by("id").first()
    actions.do_request_extension(case.code, actor=handler, stage=running.stage, days=5, reason="需现场勘验")
    actions.do_pause_deadline(case.code, actor=handler, stage=running.stage, reason="等待鉴定结论")

    response = client.get(f"/api/v1/cases/{case.code}/deadlines", **fq)

    body = response.json()
    case = Case.objects.get(pk=case.pk)
    stages = {d["stage"]: d for d in body["deadlines"]}
    shown = stages[running.stage]
    running.refresh_from_db()
    assert response.status_code == 200 and response["ETag"] == f'W/"{case.version}"'
    assert body["code"] == case.code
    assert len(body["deadlines"]) == CaseDeadline.objects.filter(case=case).count()
    assert (shown["is_running"], shown["is_paused"], shown["is_overdue"], shown["extension_days"]) == (
        True, True, False, 0)
    assert shown["limit_days"] == running.limit_days and shown["policy"] == running.policy_code
    assert [p["ended_at"] for p in shown["pauses"]] == [None]
    assert [(e["days"], e["status"], e["status_label"], e["reason"]) for e in shown["extensions"]] == [
        (5, "pending", "待审批", "需现场勘验")]
    met = [d for d in body["deadlines"] if d["met_at"]]
    assert met and all(not d["is_running"] for d in met)


def test_overdue_matters_are_listed_most_overdue_first(client, fq, registrar, dispatcher, handler):
    late = _signed(registrar, dispatcher, handler)
    make_case(registrar)  # registered: its clock is not the client's concern yet, but it may be overdue too
    due = Case.objects.get(pk=late.pk).due_at

    before = client.get("/api/v1/cases/overdue", **fq).json()
    with time_machine.travel(due + timedelta(days=1), tick=False):
        after = client.get("/api/v1/cases/overdue", **fq).json()

    assert before["results"] == [] or late.code not in [c["code"] for c in before["results"]]
    overdue = [c for c in after["results"] if c["code"] == late.code]
    assert len(overdue) == 1 and overdue[0]["due_at"] is not None
    dues = [c["due_at"] for c in after["results"]]
    assert dues == sorted(dues)


def test_a_paused_clock_is_not_overdue(client, fq, registrar, dispatcher, handler):
    case = _signed(registrar, dispatcher, handler)
    for deadline in CaseDeadline.objects.filter(case=case, met_at=None, cancelled_at=None).exclude(
            stage__in=PARTY_STAGES):
        actions.do_pause_deadline(case.code, actor=handler, stage=deadline.stage, reason="等待鉴定结论")
    due = CaseDeadline.objects.filter(case=case).order_by("-due_at").first().due_at

    with time_machine.travel(due + timedelta(days=1), tick=False):
        overdue = client.get("/api/v1/cases/overdue", **fq).json()
        shown = client.get(f"/api/v1/cases/{case.code}/deadlines", **fq).json()

    assert case.code not in [c["code"] for c in overdue["results"]]
    assert all(not d["is_overdue"] for d in shown["deadlines"])


def test_deadlines_of_a_matter_out_of_scope_are_404(client, registrar):
    jy = _token("jy-system", "jy-platform")
    case = make_case(registrar)

    response = client.get(f"/api/v1/cases/{case.code}/deadlines", **jy)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- throttling --------------------------------------------------------------------------------------------------------


@override_settings(YIDI_API_CLIENT_RATES={"fq-system": 2})
def test_a_client_over_its_rate_is_429_with_retry_after_and_others_are_not_held_back(client, fq, registrar):
    jy = _token("jy-system", "jy-platform")
    case = make_case(registrar)
    url = f"/api/v1/cases/{case.code}/actions/accept"

    with time_machine.travel(timezone.now().replace(second=10), tick=False):
        allowed = [client.get("/api/v1/cases", **fq).status_code for _ in range(2)]
        refused = client.get("/api/v1/cases", **fq)
        refused_write = client.post(url, json.dumps({}), content_type="application/json", HTTP_IF_MATCH='W/"1"', **fq)
        other = client.get("/api/v1/cases", **jy)

    assert allowed == [200, 200]
    assert (refused.status_code, refused["Retry-After"], refused.json()) == (429, "50", {
        "code": "rate_limited", "message": "请求过于频繁，已超过本客户端每分钟的请求上限，请按 Retry-After 所示秒数后重试"})
    assert refused_write.status_code == 429
    assert Case.objects.get(pk=case.pk).status == "registered"
    assert other.status_code == 200
    assert AuditEvent.objects.filter(action="auth.rate_limited", object_id="fq-system").count() == 1


@override_settings(YIDI_API_RATE_PER_MINUTE=1)
def test_the_rate_counts_per_minute_window(client, fq):
    start = timezone.now().replace(second=30)
    with time_machine.travel(start, tick=False):
        first = client.get("/api/v1/reference/channels", **_token("ref", "fq-platform", ["reference:read"]))
    with time_machine.travel(start, tick=False):
        second = client.get("/api/v1/cases", **fq)
        third = client.get("/api/v1/cases", **fq)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        next_minute = client.get("/api/v1/cases", **fq)

    assert (first.status_code, second.status_code, third.status_code, next_minute.status_code) == (200, 200, 429, 200)
