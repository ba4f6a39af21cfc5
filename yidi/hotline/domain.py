"""12345 hotline imports: the column mapping as data and the rules that turn one exported row into a draft
(pure: no Django, no clock, no I/O).

Rules for one row (`parse_row`):
- the ticket number (工单编号) and the content (诉求内容) are mandatory; so is a request type (诉求类型) the
  centre registers (咨询, 求助, 投诉, 举报, 意见建议 …; 表扬 and 无效 are not matters);
- the place is found by township (乡镇/街道) name within the county, then by village name inside that
  township (the township column first, else the address); an unknown township is an error, an unknown village
  is not (the matter sits at the township);
- a caller's phone must be a mobile or a landline with area code; a call time must parse and not lie in the
  future; a caller's name is needed unless the request is a report or a suggestion (anonymous allowed);
- a formula cell without a cached value, or a cell hidden under a merged range, is named in the reason.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from yidi.cases.domain import CaseDraft, PartyDraft, RequestType
from yidi.core.identifiers import is_valid_phone
from yidi.core.taxonomies import TAXONOMY_BY_CODE

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHANNEL_CODE = "hotline_12345"
TITLE_LENGTH = 30

# The draft fields a column can feed, with their Chinese names (used in messages and the mapping file).
FIELD_LABELS = {
    "ticket_number": "工单编号",
    "called_at": "来电时间",
    "caller_name": "来电人",
    "caller_phone": "来电号码",
    "request_type": "诉求类型",
    "category": "问题分类",
    "township": "所属乡镇（街道）",
    "village": "所属村（社区）",
    "address": "详细地址",
    "title": "标题",
    "content": "诉求内容",
    "handling_unit": "承办单位",
}
# The headers of typical 12345 exports, per field. Matching ignores spaces, `*` marks and the width of brackets.
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "ticket_number": ("工单编号", "工单号", "工单号码", "受理编号", "热线工单编号", "编号"),
    "called_at": ("来电时间", "来电日期", "受理时间", "登记时间", "工单创建时间", "创建时间"),
    "caller_name": ("来电人", "来电人姓名", "诉求人", "诉求人姓名", "反映人", "联系人", "姓名"),
    "caller_phone": ("来电号码", "来电人电话", "联系电话", "联系号码", "联系方式", "手机号码", "电话"),
    "request_type": ("诉求类型", "工单类型", "诉求性质", "来电类型", "诉求分类"),
    "category": ("问题分类", "一级分类", "事项分类", "业务分类", "问题类别"),
    "township": ("所属区域", "所属乡镇", "所属镇街", "乡镇街道", "乡镇（街道）", "乡镇", "街道", "镇街", "区域"),
    "village": ("所属村社", "村（社区）", "村社区", "村社", "所属村"),
    "address": ("详细地址", "事发地址", "事发地点", "发生地址", "地址"),
    "title": ("标题", "工单标题", "诉求标题"),
    "content": ("诉求内容", "问题描述", "来电内容", "工单内容", "诉求描述", "反映内容", "内容"),
    "handling_unit": ("承办单位", "办理单位", "主办单位", "处理单位"),
}
MANDATORY_FIELDS = ("ticket_number", "request_type", "content")
# At least one of these columns must be present: the place comes from either.
PLACE_FIELDS = ("township", "address")

REQUEST_TYPES: dict[str, RequestType] = {
    "咨询": RequestType.CONSULTATION,
    "查询": RequestType.CONSULTATION,
    "求助": RequestType.HELP,
    "求决": RequestType.HELP,
    "投诉": RequestType.COMPLAINT,
    "举报": RequestType.REPORT,
    "检举": RequestType.REPORT,
    "建议": RequestType.SUGGESTION,
    "意见": RequestType.SUGGESTION,
    "意见建议": RequestType.SUGGESTION,
    "批评建议": RequestType.SUGGESTION,
    "纠纷调解": RequestType.MEDIATION,
    "调解": RequestType.MEDIATION,
}
# Request types of the hotline that are not matters for the centre: rejected with this reason.
NOT_REGISTERED = {"表扬": "表扬类工单不登记为事项", "称赞": "表扬类工单不登记为事项", "无效": "无效工单不登记为事项"}
ANONYMOUS_TYPES = frozenset({RequestType.REPORT, RequestType.SUGGESTION})
_HOTLINE_CATEGORIES = {name: code for code, name in TAXONOMY_BY_CODE["hotline_category"].labels}

# Markers the reader puts in a cell instead of a value (see `yidi.hotline.files`).
FORMULA_WITHOUT_VALUE = object()
MERGED_AWAY = object()


class MappingError(ValueError):
    """The mapping file is unusable (message in Chinese)."""


class FileError(ValueError):
    """The file as a whole cannot be imported; nothing is imported (message in Chinese)."""


@dataclass(frozen=True)
class Mapping:
    """Which header feeds which field: `headers` (field → accepted headers, in order of preference) and extra
    request-type words."""

    headers: dict[str, tuple[str, ...]]
    request_types: dict[str, RequestType] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)  # header → field, as the mapping file names them

    def request_type(self, text: str) -> RequestType | None:
        return self.request_types.get(text) or REQUEST_TYPES.get(text)


DEFAULT_MAPPING = Mapping(headers=DEFAULT_HEADERS)


def load_mapping(text: str) -> Mapping:
    """A mapping file in JSON over the default one (YAML files are read by `files.load_mapping_file`).

    Shape: `{"columns": {"工单号码": "ticket_number", …}, "request_types": {"求决类": "help", …}}`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise MappingError(f"映射文件不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）") from None
    return mapping_from_data(data)


