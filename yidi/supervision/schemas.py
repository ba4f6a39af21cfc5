"""Request and response schemas of the supervision part of the native API (`AlertOut`, `ManualAlertIn` …).

A request refuses unknown fields and wrong types, and bounds every length by its column (400 `validation_error`);
a blank text, an unknown severity or no matter gets the action's own message (400 `invalid_input` with `field`),
the same as on the page.
"""

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict, StrictStr

from yidi.supervision.domain import AlertKind, AlertStatus, Severity


class AlertListQuery(Schema):
    status: AlertStatus | None = None
    severity: Severity | None = None
    kind: AlertKind | None = None
    region: str = Field("", pattern=r"^\d{0,12}$", description="区划代码前缀")
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


class CodeName(Schema):
    code: str
    name: str


class AlertSummary(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    severity: str
    severity_label: str
    title: str
    region: CodeName
    dispute_type: CodeName | None
    owner_unit: CodeName | None
    case_count: int
    detected_at: datetime
    updated_at: datetime


class AlertPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[AlertSummary]


class AlertEventOut(Schema):
    seq: int
    action: str
    label: str
    from_status: str
    to_status: str
    at: datetime
    actor_name: str
    note: str


class AlertOut(AlertSummary):
    reason: str
    severity_rule: str
    measures: dict
    period_start_on: date | None
    period_end_on: date | None
    case_codes: list[str]
    hidden_case_count: int
    events: list[AlertEventOut]


class ManualAlertIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[StrictStr, Field(max_length=160, description="预警标题")]
    severity: Annotated[StrictStr, Field(max_length=10, description="预警等级：red 红 / orange 橙 / yellow 黄")]
    reason: Annotated[StrictStr, Field(max_length=2000, description="预警理由")]
    case_codes: list[Annotated[StrictStr, Field(max_length=24)]] = Field(
        max_length=200, description="关联事项编码（客户端可见的事项，1～200 件）"
    )


class ErrorOut(Schema):
    code: str
    message: str
