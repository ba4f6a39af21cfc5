"""Builders for the linkage tests: peers with their inbound clients, and messages as another instance posts them."""

from yidi.accounts.actions import do_create_api_client
from yidi.linkage.actions import do_save_peer
from yidi.linkage.domain import FORMAT, PeerDirection

CITY = "3306"


def make_peer(direction: PeerDirection, region_code: str, *, name: str = "", unit: str = "centre",
              url: str = "http://127.0.0.1:9/"):
    """A peer and the token it uses to call us (its inbound client, scope linkage:exchange, in `unit`)."""
    client, token = do_create_api_client(name=f"peer-{direction}-{region_code}", unit_code=unit,
                                         scopes=["linkage:exchange"])
    peer, _ = do_save_peer(direction=direction, region_code=region_code, name=name or region_code, base_url=url,
                           token=f"outbound-token-{region_code}", client_name=client.name)
    return peer, token


def envelope(message_type: str, key: str, region: str = "330681") -> dict:
    return {"format": FORMAT, "type": message_type, "id": key, "from": {"region": region, "name": "诸暨市"}}


def case_report(code: str = "330681-2026-000001", *, version: int = 1, status: str = "registered",
                assignment: str = "") -> dict:
    return {
        **envelope("case.report", f"linkage:1:case.report:{code}:{version}"),
        "case": {
            "code": code, "version": version, "status": status, "status_label": "已登记", "request_type": "mediation",
            "type": {"code": "neighbour", "name": "邻里纠纷"}, "grade": "blue", "complexity": "simple",
            "is_urgent": False, "region": {"code": "330681109290", "name": "枫源村"},
            "township": {"code": "330681109", "name": "枫桥镇"}, "channel": "walk_in", "lead_unit": None,
            "registered_at": "2026-03-10T01:00:00+00:00", "accepted_at": None, "concluded_at": None,
            "closed_at": None, "due_at": None,
        },
        "step": {"action": "register", "at": "2026-03-10T01:00:00+00:00"},
        "assignment": assignment,
    }


def matter(**overrides) -> dict:
    values = {
        "title": "跨县务工人员工资纠纷", "description": "申请人反映在工地务工三个月，工资未结清。",
        "request_type": "mediation", "region": "330681109", "address": "", "occurred_at": None,
        "people_involved": 1, "amount_involved": "12000", "type": "", "grade": "", "is_urgent": False,
        "parties": [{"role": "applicant", "name": "陈建国", "kind": "natural", "id_number": "",
                     "phone": "13805751234", "address": "", "credit_code": ""}],
    }
    return {**values, **overrides}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
