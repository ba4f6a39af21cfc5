"""The native API's mediation read (GET /api/v1/cases/{code}/mediations, scope `mediation:read`): sessions,
appointments, mediators, the agreement's signatures and effect, the judicial confirmation, and hand-offs."""

from datetime import timedelta

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.cases.tests.helpers import snapshot
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.mediation import actions, handoffs
from yidi.mediation.builders import advance_mediation
from yidi.mediation.domain import HandOffKind, MediationStatus
from yidi.mediation.models import Mediation

pytestmark = pytest.mark.django_db


def _token(name: str, unit_code: str, scopes=("cases:read", "mediation:read")) -> dict:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def fq(db):
    """The system of 枫桥镇's platform, which oversees its township's matters."""
    return _token("fq-system", "fq-platform")


def test_an_agreed_mediation_shows_its_sessions_mediators_agreement_and_window(client, fq, in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.AGREED, actor=mediator, mediator=wu)
    mediation = Mediation.objects.get(case=in_mediation)

    response = client.get(f"/api/v1/cases/{in_mediation.code}/mediations", **fq)

    body = response.json()
    assert response.status_code == 200
    assert (body["code"], body["handoffs"], len(body["mediations"])) == (in_mediation.code, [], 1)
    shown = body["mediations"][0]
    assert (shown["number"], shown["status"], shown["status_label"], shown["is_open"]) == (
        mediation.number, "agreed", "达成协议", False)
    assert (shown["committee"], shown["source"], shown["source_label"]) == (
        mediation.committee, "application", "当事人申请")
    assert [(m["name"], m["is_lead"], m["unit"]["code"]) for m in shown["mediators"]] == [
        ("吴调解", True, "fy-committee")]
    assert [(s["number"], s["kind_label"], s["mode_label"], s["result"]) for s in shown["sessions"]] == [
        (1, "面对面调解", "现场", "双方同意拆除杂物间、疏通排水沟，赔偿数额达成一致。")]
    agreement = shown["agreement"]
    assert (agreement["form"], agreement["status"], agreement["status_label"]) == ("written", "effective", "已生效")
    assert (agreement["signatures_recorded"], agreement["signatures_required"]) == (4, 4)
    assert agreement["effective_at"] is not None and agreement["judicial_confirmation_due_at"] is not None
    assert (agreement["judicial_confirmation"], agreement["obligations"]) == (None, [])
    assert shown["appointments"] == []


def test_booked_sessions_are_shown_with_their_state(client, fq, in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    starts_at = clock.now() + timedelta(days=2)
    kept = actions.do_schedule_session(in_mediation.code, actor=mediator, starts_at=starts_at, place="枫源村调解室",
                                       mode="on_site")
    dropped = actions.do_schedule_session(in_mediation.code, actor=mediator, starts_at=starts_at + timedelta(days=1),
                                          place="", mode="online", online_room="会议号 123456")
    actions.do_cancel_session(in_mediation.code, actor=mediator, appointment_id=dropped.pk, reason="申请人住院")

    shown = client.get(f"/api/v1/cases/{in_mediation.code}/mediations", **fq).json()["mediations"][0]

    assert (shown["status"], shown["is_open"], shown["agreement"]) == ("mediating", True, None)
    assert [(a["id"], a["mode_label"], a["place"], a["status"], a["status_label"], a["cancel_reason"])
            for a in shown["appointments"]] == [
        (kept.pk, "现场", "枫源村调解室", "scheduled", "已预约", ""),
        (dropped.pk, "线上", "", "cancelled", "已取消", "申请人住院"),
    ]


def test_a_judicial_confirmation_is_shown(client, fq, in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.AGREED, actor=mediator, mediator=wu)
    actions.do_request_judicial_confirmation(in_mediation.code, actor=mediator, court="诸暨市人民法院",
                                             applied_on=local_date(clock.now()))

    body = client.get(f"/api/v1/cases/{in_mediation.code}/mediations", **fq).json()

    confirmation = body["mediations"][0]["agreement"]["judicial_confirmation"]
    assert (confirmation["court"], confirmation["ruling"], confirmation["ruling_label"], confirmation["number"]) == (
        "诸暨市人民法院", "", "", "")


def test_a_hand_off_and_its_outcome_are_shown(client, fq, in_mediation, mediator, dispatcher, wu):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    actions.do_record_failure(in_mediation.code, actor=mediator, reason="双方对赔偿数额分歧过大",
                              routes_told="已告知可以向人民法院起诉")
    handoff = handoffs.do_hand_off(in_mediation.code, actor=mediator, kind=HandOffKind.COURT_FILING,
                                   receiver="诸暨市人民法院", reason="调解不成，当事人坚持起诉")
    handoffs.do_record_handoff_receipt(in_mediation.code, actor=dispatcher, handoff_id=handoff.pk,
                                       received_on=local_date(clock.now()), reference_number="（2026）浙0681民初1号")

    body = client.get(f"/api/v1/cases/{in_mediation.code}/mediations", **fq).json()

    assert body["mediations"][0]["status"] == "failed"
    assert body["mediations"][0]["end_reason"] == "双方对赔偿数额分歧过大"
    assert [(h["id"], h["kind"], h["kind_label"], h["direction"], h["status"], h["status_label"], h["receiver"],
             h["reference_number"]) for h in body["handoffs"]] == [
        (handoff.pk, "court_filing", "移送法院（诉讼）", "outgoing", "received", "对方已接收", "诸暨市人民法院",
         "（2026）浙0681民初1号")]


def test_mediation_needs_its_scope_and_a_matter_in_scope(client, in_mediation):
    reader = _token("fq-reader", "fq-platform", ["cases:read"])
    jy = _token("jy-system", "jy-platform")
    before = snapshot(in_mediation)

    no_scope = client.get(f"/api/v1/cases/{in_mediation.code}/mediations", **reader)
    elsewhere = client.get(f"/api/v1/cases/{in_mediation.code}/mediations", **jy)
    missing = client.get("/api/v1/cases/330681-2099-999999/mediations", **jy)

    assert (no_scope.status_code, no_scope.json()["code"]) == (403, "forbidden_scope")
    assert (elsewhere.status_code, elsewhere.content) == (404, missing.content)
    assert snapshot(in_mediation) == before


def test_a_matter_without_mediation_has_empty_lists(client, fq, registrar):
    from yidi.cases.builders import make_case

    case = make_case(registrar)

    body = client.get(f"/api/v1/cases/{case.code}/mediations", **fq).json()

    assert body == {"code": case.code, "mediations": [], "handoffs": []}
