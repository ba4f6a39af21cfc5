"""Request and response schemas of the native API for matters (`CaseIn`, `CaseOut` …) and reference data.

Requests refuse unknown fields (`extra="forbid"`) and wrong types (strict where JSON could be coerced), and bound
every length and number by its column, so bad input is a 400 before any action runs.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from yidi.accounts.domain import HandlingLevel
from yidi.cases.domain import (
    CaseStatus,
    Complexity,
    DiversionRoute,
    Grade,
    HandlingMode,
    Outcome,
    RequestType,
)
from yidi.core.api_fields import AwareTime
from yidi.core.deadlines import PARTY_STAGES, Stage

EARLIEST_OCCURRED_AT = datetime(1949, 10, 1, tzinfo=UTC)


class RequestSchema(Schema):
    model_config = ConfigDict(extra="forbid")


def _text(max_length: int, *, min_length: int = 0):
    return Annotated[StrictStr, Field(max_length=max_length, min_length=min_length)]


class PartyIn(RequestSchema):
    role: Literal["applicant", "respondent", "third_party", "agent"]
    name: _text(80, min_length=1)
    kind: Literal["natural", "organisation"] = "natural"
    id_number: _text(18) = ""
    phone: _text(30) = ""
    address: _text(200) = ""
    credit_code: _text(18) = ""


class CaseIn(RequestSchema):
    channel: _text(40, min_length=1)
    request_type: RequestType
    title: _text(120, min_length=1)
    description: _text(10000, min_length=1)
    region: _text(15, min_length=6)
    address: _text(200) = ""
    occurred_at: AwareTime | None = None
    people_involved: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    amount_involved: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    latitude: Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)] | None = None
    longitude: Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)] | None = None
    primary_type: _text(40) = ""
    grade: Grade | None = None
    complexity: Complexity | None = None
    is_urgent: StrictBool = False
    parties: Annotated[list[PartyIn], Field(max_length=20)] = []
    in_person: StrictBool = False
    external_ref: _text(60) = ""
    labels: Annotated[dict[_text(40), _text(40)], Field(max_length=10)] = {}

    @field_validator("occurred_at")
    @classmethod
    def _occurred_in_range(cls, value: datetime | None) -> datetime | None:
        if value is not None and not (EARLIEST_OCCURRED_AT <= value <= datetime.now(UTC) + timedelta(minutes=5)):
            raise ValueError("发生时间超出范围（不能早于1949-10-01，也不能晚于现在）")
        return value


# --- the bodies of the actions: one schema each; texts the action requires are checked by the action (400
# `invalid_input` with its field), so a blank one gets the same Chinese message as on the page ---------------------

UnitCode = _text(60, min_length=1)
Reason = _text(2000)
# The unit's own clocks (the parties' periods are neither paused nor extended).
UnitStage = Literal[tuple(stage.value for stage in Stage if stage not in PARTY_STAGES)]  # type: ignore[valid-type]


class NoBodyIn(RequestSchema):
    """受理、签收、接收转办、恢复计时 … carry nothing (an empty object, or no body)."""


class ReasonIn(RequestSchema):
    reason: Reason


class DeclineIn(RequestSchema):
    reason: Reason
    route_told: _text(500) = Field(description="已告知当事人的其他解决途径")


class AssignIn(RequestSchema):
    lead_unit: UnitCode
    co_units: Annotated[list[UnitCode], Field(max_length=10)] = []
    note: _text(500) = ""
    handling_level: HandlingLevel | None = None
    override_reason: _text(500) = Field("", description="与分派规则建议的主办单位不同时必填")


class StartHandlingIn(RequestSchema):
    mode: HandlingMode


class DivertIn(RequestSchema):
    route: DiversionRoute
    reason: Reason


class ConcludeIn(RequestSchema):
    outcome: Outcome
    summary: _text(2000) = ""


class CloseIn(RequestSchema):
    note: _text(2000) = ""


class TransferIn(RequestSchema):
    to_unit: UnitCode
    reason: Reason


class ConsultationIn(RequestSchema):
    units: Annotated[list[UnitCode], Field(min_length=1, max_length=20)]
    minutes: _text(10000)
    decisions: _text(5000)


class MarkUrgentIn(RequestSchema):
    reason: _text(2000) = ""


class ExtensionIn(RequestSchema):
    stage: UnitStage
    days: Annotated[StrictInt, Field(ge=1, le=365)]
    reason: Reason


class ExtensionDecisionIn(RequestSchema):
    approve: StrictBool
    reason: _text(2000) = Field("", description="不同意时必填")


class PauseIn(RequestSchema):
    stage: UnitStage
    reason: Reason


class ResumeIn(RequestSchema):
    stage: UnitStage


class ResolveOnSpotIn(RequestSchema):
    outcome: Literal["written_agreement", "oral_agreement"]
    summary: _text(2000)


class ContactIn(RequestSchema):
    """Another report of the matter (a repeated call, a new complaint about it)."""

    channel: _text(40, min_length=1)
    summary: _text(10000)
    external_ref: _text(60) = ""
    party: PartyIn | None = Field(None, description="反映人（不填则为匿名或同一反映人）")


class VisitIn(RequestSchema):
    place: _text(120)
    purpose: _text(200) = ""


class CodeName(Schema):
    code: str
    name: str


class PartyOut(Schema):
    id: int
    role: str
    kind: str
    name: str
    id_number: str
    phone: str
    address: str


class AssignmentOut(Schema):
    unit: CodeName
    role: str
    status: str
    assigned_at: datetime
    signed_at: datetime | None


class ContactOut(Schema):
    channel: CodeName
    contacted_at: datetime
    summary: str
    external_ref: str


class ContactItemOut(ContactOut):
    id: int
    case_version: int


class ContactPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ContactItemOut]


class VisitOut(Schema):
    id: int
    place: str
    unit: CodeName | None
    visited_at: datetime
    purpose: str
    case_version: int


class VisitPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[VisitOut]


class CaseSummaryOut(Schema):
    code: str
    status: str
    status_label: str
    title: str
    request_type: str
    region: CodeName
    channel: CodeName
    primary_type: CodeName | None
    grade: str
    complexity: str
    is_urgent: bool
    lead_unit: CodeName | None
    registered_at: datetime
    updated_at: datetime
    due_at: datetime | None
    deadline_state: str
    version: int


class CaseOut(CaseSummaryOut):
    description: str
    address: str
    occurred_at: datetime | None
    people_involved: int | None
    amount_involved: Decimal | None
    handling_mode: str
    outcome: str
    personal_data: Literal["masked", "full"]
    parties: list[PartyOut]
    assignments: list[AssignmentOut]
    contacts: list[ContactOut]


class CasePage(Schema):
    count: int = Field(description="符合条件的事项数，最多计到 10000（超过时 count_is_capped 为 true，请用筛选条件缩小范围；"
                                   "翻页不受此限）")
    count_is_capped: bool = Field(description="true：符合条件的事项超过 count")
    page: int
    page_size: int
    next_cursor: str | None = Field(description="按 since/cursor 同步时：下一次请求的 cursor；否则为 null")
    results: list[CaseSummaryOut]


class PauseOut(Schema):
    started_at: datetime
    ended_at: datetime | None


class ExtensionOut(Schema):
    id: int
    days: int
    reason: str
    status: str
    status_label: str
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str


class DeadlineOut(Schema):
    stage: str
    stage_label: str
    policy: str
    day_unit: str
    limit_days: int
    started_at: datetime
    due_at: datetime
    state: str
    state_label: str
    is_running: bool
    is_paused: bool
    is_overdue: bool
    pauses: list[PauseOut]
    extension_days: int
    met_at: datetime | None
    cancelled_at: datetime | None
    extensions: list[ExtensionOut]


class CaseDeadlinesOut(Schema):
    code: str
    due_at: datetime | None
    deadline_state: str
    deadlines: list[DeadlineOut]


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


class ChannelOut(Schema):
    code: str
    name: str
    group: str


class TaxonomyOut(Schema):
    code: str
    name: str
    version: str
    labels: list[CodeName]


class RegionOut(Schema):
    code: str
    name: str
    short_name: str
    level: str
    parent: str | None


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=100)


class CaseListQuery(PageQuery):
    status: list[CaseStatus] = Field(default_factory=list, description="状态，可多次指定")
    region: str = Field("", pattern=r"^\d{0,15}$", description="区划代码：该区划及其下级")
    since: AwareTime | None = Field(
        None, description="同步：从此时间起（含）有变化的事项，按变化时间先后排列（含时区）；翻页用 next_cursor"
    )
    cursor: str = Field("", max_length=80, pattern=r"^[A-Za-z0-9_-]*$",
                        description="同步：上一页的 next_cursor，列出其后有变化的事项")


class RegionQuery(Schema):
    parent: str = Field("", pattern=r"^\d{0,15}$", description="上级区划代码；不指定为最上级")
