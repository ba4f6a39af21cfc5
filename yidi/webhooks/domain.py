"""Webhook rules, without a database: which timeline step is which event, who receives it, which URLs are allowed.

Rules:
- Events (the fixed set in `EventType`): a matter registered, accepted, assigned, concluded, closed, reopened.
  `case.concluded` is any step that moves a matter into 已出结果 (登记办理结果, 当场化解, 调解协议生效,
  登记口头协议, 调解不成 …), so a new concluding step is covered without a change here.
- A subscription receives an event when it is active, lists the event type, and the matter's region code starts
  with its region scope (a county `330681` covers its townships and villages).
- The payload names the matter only by code, status, lead unit, region and channel: never a party, a phone,
  an ID number, a title or a description (data minimisation, security-requirements INT-07).
- SSRF (security-requirements WEB-10): see `check_url`.
"""

import ipaddress
import socket
from enum import StrEnum
from urllib.parse import urlsplit


class EventType(StrEnum):
    REGISTERED = "case.registered"
    ACCEPTED = "case.accepted"
    ASSIGNED = "case.assigned"
    CONCLUDED = "case.concluded"
    CLOSED = "case.closed"
    REOPENED = "case.reopened"


EVENT_TYPE_LABELS = {
    EventType.REGISTERED: "登记赋码",
    EventType.ACCEPTED: "受理",
    EventType.ASSIGNED: "交办",
    EventType.CONCLUDED: "出结果",
    EventType.CLOSED: "办结",
    EventType.REOPENED: "重办",
}
ACTION_EVENT_TYPES = {
    "register": EventType.REGISTERED,
    "accept": EventType.ACCEPTED,
    "assign": EventType.ASSIGNED,
    "close": EventType.CLOSED,
    "reopen": EventType.REOPENED,
}
CONCLUDED_STATUS = "concluded"
KEY_PREFIX = "webhook"


def event_type_for(action: str, from_status: str, to_status: str) -> EventType | None:
    """The event type of one timeline row, or None for a step that sends no webhook."""
    if to_status == CONCLUDED_STATUS and from_status != CONCLUDED_STATUS:
        return EventType.CONCLUDED
    return ACTION_EVENT_TYPES.get(action)


def covers_region(region_scope: str, region_code: str) -> bool:
    return bool(region_scope) and region_code.startswith(region_scope)


def idempotency_key(subscription_id: int, case_code: str, event_seq: int) -> str:
    """One message per subscription and timeline row; the receiver de-duplicates on it (`Yidi-Event-Id`)."""
    return f"{KEY_PREFIX}:{subscription_id}:{case_code}:{event_seq}"


def subscription_id_from_key(key: str) -> int | None:
    prefix, _, rest = key.partition(":")
    number = rest.partition(":")[0]
    return int(number) if prefix == KEY_PREFIX and number.isdigit() else None


def build_payload(*, key: str, event_type: str, occurred_at: str, code: str, status: str, lead_unit: str,
                  region: str, channel: str, version: int) -> dict:
    return {"id": key, "type": event_type, "occurred_at": occurred_at, "case": {
        "code": code, "status": status, "lead_unit": lead_unit, "region": region, "channel": channel,
        "version": version,
    }}


# --- SSRF -------------------------------------------------------------------------------------------------

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.tencentyun.com"})
# 100.100.100.200 is Alibaba Cloud's metadata service; 169.254.169.254 (link-local) most others'.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("100.100.100.200")})


def parse_ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name denotes by itself, or None for a DNS name.

    Also catches the short and numeric IPv4 forms the C resolver accepts (`2852039166`, `0xA9FEA9FE`,
    `169.254.43518`), which `ipaddress` does not parse but `urllib` would connect to.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not host or any(c not in "0123456789abcdefxABCDEFX." for c in host) or not host[0].isdigit():
            return None
        try:
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local and metadata (169.254/16, fe80::/10),
    carrier-grade NAT, unspecified, multicast and reserved addresses. Loopback is allowed (see `check_url`)."""
    if address.is_loopback:
        return False
    return (
        address in METADATA_ADDRESSES or address.is_private or address.is_link_local or address.is_unspecified
        or address.is_multicast or address.is_reserved or address in ipaddress.ip_network("100.64.0.0/10")
    )


def check_url(url: str, *, debug: bool) -> str | None:
    """Why a webhook URL is refused (a message for the administrator), or None when it is allowed.

    - `https://` only; `http://` only in development (`debug`) or to the loopback host (127.0.0.1, ::1,
      localhost: a receiver on the same machine, and the tests);
    - no user name or password in the URL, no fragment;
    - no address, written literally, that is private, link-local (169.254.0.0/16, incl. the cloud metadata
      service 169.254.169.254), carrier-grade NAT, multicast or reserved, nor a known metadata host name.
      Loopback is allowed. DNS names are checked again, after resolving, when a message is sent
      (`transports.check_resolved`).
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "回调地址格式不正确"
    if parts.scheme not in {"https", "http"} or not host:
        return "回调地址须以 https:// 开头"
    if parts.username is not None or parts.password is not None:
        return "回调地址不能包含用户名或密码"
    if parts.fragment:
        return "回调地址不能包含“#”片段"
    address = parse_ip_literal(host)
    is_loopback = host in LOOPBACK_NAMES or (address is not None and address.is_loopback)
    if parts.scheme == "http" and not (debug or is_loopback):
        return "回调地址须使用 https（仅本机地址或开发环境可用 http）"
    if host in METADATA_NAMES or (address is not None and is_refused_address(address)):
        return "回调地址不能指向内网、链路本地或云服务元数据地址"
    return None