def mapping_from_data(data) -> Mapping:
    """The mapping a file's contents describe, over the default one (see `yidi/hotline/mapping.example.yaml`).

    - "columns": header → field; the header feeds its field before any default header and must be in the file
      (`match_columns` names the missing ones); an unknown field is an error;
    - "request_types": the hotline's word → request type code; an unknown code is an error;
    - a mandatory field left without a column is reported by `match_columns`, with the headers it accepts.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict) or not set(data) <= {"columns", "request_types"}:
        raise MappingError("映射文件只能包含 columns 和 request_types 两项")
    columns, types = data.get("columns") or {}, data.get("request_types") or {}
    if not isinstance(columns, dict) or not isinstance(types, dict):
        raise MappingError("columns 和 request_types 都应是“名称: 值”的对照表")
    headers = {name: list(values) for name, values in DEFAULT_HEADERS.items()}
    for header, field_name in columns.items():
        if field_name not in FIELD_LABELS:
            raise MappingError(f"映射文件中“{header}”对应的字段“{field_name}”不存在，可用：{'、'.join(FIELD_LABELS)}")
        headers[field_name].insert(0, str(header))
    request_types = {}
    for text_value, code in types.items():
        if code not in RequestType._value2member_map_:
            raise MappingError(f"映射文件中诉求类型“{text_value}”对应的“{code}”不存在，可用：{'、'.join(RequestType)}")
        request_types[str(text_value)] = RequestType(code)
    return Mapping(headers={name: tuple(values) for name, values in headers.items()}, request_types=request_types,
                   named={str(header): field_name for header, field_name in columns.items()})


def normalise_header(text: str) -> str:
    return re.sub(r"[\s*＊]", "", str(text)).replace("（", "(").replace("）", ")")


def match_columns(header: list[str], mapping: Mapping) -> dict[str, int]:
    """field → column index for the file's header row; `FileError` naming the mandatory columns missing.

    A field takes the first of its accepted headers that the file has; a column feeds at most one field.
    """
    positions = {}
    for index, text in enumerate(header):
        positions.setdefault(normalise_header(text), index)
    absent = [f"“{text}”（{FIELD_LABELS[name]}）" for text, name in mapping.named.items()
              if normalise_header(text) not in positions]
    if absent:
        raise FileError("映射文件指定的列在文件中不存在：" + "、".join(absent) + "。未导入任何数据")
    columns: dict[str, int] = {}
    taken: set[int] = set()
    for field_name, accepted in mapping.headers.items():
        for text in accepted:
            index = positions.get(normalise_header(text))
            if index is not None and index not in taken:
                columns[field_name] = index
                taken.add(index)
                break
    missing = [f"{FIELD_LABELS[name]}（可用列名：{'、'.join(mapping.headers[name][:4])}）"
               for name in MANDATORY_FIELDS if name not in columns]
    if not any(name in columns for name in PLACE_FIELDS):
        missing.append("所属乡镇（街道）或详细地址")
    if missing:
        raise FileError("缺少必需的列：" + "；".join(missing) + "。未导入任何数据")
    return columns


# --- places ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: str  # "township" or "village"
    parent_code: str = ""


_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")


def _spoken_township(name: str) -> str:
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


class RegionLookup:
    """The townships and villages of one county, found by the names people write.

    - a township matches by full name (`枫桥镇`) or without its suffix (`枫桥`), in the text or inside it
      (`诸暨市枫桥镇`); the longest name wins;
    - a village matches by name (`枫源村`) only within its township.
    """

    def __init__(self, county_name: str, places: list[Place]):
        self.county_name = county_name
        self.townships = [p for p in places if p.level == "township"]
        self.villages: dict[str, list[Place]] = {}
        for place in places:
            if place.level == "village":
                self.villages.setdefault(place.parent_code, []).append(place)
        names = [(p.name, p) for p in self.townships] + [(_spoken_township(p.name), p) for p in self.townships]
        self._township_names = sorted(names, key=lambda item: -len(item[0]))

    def township(self, text: str) -> Place | None:
        text = text.replace(self.county_name, "") if self.county_name else text
        for name, place in self._township_names:
            if name and name in text:
                return place
        return None

    def village(self, township: Place, text: str) -> Place | None:
        candidates = sorted(self.villages.get(township.code, []), key=lambda p: -len(p.name))
        return next((p for p in candidates if p.name in text), None)


# --- one row ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketDraft:
    ticket_number: str
    called_at: datetime | None
    handling_unit: str
    case: CaseDraft


@dataclass(frozen=True)
class RowError:
    reason: str


def _text(row: dict, name: str) -> str:
    value = row.get(name)
    if value is None or value is FORMULA_WITHOUT_VALUE or value is MERGED_AWAY:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a ticket or phone number Excel stored as a number
    return str(value).strip()


def _empty_reason(row: dict, name: str, reason: str) -> str:
    """Why a mandatory cell is empty: a formula without a result, a merged cell, or simply blank."""
    if row.get(name) is FORMULA_WITHOUT_VALUE:
        return f"{FIELD_LABELS[name]}：单元格为公式且无计算结果"
    if row.get(name) is MERGED_AWAY:
        return f"{reason}（该单元格属于合并单元格，值只在合并区域左上角）"
    return reason


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d",
                 "%Y/%m/%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%Y%m%d%H%M%S")


def parse_time(value) -> datetime | None:
    """A local (Asia/Shanghai) call time as an aware datetime; None when it does not parse."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = re.sub(r"\s+", " ", str(value).strip())
        for pattern in _TIME_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def normalise_phone(text: str) -> str:
    phone = re.sub(r"[\s()（）]", "", text)
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    return phone


