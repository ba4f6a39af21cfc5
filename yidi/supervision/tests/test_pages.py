"""Alert pages, region scoping, the command view and its tasks and instructions, and the API."""

from datetime import timedelta

import pytest
from django.urls import reverse

from yidi.accounts.actions import do_create_api_client
from yidi.cases.models import CaseEvent
from yidi.core import clock
from yidi.supervision import actions
from yidi.supervision.domain import AlertRuleViolation, Severity
from yidi.supervision.models import CommandInstruction, CommandTask

from .conftest import raise_alert

pytestmark = pytest.mark.django_db


def test_a_township_sees_only_its_own_alerts_and_the_centre_sees_all(client, registrar, handler, outsider,
                                                                        supervisor):
    fengqiao, _ = raise_alert(registrar, people=5, fingerprint="a")
    jiyang, _ = raise_alert(registrar, region="330681001001", people=5, fingerprint="b")

    client.force_login(handler)
    page = client.get(reverse("alert_list"))
    assert [a.pk for a in page.context["page_obj"].object_list] == [fengqiao.pk]
    assert client.get(reverse("alert_detail", args=[jiyang.pk])).status_code == 404

    client.force_login(outsider)
    assert [a.pk for a in client.get(reverse("alert_list")).context["page_obj"].object_list] == [jiyang.pk]

    client.force_login(supervisor)
    page = client.get(reverse("alert_list"))
    assert {a.pk for a in page.context["page_obj"].object_list} == {fengqiao.pk, jiyang.pk}
    assert [(row["status"], row["count"]) for row in page.context["status_counts"]] == [
        ("new", 2), ("assessed", 0), ("handled", 0), ("closed", 0)]
    filtered = client.get(reverse("alert_list"), {"region": "330681001"})
    assert [a.pk for a in filtered.context["page_obj"].object_list] == [jiyang.pk]


def test_the_alert_page_lists_its_matters_and_offers_the_allowed_steps(client, alert, dispatcher):
    client.force_login(dispatcher)

    page = client.get(reverse("alert_detail", args=[alert.pk]))

    assert page.status_code == 200
    assert len(page.context["cases"]) == 5 and page.context["hidden_count"] == 0
    assert [s["action"] for s in page.context["steps"]] == ["assess"]
    body = page.content.decode()
    assert "测试理由" in body and reverse("case_detail", args=[page.context["cases"][0].code]) in body
    assert "13805750000" not in body  # parties never appear unmasked


def test_a_step_posted_without_its_note_shows_the_reason_and_changes_nothing(client, alert, dispatcher):
    client.force_login(dispatcher)

    response = client.post(reverse("alert_step", args=[alert.pk, "assess"]), {"note": "", "severity": "red"})

    assert response.status_code == 400
    assert "研判意见" in response.context["error"]
    alert.refresh_from_db()
    assert (alert.status, alert.severity, alert.version) == ("new", "yellow", 1)


def test_a_step_posted_by_a_handler_outside_the_owner_unit_is_refused(client, alert, handler):
    client.force_login(handler)

    response = client.post(reverse("alert_step", args=[alert.pk, "assess"]), {"note": "研判"})

    assert response.status_code == 400
    assert "只有本区域" in response.context["error"]
    alert.refresh_from_db()
    assert alert.status == "new"


