"""Shared helpers of the Open311 tests: parsing both formats, and a request as an Open311 client posts it."""

import json
import xml.etree.ElementTree as ET

from yidi.accounts.actions import do_create_api_client

BASE = "/open311/v2"
NEW_REQUEST = {
    "service_code": "neighbour",
    "description": "邻居加盖杂物间堵住共用排水沟，雨天积水倒灌厨房，请求调解。",
    "address_string": "诸暨市枫桥镇枫源村3组18号",
    "last_name": "陈",
    "first_name": "建国",
    "phone": "13805751234",
    "email": "chen@example.cn",
    "attribute[people_involved]": "2",
    "attribute[amount_involved]": "3000.50",
    "attribute[occurred_on]": "2026-11-20T09:30:00+08:00",
    "attribute[respondent_name]": "王志强",
}


def make_client_token(name: str = "fq-open311", unit_code: str = "fq-platform", scopes=("cases:write",)) -> str:
    _client, token = do_create_api_client(name=name, unit_code=unit_code, scopes=list(scopes))
    return token


def xml_root(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return ET.fromstring(response.content)


def xml_records(element: ET.Element) -> list[dict[str, str]]:
    """`<root><item><field>text</field>…</item>…</root>` → [{field: text}] (flat items only)."""
    return [{child.tag: child.text or "" for child in item} for item in element]


def json_body(response):
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def post_request(client, fmt: str = "json", **fields):
    return client.post(f"{BASE}/requests.{fmt}", {key: value for key, value in fields.items() if value is not None})
