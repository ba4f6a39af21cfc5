"""Special campaigns (重点领域专项治理) as pure rules: statuses, who may act, which matters a campaign's rule takes.

A campaign names dispute types, regions and a period; while it is active, every matter of one of its types,
located in one of its regions and registered within its period is linked to it automatically ("by rule"). People
may also link a matter by hand, or remove one (with a reason); a removed matter is never re-added by the rule.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {CampaignStatus.DRAFT: "草稿", CampaignStatus.ACTIVE: "进行中", CampaignStatus.ENDED: "已结束"}


class LinkSource(StrEnum):
    RULE = "rule"
    MANUAL = "manual"


LINK_SOURCE_LABELS = {LinkSource.RULE: "按规则自动纳入", LinkSource.MANUAL: "人工纳入"}

# Roles that manage the campaigns of their unit's region (besides everyone in the campaign's lead unit).
MANAGER_ROLES = frozenset({"leader", "supervisor", "dispatcher"})
# Roles that work on matters: a member of the lead unit holding one of them may manage the campaign.
WORKING_ROLES = frozenset({"grid_worker", "registrar", "dispatcher", "handler", "mediator", "leader", "supervisor"})
MAX_NAME_LENGTH = 80
MAX_REASON_LENGTH = 300


class CampaignError(ValueError):
    """An invalid campaign or action (message in Chinese), tied to the form field it came from."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


# Transitions: (from, action) → to. Anything else raises.
TRANSITIONS = {
    (CampaignStatus.DRAFT, "activate"): CampaignStatus.ACTIVE,
    (CampaignStatus.ACTIVE, "end"): CampaignStatus.ENDED,
}
ACTION_LABELS = {"activate": "启动", "end": "结束"}


def next_status(status: CampaignStatus, action: str) -> CampaignStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        label = ACTION_LABELS.get(action, action)
        raise CampaignError("action", f"{STATUS_LABELS[status]}的专项不能{label}") from None


@dataclass(frozen=True)
class CampaignRule:
    """What the automatic link looks at: type label ids, region code prefixes, and the period (both days in)."""

    type_ids: frozenset[int]
    region_codes: tuple[str, ...]
    starts_on: date
    ends_on: date

    def matches(self, *, type_id: int | None, region_code: str, registered_on: date) -> bool:
        """Whether a matter belongs to the campaign by rule.

        - its primary dispute type is one of the campaign's types (an unclassified matter never matches);
        - its place lies within one of the campaign's regions (a region takes every place beneath it);
        - its registration date (Asia/Shanghai) is within the period, both ends included.
        """
        return (
            type_id is not None and type_id in self.type_ids
            and any(region_code.startswith(code) for code in self.region_codes)
            and self.starts_on <= registered_on <= self.ends_on
        )


def check_definition(*, name: str, starts_on: date | None, ends_on: date | None, type_count: int,
                     region_codes: list[str], scope_code: str) -> str:
    """Check a campaign's definition; return the cleaned name or raise `CampaignError`.

    - a name is required (at most 80 characters);
    - the period needs both dates, the end not before the start;
    - at least one dispute type;
    - every region lies within the region of the unit that owns the campaign.
    """
    name = name.strip()
    if not name:
        raise CampaignError("name", "请填写专项名称")
    if len(name) > MAX_NAME_LENGTH:
        raise CampaignError("name", f"专项名称不能超过{MAX_NAME_LENGTH}个字")
    if starts_on is None:
        raise CampaignError("starts_on", "请填写开始日期")
    if ends_on is None:
        raise CampaignError("ends_on", "请填写结束日期")
    if ends_on < starts_on:
        raise CampaignError("ends_on", "结束日期不能早于开始日期")
    if type_count == 0:
        raise CampaignError("dispute_types", "请至少选择一个纠纷类型")
    if not region_codes:
        raise CampaignError("regions", "请至少选择一个区域")
    outside = [code for code in region_codes if not code.startswith(scope_code)]
    if outside:
        raise CampaignError("regions", f"区域 {outside[0]} 不在本单位辖区内")
    return name


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise CampaignError("reason", "移出专项必须填写理由")
    if len(reason) > MAX_REASON_LENGTH:
        raise CampaignError("reason", f"理由不能超过{MAX_REASON_LENGTH}个字")
    return reason


def can_manage(*, roles: frozenset[str], user_region: str, user_unit_id: int | None, campaign_region: str,
               lead_unit_id: int | None) -> bool:
    """Who may change a campaign (edit, activate, end, link, unlink):

    - leaders, supervisors and dispatchers whose unit's region contains the campaign's region;
    - anyone holding a working role in the campaign's lead unit (never the admin roles or citizens).
    """
    if roles & MANAGER_ROLES and user_region and campaign_region.startswith(user_region):
        return True
    return user_unit_id is not None and user_unit_id == lead_unit_id and bool(roles & WORKING_ROLES)


def can_create(*, roles: frozenset[str]) -> bool:
    return bool(roles & MANAGER_ROLES)
