"""Builders of court messages for the tests (the same content as the fake court's)."""

from datetime import date, timedelta

from yidi.core import clock
from yidi.core.deadlines import local_date

FORMAT = "yidi-court/1"


def referral_message(number: str = "(2026)浙0681民诉前调100号", *, message_id: str = "zjfy-referral-1",
                     court_code: str = "zjfy", **overrides) -> dict:
    today = local_date(clock.now())
    referral = {
        "kind": "pre_filing", "procedure": "ordinary", "court_case_number": number,
        "referred_on": today.isoformat(), "deadline_on": (today + timedelta(days=30)).isoformat(),
        "cause_of_action": {"code": "9202", "name": "相邻关系纠纷"}, "region": "330681109290",
        "title": "相邻排水纠纷", "mediation_type": "neighbour",
        "facts": "原告与被告系同村前后邻居，被告加盖杂物间堵塞两家共用排水沟，雨后积水倒灌原告厨房。",
        "parties": [
            {"role": "applicant", "kind": "natural", "name": "陈建国", "id_number": "330681197001010016",
             "phone": "13800000001", "address": "诸暨市枫桥镇枫源村3组12号"},
            {"role": "respondent", "kind": "natural", "name": "王志强", "phone": "13800000002"},
        ],
        "claims": ["判令被告拆除杂物间并疏通排水沟", "判令被告赔偿厨房受损费用3000元"],
        "documents": [{"name": "起诉状.pdf", "pages": 3}],
        **overrides,
    }
    return {"format": FORMAT, "type": "referral", "message_id": message_id, "sent_at": "2026-03-02T09:00:00+08:00",
            "court": {"code": court_code, "name": "诸暨市人民法院"}, "referral": referral}


def answer_message(message_type: str, in_reply_to: str, *, message_id: str, number: str = "(2026)浙0681民初7号",
                   on: date | None = None, **extra) -> dict:
    day = (on or local_date(clock.now())).isoformat()
    body = {"in_reply_to": in_reply_to, "court_case_number": number,
            ("accepted_on" if message_type == "acceptance" else "ruled_on"): day, **extra}
    return {"format": FORMAT, "type": message_type, "message_id": message_id, "sent_at": "2026-03-04T09:00:00+08:00",
            "court": {"code": "zjfy", "name": "诸暨市人民法院"}, message_type: body}
