from datetime import date

import pytest

from yidi.core import worktime
from yidi.core.models import DeadlinePolicyRecord, WorkCalendarDay


@pytest.mark.django_db
def test_the_seeded_calendar_covers_2020_to_2026_and_warns_about_2027():
    assert sorted(worktime.calendar().covered_years) == list(range(2020, 2027))
    assert worktime.coverage_warning(date(2026, 11, 28)) == "工作日历缺少 2027 年的节假日与调休数据，已按仅周末休息计算，请管理员补录。"


@pytest.mark.django_db
def test_a_calendar_change_made_elsewhere_is_seen_once_the_recheck_time_has_passed(monkeypatch):
    assert worktime.calendar().is_workday(date(2026, 3, 2))
    WorkCalendarDay.objects.create(day=date(2026, 3, 2), kind="holiday", name="测试停工")
    assert worktime.calendar().is_workday(date(2026, 3, 2))  # still the cached copy
    monkeypatch.setattr(worktime, "RECHECK_SECONDS", 0)
    assert not worktime.calendar().is_workday(date(2026, 3, 2))


@pytest.mark.django_db
def test_an_admin_edit_of_the_calendar_is_seen_at_once(admin, client):
    assert worktime.calendar().is_workday(date(2026, 3, 2))
    client.force_login(admin)
    response = client.post("/admin/core/workcalendarday/add/", {
        "day": "2026-03-02", "kind": "holiday", "name": "测试停工", "source": "", "unit_code": ""})
    assert response.status_code == 302
    assert not worktime.calendar().is_workday(date(2026, 3, 2))


@pytest.mark.django_db
def test_a_unit_calendar_layers_its_own_days_on_the_national_one():
    WorkCalendarDay.objects.create(day=date(2026, 3, 7), kind="workday", name="集中攻坚日", unit_code="fq-platform")
    worktime.clear_cache()
    assert worktime.calendar("fq-platform").is_workday(date(2026, 3, 7))
    assert not worktime.calendar().is_workday(date(2026, 3, 7))


@pytest.mark.django_db
def test_the_seeded_policies_and_ladder_load():
    assert {p.id for p in worktime.policies()} >= {"general_default", "people_mediation", "labour_mediation"}
    assert len(worktime.escalation_rules()) == 8  # with the two warnings on the parties’ periods (mediation)


@pytest.mark.django_db
def test_the_policy_admin_refuses_a_malformed_stage_list(admin, client):
    client.force_login(admin)
    response = client.post("/admin/core/deadlinepolicyrecord/add/", {
        "code": "broken", "name": "坏规则", "stages": '[{"stage": "handle"}]', "basis": "", "is_active": "on",
    })
    assert response.status_code == 200 and "时限规则有误" in response.content.decode()
    assert not DeadlinePolicyRecord.objects.filter(code="broken").exists()


@pytest.mark.django_db
def test_dispatchers_see_the_missing_year_on_their_workbench(client, dispatcher, settings):
    client.force_login(dispatcher)
    import time_machine

    with time_machine.travel("2026-11-28 09:00 +0800"):
        page = client.get("/").content.decode()
    assert "工作日历缺少 2027 年" in page
