"""Request and response schemas of the native API for matters (`CaseIn`, `CaseOut` …) and reference data.

Requests refuse unknown fields (`extra="forbid"`) and wrong types (strict where JSON could be coerced), and bound
every length and number by its column, so bad input is a 400 before any action runs.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from yidi.cases.domain import CaseStatus, Complexity, Grade, HandlingMode, Outcome, RequestType

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
    occurred_at: AwareDatetime | None = None
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


class CaseActionIn(RequestSchema):
    """The body of an action; which fields are needed depends on the action (checked by the action)."""

    reason: _text(2000) = ""
    mode: HandlingMode | None = None
    outcome: Outcome | None = None
    summary: _text(2000) = ""


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
    count: int
    page: int
    page_size: int
    results: list[CaseSummaryOut]


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


class CaseListQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=100)
    status: list[CaseStatus] = Field(default_factory=list, description="状态，可多次指定")
    region: str = Field("", pattern=r"^\d{0,15}$", description="区划代码：该区划及其下级")
    since: AwareDatetime | None = Field(None, description="只列出此时间之后有变化的事项（含时区）")


class RegionQuery(Schema):
    parent: str = Field("", pattern=r"^\d{0,15}$", description="上级区划代码；不指定为最上级")
