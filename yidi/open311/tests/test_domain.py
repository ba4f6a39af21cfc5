"""The pure Open311 rules: dates and the 90-day window, location, attributes, the draft a request becomes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from yidi.cases.domain import PartyDraft, RequestType
from yidi.open311 import domain
from yidi.open311.domain import Open311Error

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _draft(**form):
    return domain.build_draft(form, service_code="neighbour", service_name="邻里纠纷", region_code="330681109",
                              place="枫桥镇", now=NOW, zone=SHANGHAI)


def test_statuses_map_to_open_and_closed():
    assert [domain.open311_status(s) for s in ("registered", "concluded", "not_accepted", "closed", "archived")] == [
        "open", "open", "closed", "closed", "closed"]


def test_a_date_without_offset_is_shanghai_time_and_a_plus_turned_space_is_put_back():
    assert domain.parse_datetime("2026-11-01", name="start_date", zone=SHANGHAI) == datetime(
        2026, 11, 1, tzinfo=SHANGHAI)
    assert domain.parse_datetime("2026-11-01T08:00:00 08:00", name="start_date", zone=SHANGHAI) == datetime(
        2026, 11, 1, 0, 0, tzinfo=UTC)
    assert domain.parse_datetime("2026-11-01T00:00:00Z", name="x", zone=SHANGHAI) == datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "1900-01-01", "2026-11-01T25:00"])
def test_a_bad_or_out_of_range_date_is_a_400(value):
    with pytest.raises(Open311Error) as error:
        domain.parse_datetime(value, name="start_date", zone=SHANGHAI)

    assert error.value.status == 400
    assert error.value.description.startswith("start_date")


def test_the_default_window_is_the_last_90_days_and_one_end_extends_90_days():
    start = datetime(2026, 9, 1, tzinfo=UTC)

    assert domain.date_window(None, None, now=NOW) == (NOW - timedelta(days=90), NOW)
    assert domain.date_window(start, None, now=NOW) == (start, start + timedelta(days=90))
    assert domain.date_window(None, start, now=NOW) == (start - timedelta(days=90), start)


@pytest.mark.parametrize(("days", "message"), [(91, "间隔不能超过90天"), (-1, "不能早于")])
def test_a_window_over_90_days_or_reversed_is_a_400(days, message):
    start = datetime(2026, 8, 1, tzinfo=UTC)

    with pytest.raises(Open311Error) as error:
        domain.date_window(start, start + timedelta(days=days), now=NOW)

    assert error.value.status == 400 and message in error.value.description


def test_status_filter_accepts_open_and_closed_only():
    assert domain.parse_statuses("open, closed") == ("open", "closed")
    with pytest.raises(Open311Error):
        domain.parse_statuses("pending")


def test_a_full_request_becomes_a_mediation_draft_with_the_contact_as_applicant():
    draft = _draft(description=" 排水沟被堵 ", lat="29.6012345", long="120.2412345", last_name="陈", first_name="建国",
                   phone="13805751234", **{"attribute[people_involved]": "2", "attribute[amount_involved]": "3000.5",
                                           "attribute[respondent_name]": "王志强"})

    assert (draft.channel_code, draft.request_type, draft.primary_type_code) == ("open311", "mediation", "neighbour")
    assert (draft.title, draft.description, draft.region_code) == ("关于枫桥镇王志强的邻里纠纷", "排水沟被堵", "330681109")
    assert (draft.latitude, draft.longitude) == (Decimal("29.601234"), Decimal("120.241234"))
    assert (draft.people_involved, draft.amount_involved) == (2, Decimal("3000.50"))
    assert draft.parties == (PartyDraft(role="applicant", name="陈建国", phone="13805751234"),
                             PartyDraft(role="respondent", name="王志强"))


def test_without_a_name_the_request_is_an_anonymous_report():
    draft = _draft(description="有人在河道倾倒垃圾", address_string="枫桥镇枫源村河边")

    assert (draft.request_type, draft.parties, draft.address) == (RequestType.REPORT, (), "枫桥镇枫源村河边")


def test_the_request_type_attribute_takes_the_key_or_the_chinese_name():
    assert _draft(description="x", address_string="y", **{"attribute[request_type]": "投诉"}).request_type == "complaint"
    assert _draft(description="x", address_string="y", **{"attribute[request_type]": "help"}).request_type == "help"


@pytest.mark.parametrize(("form", "message"), [
    ({"address_string": "枫桥镇"}, "description"),
    ({"description": "x"}, "请提供位置"),
    ({"description": "x", "lat": "29.6"}, "同时提供"),
    ({"description": "x", "lat": "120.24", "long": "29.6"}, "不在中国境内"),
    ({"description": "x", "lat": "abc", "long": "120.2"}, "lat 必须是数字"),
    ({"description": "x", "lat": "NaN", "long": "120.2"}, "lat 必须是数字"),
    ({"description": "x", "address_string": "y", "phone": "12345"}, "phone 格式不正确"),
    ({"description": "x", "address_string": "y", "phone": "13805751234"}, "同时提供姓名"),
    ({"description": "x", "address_string": "y", "email": "not-an-email"}, "email"),
    ({"description": "x", "address_string": "y", "attribute[people_involved]": "2.5"}, "people_involved"),
    ({"description": "x", "address_string": "y", "attribute[amount_involved]": "-1"}, "amount_involved"),
    ({"description": "x", "address_string": "y", "attribute[amount_involved]": "1.005"}, "amount_involved"),
    ({"description": "x", "address_string": "y", "attribute[occurred_on]": "2027-01-01"}, "不能晚于现在"),
    ({"description": "x", "address_string": "y", "attribute[request_type]": "petition"}, "request_type"),
    ({"description": "x", "address_string": "y", "attribute[colour]": "red"}, "未知的属性"),
    ({"description": "x", "address_string": "y" * 201}, "address_string 过长"),
])
def test_bad_input_is_a_400_naming_the_field(form, message):
    with pytest.raises(Open311Error) as error:
        _draft(**form)

    assert error.value.status == 400
    assert message in error.value.description


def test_service_keywords():
    assert domain.service_keywords("邻里纠纷") == "邻里, 纠纷, 人民调解"
