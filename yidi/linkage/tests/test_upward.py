"""Upward (county → the platform above): each reported step writes one outbox message in its own transaction,
without personal data; the month's figures are computed and sent with a growing sequence."""

import json
from datetime import timedelta

import pytest

from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case
from yidi.core import clock
from yidi.integrations.models import OutboxMessage
from yidi.linkage.actions import do_report_figures
from yidi.linkage.domain import PeerDirection
from yidi.linkage.models import FiguresReport
from yidi.linkage.tests.helpers import CITY, make_peer
from yidi.mediation.tests.helpers import at

T0 = at(2026, 3, 10, 9, 0)


def reports(case=None) -> list[OutboxMessage]:
    messages = OutboxMessage.objects.filter(kind="linkage").order_by("id")
    return list(messages.filter(subject_id=case.code) if case else messages)


@pytest.fixture
def upstream(db):
    peer, _token = make_peer(PeerDirection.ABOVE, CITY, name="绍兴市", url="https://shaoxing.example.gov.cn/")
    return peer


def test_a_new_matter_is_reported_up_without_personal_data(upstream, registrar):
    with clock.at(T0):
        case = make_case(registrar)

    [message] = reports(case)
    assert message.idempotency_key == f"linkage:{upstream.pk}:case.report:{case.code}:1"
    assert message.destination == "https://shaoxing.example.gov.cn/api/v1/linkage/reports/cases"
    payload = message.payload
    assert payload["format"] == "yidi-linkage/1" and payload["type"] == "case.report"
    assert payload["case"]["code"] == case.code and payload["case"]["version"] == 1
    assert payload["case"]["status"] == "registered"
    assert payload["case"]["region"] == {"code": "330681109290", "name": case.region.name}
    assert payload["case"]["township"]["code"] == "330681109"
    assert payload["case"]["type"]["code"] == "neighbour"
    assert payload["step"]["action"] == "register" and payload["assignment"] == ""
    text = json.dumps(payload, ensure_ascii=False)
    for personal in ("陈建国", "王志强", "13805751234", "330681198003150017", "枫源村3组", case.title):
        assert personal not in text


def test_each_status_change_is_reported_with_its_version(upstream, registrar, dispatcher):
    with clock.at(T0):
        case = make_case(registrar)
    with clock.at(T0 + timedelta(minutes=5)):
        case_actions.do_accept_case(case.code, actor=dispatcher)

    assert [m.payload["case"]["version"] for m in reports(case)] == [1, 2]
    assert reports(case)[1].payload["case"]["status"] == "accepted"


def test_nothing_is_reported_without_a_platform_above(registrar):
    make_case(registrar)

    assert reports() == []


def test_a_step_that_rolls_back_reports_nothing(upstream, registrar, handler):
    case = make_case(registrar)

    with pytest.raises(Exception):
        case_actions.do_accept_case(case.code, actor=handler)  # a handler may not accept

    assert [m.payload["case"]["version"] for m in reports(case)] == [1]


def test_the_month_figures_are_counted_and_sent_with_a_growing_sequence(upstream, registrar, dispatcher):
    with clock.at(T0):
        first = make_case(registrar)
        make_case(registrar, request_type="complaint", primary_type_code="", region_code="330681001")
        case_actions.do_accept_case(first.code, actor=dispatcher)
    with clock.at(at(2026, 4, 2, 9, 0)):
        make_case(registrar)  # next month: not counted in March

    with clock.at(at(2026, 3, 31, 20, 0)):
        report = do_report_figures("2026-03")
        again = do_report_figures("2026-03")

    figures = FiguresReport.objects.get(month="2026-03").figures
    assert (report.sequence, again.sequence) == (1, 2)
    assert figures["registered"] == 2 and figures["accepted"] == 1
    assert figures["by_status"] == {"accepted": 1, "registered": 1}
    assert figures["by_request_type"] == {"complaint": 1, "mediation": 1}
    assert figures["by_township"]["330681109"]["count"] == 1
    assert sum(item["count"] for item in figures["by_township"].values()) == 2
    assert figures["by_channel"] == {"walk_in": 2}
    sent = [m for m in reports() if m.template == "figures.report"]
    assert [(m.payload["month"], m.payload["sequence"]) for m in sent] == [("2026-03", 1), ("2026-03", 2)]
    assert AuditEvent.objects.filter(action="linkage.report_figures").count() == 2