# A call stamped a few minutes ahead (a switch clock running fast) is not an error.
FUTURE_TOLERANCE = timedelta(minutes=10)


def parse_row(row: dict, mapping: Mapping, region_lookup: RegionLookup, *, now: datetime) -> TicketDraft | RowError:
    """One exported row (field → cell value, already matched to columns) as a draft, or the first reason it is
    not one."""
    for name in row:
        if row[name] is FORMULA_WITHOUT_VALUE:
            return RowError(f"{FIELD_LABELS[name]}：单元格为公式且无计算结果")
    ticket = _text(row, "ticket_number")
    if not ticket:
        return RowError(_empty_reason(row, "ticket_number", "缺少工单编号"))
    if len(ticket) > 60:
        return RowError("工单编号超过60个字符")
    content = _text(row, "content")
    if not content:
        return RowError(_empty_reason(row, "content", "诉求内容为空"))
    type_text = _text(row, "request_type")
    if not type_text:
        return RowError(_empty_reason(row, "request_type", "诉求类型为空"))
    if type_text in NOT_REGISTERED:
        return RowError(NOT_REGISTERED[type_text])
    request_type = mapping.request_type(type_text)
    if request_type is None:
        return RowError(f"无法识别的诉求类型“{type_text}”（可用：咨询、求助、投诉、举报、意见建议）")
    called_at = None
    if row.get("called_at") not in (None, "", MERGED_AWAY):
        called_at = parse_time(row["called_at"])
        if called_at is None:
            return RowError(f"来电时间“{_text(row, 'called_at')}”无法识别（应为 2026-04-30 09:15 这样的格式）")
        if called_at > now + FUTURE_TOLERANCE:
            return RowError(f"来电时间“{called_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}”晚于当前时间")
    phone = normalise_phone(_text(row, "caller_phone"))
    if phone and not is_valid_phone(phone):
        return RowError("来电号码格式不正确（手机号11位，座机请加区号）")
    name = _text(row, "caller_name")
    if not name and request_type not in ANONYMOUS_TYPES:
        return RowError(_empty_reason(row, "caller_name", "缺少来电人姓名（仅举报、意见建议可匿名）"))
    township_text, address = _text(row, "township"), _text(row, "address")
    township = region_lookup.township(township_text) if township_text else None
    if township_text and township is None:
        return RowError(f"未知的乡镇（街道）“{township_text}”：不在{region_lookup.county_name or '本县'}辖区内")
    if township is None:
        township = region_lookup.township(address)
    if township is None:
        return RowError(_empty_reason(row, "township", "无法确定所属乡镇（街道）：请填写所属区域或含乡镇名称的详细地址"))
    village = region_lookup.village(township, " ".join([_text(row, "village"), address]))
    title = _text(row, "title") or _title(content)
    labels = {}
    category = _HOTLINE_CATEGORIES.get(_text(row, "category"))
    if category:
        labels["hotline_category"] = category
    parties = (PartyDraft(role="applicant", name=name, phone=phone),) if name else ()
    draft = CaseDraft(
        channel_code=CHANNEL_CODE, request_type=request_type, title=title, description=content,
        region_code=(village or township).code, address=address, parties=parties, external_ref=ticket, labels=labels,
    )
    return TicketDraft(ticket_number=ticket, called_at=called_at, handling_unit=_text(row, "handling_unit"),
                       case=draft)


def _title(content: str) -> str:
    first = re.split(r"[。！？!?\n]", content, maxsplit=1)[0].strip()
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"
