"""Status sync back to the 12345 hotline (工单回传): each step the platform must know is one outbox message of
kind `hotline`, written with the step, keyed by ticket and step, with no personal data; other channels' matters
and history loaded while muted send nothing."""

import json

import pytest

from yidi.accounts.models import Unit
from yidi.cases import actions
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, HandlingMode, Outcome
from yidi.integrations import actions as outbox
from yidi.integrations.models import OutboxMessage

pytestmark = pytest.mark.django_db
TICKET = "12345-20261128-0042"


def synced(case) -> list[dict]:
    return [m.payload for m in OutboxMessage.objects.filter(kind="hotline", subject_id=case.code).order_by("id")]


def test_each_step_of_a_hotline_matter_goes_back_once_without_personal_data(registrar, dispatcher, handler):
    case = make_case(registrar, channel_code="hotline_12345", external_ref=TICKET)
    assert synced(case) == []  # the platform knows its own ticket was registered
    case = advance_case(case, CaseStatus.CLOSED, dispatcher=dispatcher, handler=handler,
                        lead_unit=Unit.objects.get(code="fq-platform"), mode=HandlingMode.ADMINISTRATIVE,
                        outcome=Outcome.OPINION_SUPPORT)

    payloads = synced(case)
    assert [(p["step"], p["status"], p["unit"]) for p in payloads] == [
        ("accept", "accepted", ""),
        ("assign", "assigned", "枫桥镇综治工作平台"),
        ("sign", "signed", "枫桥镇综治工作平台"),
        ("conclude", "concluded", "枫桥镇综治工作平台"),
        ("close", "closed", "枫桥镇综治工作平台"),
    ]
    assert {p["ticket"] for p in payloads} == {TICKET} and payloads[3]["outcome"] == "处理意见：支持"
    keys = list(OutboxMessage.objects.filter(kind="hotline").order_by("id").values_list("idempotency_key", flat=True))
    assert keys == [f"hotline:{TICKET}:{p['seq']}" for p in payloads]
    text = json.dumps(payloads, ensure_ascii=False)
    for personal in ("陈建国", "13805751234", "330681198003150017", "王志强"):
        assert personal not in text


def test_a_decline_goes_back_with_its_reason_and_the_route_told(registrar, dispatcher):
    case = make_case(registrar, channel_code="hotline_12345", external_ref=TICKET)
    actions.do_decline_case(case.code, actor=dispatcher, reason="属于法院已受理的案件", route_told="请向人民法院咨询案件进度")

    [payload] = synced(case)
    assert (payload["step"], payload["reason"], payload["route_told"]) == (
        "decline", "属于法院已受理的案件", "请向人民法院咨询案件进度")


def test_other_channels_and_muted_history_send_nothing(registrar, dispatcher):
    walk_in = make_case(registrar)
    actions.do_accept_case(walk_in.code, actor=dispatcher)
    old = make_case(registrar, channel_code="hotline_12345", external_ref=TICKET)
    with outbox.muted():
        actions.do_accept_case(old.code, actor=dispatcher)

    assert not OutboxMessage.objects.filter(kind="hotline").exists()
