"""The portal's pure rules: verification limits, the matter's title, and the citizen's words for a status.

No Django, no clock: callers pass the time and the records' values.
"""

from dataclasses import dataclass
from datetime import timedelta

from yidi.cases.domain import OUTCOME_LABELS, CaseStatus, RequestType

CODE_DIGITS = 6
CODE_VALID_FOR = timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5  # wrong entries that kill a code and lock the phone
PHONE_LOCK = timedelta(minutes=30)
PHONE_MIN_INTERVAL = timedelta(seconds=60)  # one code per phone per minute
PHONE_CODES_PER_HOUR = 5
SOURCE_CODES_PER_HOUR = 20
GRANT_SECONDS = 30 * 60  # a verified phone may submit, or view its matter, for 30 minutes
TRACKING_LINK_VALID_FOR = timedelta(days=180)
MAX_ATTACHMENTS = 5

SMS_CODE_TEXT = "【一地】您的验证码为 {code}，10分钟内有效。如非本人操作请忽略。"
SMS_SUBMITTED_TEXT = "【一地】您反映的事项已登记，编码 {code}。查询办理进度：{link}（请勿转发他人）"

# Messages (the same wording wherever the situation arises).
MSG_WRONG_CODE = "验证码不正确，请核对短信中的6位数字后重新输入"
MSG_EXPIRED_CODE = "验证码已过期，请重新获取验证码"
MSG_LOCKED = "验证码错误次数过多，请30分钟后再试"
MSG_TOO_SOON = "验证码发送过于频繁，请1分钟后再试"
MSG_PHONE_HOURLY = "该手机号本小时获取验证码次数已达上限，请稍后再试"
MSG_SOURCE_HOURLY = "您所在网络本小时获取验证码次数过多，请稍后再试"
MSG_NO_CODE = "请先获取验证码"


class VerificationDenied(Exception):
    """A code request or check refused (message in Chinese, for the person). `retry_after_seconds` is set for
    rate limits (429)."""

    def __init__(self, message: str, *, retry_after_seconds: int = 0):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message)


# --- the matter's title ------------------------------------------------------------------------------------

REQUEST_TYPE_PLAIN = {
    RequestType.MEDIATION: "调解纠纷",
    RequestType.COMPLAINT: "投诉",
    RequestType.HELP: "求助",
    RequestType.CONSULTATION: "咨询",
    RequestType.REPORT: "举报",
    RequestType.SUGGESTION: "建议",
}
_TITLE_NOUN = {
    RequestType.MEDIATION: "纠纷",
    RequestType.COMPLAINT: "投诉",
    RequestType.HELP: "求助",
    RequestType.CONSULTATION: "咨询",
    RequestType.REPORT: "举报",
    RequestType.SUGGESTION: "建议",
}
TITLE_MAX = 40


def make_title(*, place: str, other_party: str, request_type: RequestType) -> str:
    """"关于{place}{other party}的{noun}", cut to a sensible length: 关于枫源村王志强的纠纷."""
    other_party = " ".join(other_party.split())[:20]
    title = f"关于{place}{other_party}的{_TITLE_NOUN[request_type]}"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


# --- the status in the citizen's words ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlainStatus:
    code: str  # for the badge colour (data-status)
    label: str
    explanation: str


def plain_status(status: CaseStatus, *, handling_mode: str = "", outcome: str = "") -> PlainStatus:
    """What the person is told about where the matter is (受理中/已受理/办理中/调解中/已出结果/已办结/不予受理)."""
    s = CaseStatus
    if status == s.REGISTERED:
        return PlainStatus("registered", "受理中", "您的反映已登记，工作人员正在审核是否受理，一般在1个工作日内完成。")
    if status in (s.ACCEPTED, s.ASSIGNED, s.RETURNED):
        return PlainStatus("accepted", "已受理", "您的反映已受理，正在安排负责单位办理。")
    if status == s.IN_PROGRESS and handling_mode == "mediation":
        return PlainStatus("in_progress", "调解中", "调解员正在组织调解，会和您约定调解的时间和方式。")
    if status in (s.SIGNED, s.IN_PROGRESS, s.DIVERTED):
        return PlainStatus("in_progress", "办理中", "负责单位正在办理您反映的事项。")
    if status in (s.CONCLUDED, s.JUDICIAL_CONFIRMATION, s.PERFORMANCE_MONITORING, s.RETURN_VISITED, s.EVALUATED):
        result = OUTCOME_LABELS.get(outcome, "") if outcome else ""
        text = f"办理结果：{result}。" if result else "办理已有结果。"
        return PlainStatus("concluded", "已出结果", text + "工作人员可能会回访，听取您的意见。")
    if status in (s.CLOSED, s.ARCHIVED):
        return PlainStatus("closed", "已办结", "您反映的事项已办结。")
    return PlainStatus("not_accepted", "不予受理", "您反映的事项不属于本中心受理范围。")


# Timeline steps shown to the person: event action → plain label. Everything else (staff notes, internal
# checks, urging, grading, consultations …) stays off the public timeline.
PUBLIC_EVENT_LABELS = {
    "register": "登记",
    "accept": "受理",
    "decline": "不予受理",
    "assign": "交办",
    "sign": "签收",
    "start_handling": "办理",
    "schedule_session": "预约调解",
    "conclude": "出结果",
    "resolve_on_spot": "出结果",
    "close": "办结",
    "reopen": "重办",
    "evaluate": "评价",
}
