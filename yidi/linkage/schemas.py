"""Message schemas of 三级联动 (format `yidi-linkage/1`, docs/linkage.md). Unknown fields, wrong types and
out-of-range values are a 400 before any action runs; a new field means a new format version."""

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from yidi.cases.domain import CaseStatus
from yidi.cases.schemas import PartyIn
from yidi.core.api_fields import AwareTime
from yidi.linkage.domain import FORMAT


def text(max_length: int, *, min_length: int = 0):
    return Annotated[StrictStr, Field(max_length=max_length, min_length=min_length)]


class MessageSchema(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Sender(MessageSchema):
    region: text(12, min_length=2)
    name: text(80) = ""


class Envelope(MessageSchema):
    format: Literal[FORMAT]  # type: ignore[valid-type]
    id: text(200, min_length=1)
    sender: Sender = Field(alias="from")


class Named(MessageSchema):
    code: text(60, min_length=1)
    name: text(80) = ""


class ReportedCaseIn(MessageSchema):
    code: text(24, min_length=8)
    version: Annotated[StrictInt, Field(ge=1)]
    status: CaseStatus
    status_label: text(20) = ""
    request_type: text(20) = ""
    type: Named | None = None
    grade: text(10) = ""
    complexity: text(10) = ""
    is_urgent: StrictBool = False
    region: Named
    township: Named | None = None
    channel: text(40) = ""
    lead_unit: Named | None = None
    registered_at: AwareTime
    accepted_at: AwareTime | None = None
    concluded_at: AwareTime | None = None
    closed_at: AwareTime | None = None
    due_at: AwareTime | None = None


class Step(MessageSchema):
    action: text(40) = ""
    at: AwareTime | None = None


class CaseReportIn(Envelope):
    type: Literal["case.report"]
    case: ReportedCaseIn
    step: Step = Step()
    assignment: text(40) = ""


class FiguresReportIn(Envelope):
    type: Literal["figures.report"]
    month: text(7, min_length=7)
    sequence: Annotated[StrictInt, Field(ge=1)]
    computed_at: AwareTime
    figures: dict[str, Any]


class MatterIn(MessageSchema):
    title: text(120, min_length=1)
    description: text(5000, min_length=1)
    request_type: text(20, min_length=1)
    region: text(15, min_length=6)
    address: text(200) = ""
    occurred_at: AwareTime | None = None
    people_involved: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None
    amount_involved: text(20) | None = None
    type: text(60) = ""
    grade: text(10) = ""
    is_urgent: StrictBool = False
    parties: Annotated[list[PartyIn], Field(max_length=50)] = []


class CaseCode(MessageSchema):
    code: text(24, min_length=8)


class TransferRequestIn(Envelope):
    type: Literal["transfer.request"]
    case: CaseCode
    to_region: Named
    reason: text(1000, min_length=1)
    matter: MatterIn


class Source(MessageSchema):
    region: text(12) = ""
    name: text(80) = ""
    code: text(24) = ""


class AssignmentIn(Envelope):
    type: Literal["assignment"]
    reference: text(40, min_length=1)
    kind: Literal["assignment", "transfer"]
    note: text(2000) = ""
    source: Source = Source()
    matter: MatterIn


class RegionCode(MessageSchema):
    code: text(12) = ""


class TransferResultIn(Envelope):
    type: Literal["transfer.result"]
    source_code: text(24, min_length=8)
    status: Literal["forwarded", "refused"]
    destination_code: text(24) = ""
    to_region: RegionCode = RegionCode()
    reason: text(300) = ""


class ReportOut(Schema):
    result: Literal["applied", "stale"]


class AssignmentOut(Schema):
    case_code: str
    created: bool


class TransferOut(Schema):
    reference: str
    status: str


class TransferResultOut(Schema):
    status: str
    destination_code: str


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
