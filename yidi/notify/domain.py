"""Notifications to the person, without a database: which timeline events notify, who receives a text message,
and how a template's text is filled in.

Rules:
- Each notifying event maps to one or more template keys (`EVENT_TEMPLATES`); `notify_*` events never notify
  (no loops), nor does any event not in the table.
- Text messages go to the matter's applicants (申请人) with a mobile number, once per number; a landline cannot
  receive them, a party without a phone gets none (the in-site message is written regardless).
- A template names its values by placeholder (`PLACEHOLDERS`); unknown `{…}` are left as typed. Free text typed
  by staff (title, reason, route, place) is passed through `mask_in_text`, so no message ever carries an ID
  number or a mobile number (a template itself may not contain one: `check_template_text`).
"""

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from yidi.core.masking import MOBILE_IN_TEXT, PersonalKind, mask, mask_in_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"


class TemplateKey(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ASSIGNED = "assigned"
    SESSION_SCHEDULED = "session_scheduled"
    SESSION_CANCELLED = "session_cancelled"
    AGREEMENT = "agreement"
    CLOSED = "closed"
    EVALUATION_REQUEST = "evaluation_request"
    REOPENED = "reopened"


TEMPLATE_LABELS = {
    TemplateKey.ACCEPTED: "受理通知",
    TemplateKey.DECLINED: "不予受理通知",
    TemplateKey.ASSIGNED: "交办通知",
    TemplateKey.SESSION_SCHEDULED: "预约调解通知",
    TemplateKey.SESSION_CANCELLED: "取消调解预约通知",
    TemplateKey.AGREEMENT: "调解协议生效通知",
    TemplateKey.CLOSED: "办结通知",
    TemplateKey.EVALUATION_REQUEST: "邀请评价",
    TemplateKey.REOPENED: "重办通知",
}


class Channel(StrEnum):
    SMS = "sms"
    SITE = "site"
    EMAIL = "email"


CHANNEL_LABELS = {Channel.SMS: "短信", Channel.SITE: "站内消息", Channel.EMAIL: "电子邮件"}

K = TemplateKey
EVENT_TEMPLATES: dict[str, tuple[TemplateKey, ...]] = {
    "accept": (K.ACCEPTED,),
    "decline": (K.DECLINED,),
    "assign": (K.ASSIGNED,),
    "schedule_session": (K.SESSION_SCHEDULED,),
    "cancel_session": (K.SESSION_CANCELLED,),
    "make_agreement_effective": (K.AGREEMENT,),
    "record_oral_agreement": (K.AGREEMENT,),
    "close": (K.CLOSED, K.EVALUATION_REQUEST),
    "reopen": (K.REOPENED,),
}
del K

PLACEHOLDERS = ("code", "title", "unit", "unit_phone", "deadline", "reason", "route", "when", "place", "mode",
                "portal_url")
PLACEHOLDER_HELP = (
    "可用占位符：{code} 事项编码、{title} 事项标题、{unit} 承办单位、{unit_phone} 单位电话（含括号，无电话时为空）、"
    "{deadline} 办理期限、{reason} 理由、{route} 告知的解决途径、{when} 调解时间、{place} 调解地点、"
    "{mode} 调解方式（现场/线上）、{portal_url} 群众查询网址"
)
SESSION_MODE_LABELS = {"on_site": "现场", "online": "线上"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def templates_for_event(action: str) -> tuple[TemplateKey, ...]:
    if action.startswith("notify_"):
        return ()
    return EVENT_TEMPLATES.get(action, ())


@dataclass(frozen=True)
class PartyContact:
    person_id: int
    role: str
    name: str
    phone: str


@dataclass(frozen=True)
class Recipient:
    person_id: int
    name: str
    phone: str

    @property
    def masked_phone(self) -> str:
        return mask(self.phone, PersonalKind.PHONE)


def sms_recipients(parties: list[PartyContact]) -> list[Recipient]:
    """The applicants with a mobile number, in the given order, each number once."""
    recipients, numbers = [], set()
    for party in parties:
        phone = party.phone.replace(" ", "").replace("-", "")
        if party.role != "applicant" or not MOBILE_IN_TEXT.fullmatch(phone) or phone in numbers:
            continue
        numbers.add(phone)
        recipients.append(Recipient(party.person_id, party.name, phone))
    return recipients


@dataclass(frozen=True)
class MessageFacts:
    """The values a template may use (all plain text; blank when the event has none)."""

    code: str = ""
    title: str = ""
    unit: str = ""
    unit_phone: str = ""
    deadline: str = ""
    reason: str = ""
    route: str = ""
    when: str = ""
    place: str = ""
    mode: str = ""
    portal_url: str = ""


_FREE_TEXT = frozenset({"title", "reason", "route", "place"})


def render(text: str, facts: MessageFacts) -> str:
    values = {f.name: getattr(facts, f.name) for f in fields(facts)}
    for name in _FREE_TEXT:
        values[name] = mask_in_text(values[name]).strip().rstrip("。")
    values["unit_phone"] = f"（电话{facts.unit_phone}）" if facts.unit_phone else ""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text).strip()


def check_template_text(text: str) -> str | None:
    """Why a template's text is refused (Chinese), or None."""
    if not text.strip():
        return "请填写通知内容"
    unknown = sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        return "未知的占位符：" + "、".join(f"{{{name}}}" for name in unknown)
    if mask_in_text(text) != text:
        return "通知内容不能包含身份证号码或手机号码"
    return None


def describe_when(at: datetime) -> str:
    """5月6日（星期三）09:30, in Beijing time."""
    local = at.astimezone(SHANGHAI)
    return f"{local.month}月{local.day}日（星期{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def describe_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def session_place(place: str, mode: str, online_room: str) -> str:
    """Where the session is: the place, and for an online session the room (link or meeting number)."""
    if mode == "online":
        return "，".join(part for part in (place.strip(), online_room.strip()) if part) or "线上调解室"
    return place.strip()