def test_the_command_view_gathers_matters_units_tasks_instructions_and_one_timeline(client, alert, leader,
                                                                                      labour_handler):
    due = clock.now() + timedelta(days=2)
    task = actions.do_assign_command_task(alert.pk, actor=leader, unit_code="hrss", action="约谈企业负责人，核实欠薪名单",
                                          due_at=due)
    code = alert.alert_cases.order_by("id").first().case.code
    actions.do_record_command_instruction(alert.pk, actor=leader, text="务必春节前结清工资", case_codes=[code])
    client.force_login(leader)

    page = client.get(reverse("command_view", args=[alert.pk]))

    assert page.status_code == 200
    assert len(page.context["cases"]) == 5
    assert [row["task"].pk for row in page.context["tasks"]] == [task.pk]
    assert page.context["open_tasks"] == 1 and page.context["overdue_tasks"] == 0
    assert [row["unit"].code for row in page.context["units"]] == ["hrss"]
    assert [i.text for i in page.context["instructions"]] == ["务必春节前结清工资"]
    labels = [item.label for item in page.context["timeline"]]
    assert labels[:2] == ["预警 · 领导批示", f"{code} · 领导批示"] or labels[:2] == [f"{code} · 领导批示", "预警 · 领导批示"]
    assert "预警 · 下达指挥任务" in labels and "预警 · 发现预警" in labels
    assert CaseEvent.objects.filter(case__code=code, action="record_leader_instruction",
                                    reason="务必春节前结清工资").count() == 1

    # the unit sees its task, reports it done
    client.force_login(labour_handler)
    tasks = client.get(reverse("command_tasks"))
    assert [row["task"].pk for row in tasks.context["rows"]] == [task.pk]
    client.post(reverse("command_task_complete", args=[task.pk]), {"result": "企业承诺1月20日前支付"})
    task.refresh_from_db()
    assert (task.status, task.result, task.done_by_id) == ("done", "企业承诺1月20日前支付", labour_handler.pk)
    assert list(alert.events.order_by("seq").values_list("action", flat=True)) == [
        "raise", "assign_task", "record_instruction", "complete_task"]


def test_command_steps_are_refused_to_others_and_change_nothing(alert, handler, supervisor, dispatcher):
    with pytest.raises(Exception, match="只有本区域的指挥调度员或领导"):
        actions.do_assign_command_task(alert.pk, actor=supervisor, unit_code="hrss", action="x",
                                       due_at=clock.now() + timedelta(days=1))
    with pytest.raises(Exception, match="只有本区域的领导"):
        actions.do_record_command_instruction(alert.pk, actor=dispatcher, text="批示")
    with pytest.raises(AlertRuleViolation, match="完成期限须晚于当前时间"):
        actions.do_assign_command_task(alert.pk, actor=dispatcher, unit_code="hrss", action="x",
                                       due_at=clock.now() - timedelta(hours=1))
    task = actions.do_assign_command_task(alert.pk, actor=dispatcher, unit_code="hrss", action="核实",
                                          due_at=clock.now() + timedelta(days=1))
    with pytest.raises(Exception, match="只有承办单位"):
        actions.do_complete_command_task(task.pk, actor=handler, result="完成")
    assert (CommandTask.objects.get().status, CommandInstruction.objects.count()) == ("open", 0)
    assert alert.events.count() == 2


def test_the_command_view_is_only_for_red_alerts_and_group_incidents(client, registrar, supervisor):
    from yidi.supervision.domain import AlertKind

    spike, _ = raise_alert(registrar, kind=AlertKind.SPIKE, severity=Severity.ORANGE, fingerprint="spike:x")
    client.force_login(supervisor)

    assert client.get(reverse("command_view", args=[spike.pk])).status_code == 404


def test_the_api_lists_and_shows_the_clients_alerts(client, registrar):
    fengqiao, _ = raise_alert(registrar, fingerprint="a")
    jiyang, _ = raise_alert(registrar, region="330681001001", fingerprint="b")
    _, token = do_create_api_client(name="fq-system", unit_code="fq-platform", scopes=["alerts:read"])
    _, no_scope = do_create_api_client(name="fq-cases", unit_code="fq-platform", scopes=["cases:read"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    listing = client.get("/api/v1/supervision/alerts", **auth).json()
    detail = client.get(f"/api/v1/supervision/alerts/{fengqiao.pk}", **auth).json()
    hidden = client.get(f"/api/v1/supervision/alerts/{jiyang.pk}", **auth)
    refused = client.get("/api/v1/supervision/alerts", HTTP_AUTHORIZATION=f"Bearer {no_scope}")

    assert (listing["count"], [a["id"] for a in listing["results"]]) == (1, [fengqiao.pk])
    assert listing["results"][0]["case_count"] == 5
    assert (detail["status"], detail["severity_label"], len(detail["case_codes"])) == ("new", "黄", 5)
    assert [e["action"] for e in detail["events"]] == ["raise"]
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden_scope")
