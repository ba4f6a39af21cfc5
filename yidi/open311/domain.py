"""Open311 GeoReport v2 rules: the service definition's attributes, parameter parsing, and the matter a posted
request becomes. Pure: no Django, no clock (callers pass `now` and the time zone).

Every refusal is an `Open311Error(status, description)`, rendered by the views in the spec's error format.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from yidi.cases.domain import (
    OPEN_STATUSES,
    REQUEST_TYPE_LABELS,
    CaseDraft,
    CaseStatus,
    PartyDraft,
    RequestType,
)
from yidi.core.identifiers import is_valid_phone

SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+08:00"  # when this endpoint's behaviour last changed: bump on every change
CHANNEL_CODE = "open311"
FORMATS = ("json", "xml")
MAX_WINDOW = timedelta(days=90)  # the spec: a date range may not span more than 90 days
MAX_REQUESTS = 1000  # the spec: the newest 1000 at most
MAX_REQUEST_IDS = 100
EARLIEST = datetime(1949, 10, 1, tzinfo=UTC)
# Mainland China (and its islands), roughly: a point outside is a mistake (swapped lat/long, 0,0).
CHINA_LATITUDE = (Decimal("3.8"), Decimal("53.6"))
CHINA_LONGITUDE = (Decimal("73.5"), Decimal("135.1"))
PUBLIC_COORDINATE_PLACES = 3  # ~100 m: a public list must not point at a party's house
MAX_DESCRIPTION = 10000
MAX_ADDRESS = 200
MAX_NAME = 80
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Open311Error(Exception):
    """A refusal in the spec's format: `[{"code": status, "description": …}]` (description in Chinese)."""

    def __init__(self, status: int, description: str):
        self.status = status
        self.description = description
        super().__init__(description)


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


# --- the service definition ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    description: str
    order: int
    required: bool = False
    datatype_description: str = ""
    values: tuple[tuple[str, str], ...] = ()  # (key, name) of a list


REQUEST_TYPE_VALUES = tuple((kind.value, REQUEST_TYPE_LABELS[kind]) for kind in (
    RequestType.CONSULTATION, RequestType.HELP, RequestType.COMPLAINT, RequestType.REPORT, RequestType.SUGGESTION,
    RequestType.MEDIATION,
))
ATTRIBUTES = (
    Attribute("people_involved", "number", "涉及人数", 1, datatype_description="非负整数"),
    Attribute("amount_involved", "number", "涉及金额（元）", 2, datatype_description="非负数，最多两位小数"),
    Attribute("occurred_on", "datetime", "发生时间", 3, datatype_description="ISO 8601，如 2026-11-01T09:30:00+08:00"),
    Attribute("request_type", "singlevaluelist", "诉求类型（不填：有联系人姓名为纠纷调解，无姓名为匿名举报）", 4,
              values=REQUEST_TYPE_VALUES),
    Attribute("respondent_name", "string", "对方当事人姓名或名称", 5, datatype_description="最多80个字符"),
)
ATTRIBUTE_CODES = frozenset(attribute.code for attribute in ATTRIBUTES)


def service_keywords(name: str) -> str:
    """"邻里纠纷" → "邻里, 纠纷, 人民调解"."""
    stem = name.removesuffix("纠纷")
    return ", ".join(dict.fromkeys(word for word in (stem, "纠纷" if stem != name else "", "人民调解") if word))


# --- statuses and dates -------------------------------------------------------------------------------------


def open311_status(status: str) -> str:
    """The spec has only open and closed: every status still being worked on (including 已出结果, awaiting the
    return visit) is open; not accepted, closed and archived are closed."""
    return "open" if CaseStatus(status) in OPEN_STATUSES else "closed"


def parse_statuses(value: str) -> tuple[str, ...]:
    statuses = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [status for status in statuses if status not in ("open", "closed")]
    if unknown:
        raise bad_request(f"status 只能是 open 或 closed（收到“{unknown[0][:20]}”）")
    return statuses


def parse_datetime(value: str, *, name: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is local time (`zone`). A `+` that a form encoding
    turned into a space is put back."""
    text = value.strip()
    if len(text) > 10 and text[-6] == " " and text[-5:-3].isdigit():
        text = text[:-6] + "+" + text[-5:]
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time.min)
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise bad_request(f"{name} 不是有效的 ISO 8601 时间（如 2026-11-01T00:00:00+08:00）") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed < EARLIEST:
        raise bad_request(f"{name} 超出范围（不能早于1949-10-01）")
    return parsed


def date_window(start: datetime | None, end: datetime | None, *, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range of a search.

    - neither given: the last 90 days;
    - one given: 90 days from it (forward from start_date, back from end_date);
    - both given: end_date after start_date, at most 90 days apart, or 400.
    """
    if start is None and end is None:
        return now - MAX_WINDOW, now
    if start is None:
        return end - MAX_WINDOW, end
    if end is None:
        return start, start + MAX_WINDOW
    if end < start:
        raise bad_request("end_date 不能早于 start_date")
    if end - start > MAX_WINDOW:
        raise bad_request("start_date 与 end_date 的间隔不能超过90天")
    return start, end


# --- a posted request ---------------------------------------------------------------------------------------


def _text(form: Mapping[str, str], name: str, max_length: int) -> str:
    value = " ".join(str(form.get(name, "")).split()) if name != "description" else str(form.get(name, "")).strip()
    if len(value) > max_length:
        raise bad_request(f"{name} 过长（最多{max_length}个字符）")
    return value


def _decimal(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise bad_request(f"{name} 必须是数字") from None
    if not number.is_finite():
        raise bad_request(f"{name} 必须是数字")
    return number


def parse_location(form: Mapping[str, str]) -> tuple[Decimal | None, Decimal | None, str]:
    """(lat, long, address_string): lat and long together, inside China, rounded to 6 places; or an address
    string; at least one of the two."""
    lat, long = str(form.get("lat", "")).strip(), str(form.get("long", "")).strip()
    address = _text(form, "address_string", MAX_ADDRESS)
    if bool(lat) != bool(long):
        raise bad_request("lat 和 long 须同时提供")
    latitude = longitude = None
    if lat:
        latitude, longitude = _decimal(lat, "lat"), _decimal(long, "long")
        if not (CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]
                and CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]):
            raise bad_request("lat/long 不在中国境内（纬度3.8～53.6，经度73.5～135.1；请检查是否填反）")
        latitude, longitude = latitude.quantize(Decimal("0.000001")), longitude.quantize(Decimal("0.000001"))
    if latitude is None and not address:
        raise bad_request("请提供位置：lat 和 long，或 address_string")
    return latitude, longitude, address


