from datetime import date

import pytest

from yidi.campaigns.domain import (
    CampaignError,
    CampaignRule,
    CampaignStatus,
    can_manage,
    check_definition,
    check_reason,
    next_status,
)

RULE = CampaignRule(type_ids=frozenset({7}), region_codes=("330681109",), starts_on=date(2026, 1, 1),
                    ends_on=date(2026, 2, 28))


def test_a_matter_of_the_type_in_the_region_within_the_period_matches():
    assert RULE.matches(type_id=7, region_code="330681109290", registered_on=date(2026, 2, 28))
    assert RULE.matches(type_id=7, region_code="330681109", registered_on=date(2026, 1, 1))


@pytest.mark.parametrize(("type_id", "region_code", "registered_on"), [
    (8, "330681109290", date(2026, 1, 5)),  # another type
    (None, "330681109290", date(2026, 1, 5)),  # not classified yet
    (7, "330681001", date(2026, 1, 5)),  # another township
    (7, "330681", date(2026, 1, 5)),  # placed at county level only
    (7, "330681109290", date(2025, 12, 31)),  # before the period
    (7, "330681109290", date(2026, 3, 1)),  # after it
])
def test_a_matter_outside_type_region_or_period_does_not_match(type_id, region_code, registered_on):
    assert not RULE.matches(type_id=type_id, region_code=region_code, registered_on=registered_on)


def test_only_a_draft_activates_and_only_an_active_campaign_ends():
    assert next_status(CampaignStatus.DRAFT, "activate") is CampaignStatus.ACTIVE
    assert next_status(CampaignStatus.ACTIVE, "end") is CampaignStatus.ENDED
    with pytest.raises(CampaignError, match="已结束的专项不能启动"):
        next_status(CampaignStatus.ENDED, "activate")
    with pytest.raises(CampaignError, match="草稿的专项不能结束"):
        next_status(CampaignStatus.DRAFT, "end")


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"name": "  "}, "name", "请填写专项名称"),
    ({"name": "专" * 81}, "name", "专项名称不能超过80个字"),
    ({"starts_on": None}, "starts_on", "请填写开始日期"),
    ({"ends_on": date(2025, 12, 1)}, "ends_on", "结束日期不能早于开始日期"),
    ({"type_count": 0}, "dispute_types", "请至少选择一个纠纷类型"),
    ({"region_codes": []}, "regions", "请至少选择一个区域"),
    ({"region_codes": ["330682"]}, "regions", "区域 330682 不在本单位辖区内"),
])
def test_an_incomplete_definition_is_refused_naming_the_field(overrides, field, message):
    values = {"name": "欠薪专项", "starts_on": date(2026, 1, 1), "ends_on": date(2026, 2, 1), "type_count": 1,
              "region_codes": ["330681109"], "scope_code": "330681"} | overrides
    with pytest.raises(CampaignError) as raised:
        check_definition(**values)
    assert (raised.value.field, str(raised.value)) == (field, message)


def test_a_removal_needs_a_reason():
    with pytest.raises(CampaignError, match="移出专项必须填写理由"):
        check_reason("   ")
    assert check_reason(" 非欠薪事项 ") == "非欠薪事项"


@pytest.mark.parametrize(("roles", "user_region", "unit_id", "allowed"), [
    ({"supervisor"}, "330681", 1, True),  # county supervisor, county campaign
    ({"leader"}, "330681109", 1, False),  # a township leader does not manage a county campaign
    ({"handler"}, "330681", 9, True),  # someone in the lead unit
    ({"handler"}, "330681", 1, False),  # a handler elsewhere
    ({"system_admin"}, "330681", 9, False),  # an admin role in the lead unit still may not
])
def test_managers_are_the_regions_oversight_roles_and_the_lead_unit(roles, user_region, unit_id, allowed):
    assert can_manage(roles=frozenset(roles), user_region=user_region, user_unit_id=unit_id,
                      campaign_region="330681", lead_unit_id=9) is allowed
