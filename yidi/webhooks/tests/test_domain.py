"""Webhook rules without a database: event types, region scope, URL (SSRF) rules and signatures."""

import pytest

from yidi.webhooks.domain import EventType, check_url, covers_region, event_type_for, subscription_id_from_key
from yidi.webhooks.signing import signature_header, verify_signature

SECRET = "s3cret-for-the-county-12345"
BODY = b'{"id":"webhook:1:330681-2026-000001:2","type":"case.accepted"}'


def test_timeline_steps_map_to_event_types():
    assert event_type_for("register", "", "registered") == EventType.REGISTERED
    assert event_type_for("accept", "registered", "accepted") == EventType.ACCEPTED
    assert event_type_for("assign", "accepted", "assigned") == EventType.ASSIGNED
    assert event_type_for("close", "concluded", "closed") == EventType.CLOSED
    assert event_type_for("reopen", "closed", "in_progress") == EventType.REOPENED
    for action in ("conclude", "resolve_on_spot", "make_agreement_effective", "record_oral_agreement",
                   "record_failure"):
        assert event_type_for(action, "in_progress", "concluded") == EventType.CONCLUDED
    assert event_type_for("record_handoff_outcome", "diverted", "diverted") is None
    assert event_type_for("sign", "assigned", "signed") is None
    assert event_type_for("notify_sent", "accepted", "accepted") is None


def test_a_region_scope_covers_the_regions_below_it_only():
    assert covers_region("330681", "330681109290")
    assert covers_region("330681109", "330681109290")
    assert not covers_region("330681001", "330681109290")
    assert not covers_region("", "330681109290")


def test_the_subscription_is_read_back_from_the_idempotency_key():
    assert subscription_id_from_key("webhook:17:330681-2026-000001:3") == 17
    assert subscription_id_from_key("notify:330681-2026-000001:3:accepted:sms:1") is None


@pytest.mark.parametrize("url", [
    "https://partner.example.cn/hooks",
    "http://127.0.0.1:8123/hooks",
    "http://localhost/hooks",
    "http://[::1]:9000/hooks",
    "https://8.8.8.8/hooks",
])
def test_allowed_urls(url):
    assert check_url(url, debug=False) is None


@pytest.mark.parametrize(("url", "message"), [
    ("http://partner.example.cn/hooks", "回调地址须使用 https（仅本机地址或开发环境可用 http）"),
    ("ftp://partner.example.cn/hooks", "回调地址须以 https:// 开头"),
    ("https://user:pw@partner.example.cn/hooks", "回调地址不能包含用户名或密码"),
    ("https://169.254.169.254/latest/meta-data/", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://2852039166/latest/meta-data/", "回调地址不能指向内网、链路本地或云服务元数据地址"),  # 169.254.169.254
    ("https://[::ffff:169.254.169.254]/", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://10.1.2.3/hooks", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://172.16.0.9/hooks", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://192.168.1.10/hooks", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://100.100.100.200/", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://[fe80::1]/hooks", "回调地址不能指向内网、链路本地或云服务元数据地址"),
    ("https://metadata.google.internal/", "回调地址不能指向内网、链路本地或云服务元数据地址"),
])
def test_refused_urls(url, message):
    assert check_url(url, debug=False) == message
    if url.startswith("http://"):
        assert check_url(url, debug=True) is None  # development may use plain http to a public host


def test_a_signature_verifies_only_with_the_same_secret_body_and_a_fresh_timestamp():
    header = signature_header(SECRET, 1_770_000_000, BODY)
    assert header.startswith("t=1770000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(SECRET, header, BODY, now=1_770_000_100)
    assert verify_signature(SECRET, header, BODY.decode(), now=1_770_000_000 - 300)
    assert not verify_signature(SECRET, header, BODY, now=1_770_000_301)  # too old: a replay
    assert not verify_signature("another-secret-123456", header, BODY, now=1_770_000_000)
    assert not verify_signature(SECRET, header, BODY + b" ", now=1_770_000_000)
    assert not verify_signature(SECRET, header.replace("t=1770000000", "t=1770000001"), BODY, now=1_770_000_000)
    assert not verify_signature(SECRET, "", BODY, now=1_770_000_000)
    assert not verify_signature(SECRET, "t=abc,v1=00", BODY, now=1_770_000_000)


def test_a_rotated_secret_is_accepted_when_any_v1_matches():
    old = signature_header("the-old-secret-123456", 1_770_000_000, BODY)
    new = signature_header(SECRET, 1_770_000_000, BODY).split(",")[1]
    assert verify_signature(SECRET, f"{old},{new}", BODY, now=1_770_000_000)