def parse_attributes(form: Mapping[str, str], *, now: datetime, zone: tzinfo) -> dict[str, object]:
    """`attribute[<code>]` values, typed; an unknown code or a wrong type is a 400."""
    raw = {}
    for key, value in form.items():
        if key.startswith("attribute["):
            code = key.removeprefix("attribute[").removesuffix("]")
            if code not in ATTRIBUTE_CODES or not key.endswith("]"):
                raise bad_request(f"未知的属性“{key[:60]}”（见服务定义）")
            if str(value).strip():
                raw[code] = str(value).strip()
    values: dict[str, object] = {}
    if "people_involved" in raw:
        if not raw["people_involved"].isdigit() or int(raw["people_involved"]) > 1_000_000:
            raise bad_request("attribute[people_involved] 必须是0～1000000的整数")
        values["people_involved"] = int(raw["people_involved"])
    if "amount_involved" in raw:
        amount = _decimal(raw["amount_involved"], "attribute[amount_involved]")
        if amount < 0 or amount >= Decimal("1e12") or amount != amount.quantize(Decimal("0.01")):
            raise bad_request("attribute[amount_involved] 必须是非负金额，最多两位小数")
        values["amount_involved"] = amount.quantize(Decimal("0.01"))
    if "occurred_on" in raw:
        occurred = parse_datetime(raw["occurred_on"], name="attribute[occurred_on]", zone=zone)
        if occurred > now + timedelta(minutes=5):
            raise bad_request("attribute[occurred_on] 不能晚于现在")
        values["occurred_on"] = occurred
    if "request_type" in raw:
        by_key_or_name = {key: key for key, _ in REQUEST_TYPE_VALUES}
        by_key_or_name |= {name: key for key, name in REQUEST_TYPE_VALUES}
        if raw["request_type"] not in by_key_or_name:
            raise bad_request("attribute[request_type] 须为服务定义中列出的值之一")
        values["request_type"] = RequestType(by_key_or_name[raw["request_type"]])
    if "respondent_name" in raw:
        if len(raw["respondent_name"]) > MAX_NAME:
            raise bad_request(f"attribute[respondent_name] 过长（最多{MAX_NAME}个字符）")
        values["respondent_name"] = " ".join(raw["respondent_name"].split())
    return values


def build_draft(form: Mapping[str, str], *, service_code: str, service_name: str, region_code: str, place: str,
                now: datetime, zone: tzinfo) -> CaseDraft:
    """The registration a posted request asks for.

    - service_code is the matter's 人民调解 type (checked against the code list by the caller);
    - the applicant is the contact (`last_name` + `first_name`, Chinese order) with `phone`; without a name the
      request is anonymous, which the intake rules allow only for reports and suggestions, so the request type
      defaults to 纠纷调解 with a name and to 举报 without one; a phone without a name is refused;
    - `email` is checked but not kept (the person index has no e-mail); `jurisdiction_id`, `device_id`,
      `account_id` and `media_url` are ignored;
    - the region is the client's unit's (`region_code`); an address string is kept as the matter's address.
    """
    description = _text(form, "description", MAX_DESCRIPTION)
    if not description:
        raise bad_request("请填写 description（事项描述）")
    latitude, longitude, address = parse_location(form)
    attributes = parse_attributes(form, now=now, zone=zone)
    name = (_text(form, "last_name", MAX_NAME) + _text(form, "first_name", MAX_NAME)).replace(" ", "")
    if len(name) > MAX_NAME:
        raise bad_request(f"姓名过长（最多{MAX_NAME}个字符）")
    phone = _text(form, "phone", 30).replace(" ", "")
    if phone and not is_valid_phone(phone):
        raise bad_request("phone 格式不正确（手机号11位，座机请加区号，如 0575-87012345）")
    if phone and not name:
        raise bad_request("提供 phone 时请同时提供姓名（last_name、first_name）")
    email = _text(form, "email", 254)
    if email and not EMAIL.match(email):
        raise bad_request("email 格式不正确")
    request_type = attributes.get("request_type") or (RequestType.MEDIATION if name else RequestType.REPORT)
    respondent = str(attributes.get("respondent_name", ""))
    parties = []
    if name:
        parties.append(PartyDraft(role="applicant", name=name, phone=phone))
    if respondent:
        parties.append(PartyDraft(role="respondent", name=respondent))
    title = f"关于{place}{respondent[:20]}的{service_name}"[:120]
    return CaseDraft(
        channel_code=CHANNEL_CODE, request_type=request_type, title=title, description=description,
        region_code=region_code, address=address, occurred_at=attributes.get("occurred_on"),
        people_involved=attributes.get("people_involved"), amount_involved=attributes.get("amount_involved"),
        latitude=latitude, longitude=longitude, primary_type_code=service_code, parties=tuple(parties),
    )
