"""Builders for the campaign tests: deterministic, through the real actions."""

from datetime import date

from yidi.campaigns import actions

FENGQIAO = "330681109"
FENGYUAN = "330681109290"
JIYANG = "330681001"


def make_campaign(actor, **overrides):
    values = {
        "name": "欠薪专项治理", "description": "春节前集中化解欠薪纠纷",
        "starts_on": date(2026, 1, 1), "ends_on": date(2026, 2, 28),
        "type_codes": ["labour"], "region_codes": [FENGQIAO],
        "lead_unit_code": "hrss", "member_unit_codes": ["fq-platform"],
    }
    values.update(overrides)
    return actions.do_create_campaign(actor=actor, **values)
