"""Query and response schemas of the campaign part of the native API (`yidi.campaigns.api`)."""

from datetime import date, datetime

from ninja import Field, Schema

from yidi.campaigns.domain import CampaignStatus
from yidi.cases.schemas import CodeName


class CampaignListQuery(Schema):
    status: CampaignStatus | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=100)


class CampaignSummary(Schema):
    id: int
    name: str
    status: str
    status_label: str
    starts_on: date
    ends_on: date
    scope_region: CodeName
    lead_unit: CodeName
    matter_count: int = Field(description="当前纳入的事项数（含本客户端无权查看的）")
    created_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None


class CampaignPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CampaignSummary]


class CountOut(Schema):
    code: str
    label: str
    value: int
    unit: str


class KpiOut(Schema):
    code: str
    label: str
    numerator: str
    denominator: str
    value: str | None = Field(description="无法计算时为 null，原因见 reason")
    unit: str
    reason: str


class FiguresOut(Schema):
    period_start_on: date
    period_end_on: date
    period_label: str
    counts: list[CountOut]
    kpis: list[KpiOut]


class GroupRowOut(Schema):
    code: str | None = Field(description="单位编码或乡镇区划代码；尚未交办的事项为 null")
    name: str
    volume: int
    in_progress: int
    concluded: int
    overdue: int
    resolution: KpiOut


class WeekOut(Schema):
    week_on: date = Field(description="该周周一（北京时间）")
    registered: int
    concluded: int


class CampaignOut(CampaignSummary):
    description: str
    dispute_types: list[CodeName]
    regions: list[CodeName]
    member_units: list[CodeName]
    figures: FiguresOut
    per_unit: list[GroupRowOut]
    per_township: list[GroupRowOut]
    weeks: list[WeekOut]
    case_codes: list[str]
    hidden_case_count: int
