"""Helpers of the portal tests: the SMS the log transport kept, and the steps of the flows through the pages."""

import re

import pytest

from yidi.integrations.transports import LogTransport

PHONE = "13912345678"
FENGQIAO = "330681109"
FENGYUAN = "330681109290"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def sms():
    LogTransport.sent.clear()
    yield LogTransport.sent
    LogTransport.sent.clear()


def codes_sent_to(sms, phone: str) -> list[str]:
    found = []
    for message in sms:
        match = re.search(r"验证码为 (\d{6})", message.text)
        if message.destination == phone and match:
            found.append(match.group(1))
    return found


def wrong_code(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def verify_phone(client, sms, phone: str = PHONE):
    """Steps 1 of a submission: ask for a code, type it in; returns the verify response."""
    response = client.post("/p/submit/phone/", {"phone": phone})
    assert response.status_code == 302, response.content.decode()
    return client.post("/p/verify/", {"code": codes_sent_to(sms, phone)[-1]})


def submission_data(**overrides) -> dict:
    data = {
        "nonce": "nonce-0001", "name": "陈建国", "id_number": "", "other_kind": "natural", "other_name": "王志强",
        "other_phone": "", "township": FENGQIAO, "village": FENGYUAN, "address": "3组18号门前",
        "occurred_on": "2025-12-05",
        "description": "邻居在院墙外加盖杂物间，堵住了两家共用的排水沟，下雨后积水倒灌进我家厨房。",
        "people_involved": "2", "amount_involved": "3000", "request_type": "mediation",
        "requests": "希望对方拆除杂物间、疏通排水沟，赔偿损失3000元。", "mediation_mode": "online",
    }
    data.update(overrides)
    return data
