"""Bulk export of personal data: masked at once, or in full after a second person's approval, for a limited
time and a limited number of downloads; everything audited; requests invisible outside their region."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case
from yidi.privacy.models import ExportRequest

REASON = "向市人民法院移送诉前调解案件当事人联系方式"
FULL_VALUES = ["陈建国", "330681198003150017", "13805751234", "诸暨市枫桥镇枫源村3组18号"]


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def privacy_rows(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def request_export(client, user, *, query="", reason=REASON):
    client.force_login(user)
    return client.post(f"{reverse('privacy_export_new')}{query}", {"reason": reason})


@pytest.fixture
def two_cases(registrar):
    return [make_case(registrar), make_case(registrar, title="陈建国与王志强因宅基地界址发生争执",
                                            primary_type_code="housing_homestead")]


@pytest.fixture
def approved(client, two_cases, dispatcher, second_dispatcher):
    """A full export requested by the dispatcher and approved by a second dispatcher."""
    request_export(client, dispatcher)
    export = ExportRequest.objects.get()
    client.force_login(second_dispatcher)
    assert client.post(reverse("privacy_export_approve", args=[export.pk]), {"reason": "同意"}).status_code == 302
    return ExportRequest.objects.get()


def test_a_masked_export_needs_no_approval_and_masks_every_value(client, two_cases, supervisor):
    client.force_login(supervisor)

    response = client.get(reverse("privacy_export_masked"), {"grade": "blue"})

    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0][0].startswith("脱敏导出（不含完整个人信息）。导出人：周督查（supervisor，诸暨市社会矛盾纠纷调处化解中心）")
    assert rows[1] == ["事项编码", "事项标题", "登记日期", "状态", "当事人角色", "类型", "姓名/名称", "证件号码", "联系电话", "住址"]
    assert [row[1] for row in rows[2:]] == ["枫源村两户因排水沟堵塞发生争执"] * 2 + ["陈**与王**因宅基地界址发生争执"] * 2
    assert [row[4:] for row in rows[2:4]] == [
        ["申请人", "自然人", "陈**", "330***********0017", "138****1234", "诸暨市枫桥镇***"],
        ["被申请人", "自然人", "王**", "", "139****9876", "诸暨市枫桥镇***"],
    ]
    assert len(rows) == 6
    assert not any(value in response.content.decode() for value in FULL_VALUES)
    [row] = privacy_rows("privacy.export_masked")
    assert (row.actor_username, row.outcome, row.fields, row.data) == (
        "supervisor", "success", ["name", "id_number", "phone", "address"],
        {"filters": "风险等级：蓝", "cases": 2, "parties": 4, "masked": True})


def test_a_full_export_is_requested_with_a_reason_and_freezes_the_matters(client, two_cases, dispatcher):
    response = request_export(client, dispatcher, query="?primary_type=neighbour")

    export = ExportRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("privacy_export_detail", args=[export.pk])
    assert (export.status, export.case_ids, export.case_count, export.party_count, export.reason) == (
        "pending", [two_cases[0].pk], 1, 2, REASON)
    assert (export.filter_summary, export.filters, export.region_id, export.requester_unit.code) == (
        "纠纷类型：邻里纠纷", {"primary_type": "neighbour"}, "330681", "command")
    [row] = privacy_rows("privacy.export_request")
    assert (row.object_type, row.object_id, row.outcome, row.reason, row.data) == (
        "export_request", str(export.pk), "success", REASON,
        {"filters": "纠纷类型：邻里纠纷", "cases": 1, "parties": 2})


def test_a_request_without_a_reason_is_refused_in_chinese_and_saves_nothing(client, two_cases, dispatcher):
    response = request_export(client, dispatcher, reason="导出")

    assert response.status_code == 400
    assert "请填写导出理由（至少 4 个字），说明为何需要完整信息" in response.content.decode()
    assert ExportRequest.objects.count() == 0
    assert [(row.outcome, row.data["denial"]) for row in privacy_rows("privacy.export_request")] == [
        ("denied", "reason")]


@pytest.mark.parametrize("persona", ["supervisor", "grid_worker"])
def test_roles_that_never_reveal_cannot_request_a_full_export(request, client, two_cases, persona):
    response = request_export(client, request.getfixturevalue(persona))

    assert response.status_code == 404
    assert ExportRequest.objects.count() == 0
    assert [row.data["denial"] for row in privacy_rows("privacy.export_request")] == ["role"]


def test_the_requester_cannot_approve_their_own_request(client, two_cases, dispatcher):
    request_export(client, dispatcher)
    export = ExportRequest.objects.get()

    response = client.post(reverse("privacy_export_approve", args=[export.pk]), {"reason": "同意"})

    assert response.status_code == 403
    assert "申请人不能审批本人提出的导出申请" in response.content.decode()
    assert ExportRequest.objects.get().status == "pending"
    assert [(row.outcome, row.data["denial"]) for row in privacy_rows("privacy.export_approve")] == [
        ("denied", "self_approval")]
    assert client.post(reverse("privacy_export_download", args=[export.pk])).status_code == 403


def test_the_database_also_refuses_a_self_decided_request(client, two_cases, dispatcher):
    request_export(client, dispatcher)

    with pytest.raises(IntegrityError), transaction.atomic():
        ExportRequest.objects.update(decided_by=dispatcher, status="approved")


def test_after_approval_the_requester_downloads_the_full_values_with_a_watermark(client, approved, dispatcher):
    client.force_login(dispatcher)

    response = client.post(reverse("privacy_export_download", args=[approved.pk]))

    rows = read_csv(response)
    assert rows[0][0].startswith(
        "本表含完整个人信息，仅限申请用途使用，不得外传。导出人：赵调度（dispatcher，指挥调度室）；审批人：冯调度（dispatcher2，指挥调度室）；"
        f"申请编号：{approved.pk}；")
    assert rows[0][0].endswith("第 1/3 次下载")
    assert rows[2][6:] == FULL_VALUES
    assert len(rows) == 6
    export = ExportRequest.objects.get()
    assert (export.download_count, export.last_downloaded_at is not None) == (1, True)
    [row] = privacy_rows("privacy.export_download")
    assert (row.actor_username, row.outcome, row.reason, row.data) == (
        "dispatcher", "success", REASON,
        {"cases": 2, "parties": 4, "left_out": 0, "download": 1, "max_downloads": 3})


def test_the_approval_sets_the_expiry_and_the_download_limit_and_is_audited(approved, second_dispatcher):
    assert (approved.status, approved.decided_by, approved.decision_reason, approved.max_downloads) == (
        "approved", second_dispatcher, "同意", 3)
    assert approved.expires_at == approved.decided_at + timedelta(hours=24)
    [row] = privacy_rows("privacy.export_approve")
    assert (row.actor_username, row.outcome, row.reason, row.data) == (
        "dispatcher2", "success", "同意",
        {"requester": "dispatcher", "cases": 2, "expires_at": approved.expires_at.isoformat(), "max_downloads": 3})


def test_downloads_stop_at_the_limit(client, approved, dispatcher):
    client.force_login(dispatcher)
    url = reverse("privacy_export_download", args=[approved.pk])
    assert [client.post(url).status_code for _ in range(3)] == [200, 200, 200]

    response = client.post(url)

    assert response.status_code == 410
    assert "下载次数已用完，请重新申请" in response.content.decode()
    assert ExportRequest.objects.get().download_count == 3
    assert [row.outcome for row in privacy_rows("privacy.export_download")] == ["success"] * 3 + ["denied"]


def test_an_approved_export_expires_after_24_hours(client, approved, dispatcher):
    with time_machine.travel(approved.decided_at + timedelta(hours=24, minutes=1)):
        client.force_login(dispatcher)  # a new session: the old one timed out meanwhile
        response = client.post(reverse("privacy_export_download", args=[approved.pk]))
        page = client.get(reverse("privacy_export_list")).content.decode()

    assert response.status_code == 410
    assert "导出已过期，请重新申请" in response.content.decode()
    assert "13805751234" not in response.content.decode()
    assert ExportRequest.objects.get().download_count == 0
    assert "已过期" in page
    assert privacy_rows("privacy.export_download")[0].data["denial"] == "expired"


def test_the_validity_is_configurable(client, two_cases, dispatcher, second_dispatcher, settings):
    settings.PRIVACY_EXPORT_VALID_HOURS = 2
    settings.PRIVACY_EXPORT_MAX_DOWNLOADS = 1
    request_export(client, dispatcher)
    client.force_login(second_dispatcher)
    client.post(reverse("privacy_export_approve", args=[ExportRequest.objects.get().pk]))

    export = ExportRequest.objects.get()
    assert (export.expires_at - export.decided_at, export.max_downloads) == (timedelta(hours=2), 1)


def test_the_approver_never_gets_the_data(client, approved, second_dispatcher):
    client.force_login(second_dispatcher)

    response = client.post(reverse("privacy_export_download", args=[approved.pk]))

    assert response.status_code == 404
    assert ExportRequest.objects.get().download_count == 0


def test_a_refusal_needs_a_reason_and_then_nothing_can_be_downloaded(client, two_cases, dispatcher, leader):
    request_export(client, dispatcher)
    export = ExportRequest.objects.get()
    client.force_login(leader)

    without_reason = client.post(reverse("privacy_export_refuse", args=[export.pk]), {"reason": ""})
    refused = client.post(reverse("privacy_export_refuse", args=[export.pk]), {"reason": "范围过大，请按乡镇分别申请"})
    again = client.post(reverse("privacy_export_approve", args=[export.pk]))

    assert without_reason.status_code == 400
    assert "请填写不予批准的理由（至少 4 个字），申请人将看到此理由" in without_reason.content.decode()
    assert refused.status_code == 302
    assert again.status_code == 409 and "该申请已经审批过" in again.content.decode()
    export.refresh_from_db()
    assert (export.status, export.decided_by, export.decision_reason, export.expires_at) == (
        "refused", leader, "范围过大，请按乡镇分别申请", None)
    client.force_login(dispatcher)
    assert client.post(reverse("privacy_export_download", args=[export.pk])).status_code == 403


def test_a_handler_exports_only_the_matters_their_unit_is_assigned_to(client, assigned_case, registrar, handler):
    make_case(registrar)  # same township, not assigned to the handler's unit

    request_export(client, handler)

    export = ExportRequest.objects.get()
    assert (export.case_ids, export.region_id) == ([assigned_case.pk], "330681109")


def test_a_matter_no_longer_assigned_is_left_out_of_the_download(client, assigned_case, handler, township_dispatcher):
    request_export(client, handler)
    export = ExportRequest.objects.get()
    client.force_login(township_dispatcher)
    assert client.post(reverse("privacy_export_approve", args=[export.pk])).status_code == 302
    case_actions.do_return_case(assigned_case.code, actor=handler, reason="不属于本平台职责，请重新交办")

    client.force_login(handler)
    rows = read_csv(client.post(reverse("privacy_export_download", args=[export.pk])))

    assert rows[2:] == []
    assert privacy_rows("privacy.export_download")[0].data["left_out"] == 1


def test_export_requests_are_not_found_from_another_township(
    client, assigned_case, handler, outsider, other_township_dispatcher
):
    request_export(client, handler)  # 枫桥镇
    export = ExportRequest.objects.get()
    urls = [reverse(name, args=[export.pk]) for name in (
        "privacy_export_approve", "privacy_export_refuse", "privacy_export_download")]

    for user in (outsider, other_township_dispatcher):
        client.force_login(user)
        assert client.get(reverse("privacy_export_detail", args=[export.pk])).status_code == 404
        assert [client.post(url, {"reason": "同意导出当事人信息"}).status_code for url in urls] == [404, 404, 404]
        assert f"#{export.pk}" not in client.get(reverse("privacy_export_list")).content.decode()
    client.force_login(other_township_dispatcher)
    assert f"#{export.pk}" not in client.get(reverse("privacy_export_approvals")).content.decode()
    assert ExportRequest.objects.get().status == "pending"
    denied = AuditEvent.objects.filter(object_type="export_request", outcome="denied")
    assert sorted(denied.values_list("data__denial", flat=True)) == ["not_found"] * 6


def test_an_approver_who_cannot_read_every_matter_of_the_request_is_refused(
    client, assigned_case, registrar, handler, township_dispatcher
):
    request_export(client, handler)
    elsewhere = make_case(registrar, region_code="330681001001")  # 暨阳街道
    ExportRequest.objects.update(case_ids=[assigned_case.pk, elsewhere.pk])  # as if scope had changed meanwhile
    export = ExportRequest.objects.get()
    client.force_login(township_dispatcher)

    response = client.post(reverse("privacy_export_approve", args=[export.pk]))

    assert response.status_code == 403
    assert "该申请包含您无权查看的事项" in response.content.decode()
    assert ExportRequest.objects.get().status == "pending"


def test_a_township_dispatcher_sees_and_approves_requests_of_their_township(
    client, assigned_case, handler, township_dispatcher
):
    request_export(client, handler)
    export = ExportRequest.objects.get()
    client.force_login(township_dispatcher)

    listing = client.get(reverse("privacy_export_approvals")).content.decode()
    response = client.post(reverse("privacy_export_approve", args=[export.pk]))

    assert f"#{export.pk}" in listing and "钱承办" in listing
    assert response.status_code == 302
    assert ExportRequest.objects.get().status == "approved"


def test_the_request_pages_show_each_step_in_chinese(client, two_cases, dispatcher, second_dispatcher):
    client.force_login(dispatcher)
    new = client.get(reverse("privacy_export_new"), {"grade": "blue"}).content.decode()
    assert "符合条件</dt><dd>2 件事项" in new and "下载脱敏表格（2 件事项）" in new
    request_export(client, dispatcher, query="?grade=blue")
    export = ExportRequest.objects.get()
    mine = client.get(reverse("privacy_export_list")).content.decode()
    assert f"#{export.pk}" in mine and "待审批" in mine
    detail = client.get(reverse("privacy_export_detail", args=[export.pk])).content.decode()
    assert "等待本辖区其他调度员、领导或督查员审批" in detail and "批准导出" not in detail

    client.force_login(second_dispatcher)
    detail = client.get(reverse("privacy_export_detail", args=[export.pk])).content.decode()
    assert "批准导出" in detail and "不予批准" in detail and REASON in detail and "下载完整信息" not in detail


def test_the_export_lists_take_a_fixed_number_of_queries(
    client, two_cases, dispatcher, second_dispatcher, leader, django_assert_num_queries
):
    for _ in range(3):
        request_export(client, dispatcher)
    client.force_login(second_dispatcher)
    client.get(reverse("privacy_export_approvals"))  # warm the session and the user's roles

    with django_assert_num_queries(9):  # session ×3, user, roles, unit, count, page
        assert client.get(reverse("privacy_export_approvals")).status_code == 200
    client.force_login(dispatcher)
    client.get(reverse("privacy_export_list"))
    with django_assert_num_queries(10):  # session ×3, user, roles, count, page, unit, pending count
        assert client.get(reverse("privacy_export_list")).status_code == 200


def test_only_approvers_open_the_approvals_page_and_only_case_readers_the_export_pages(
    client, registrar, admin, auditor
):
    client.force_login(registrar)
    assert client.get(reverse("privacy_export_approvals")).status_code == 404
    assert client.get(reverse("privacy_export_list")).status_code == 200
    for user in (admin, auditor):
        client.force_login(user)
        assert [client.get(reverse(name)).status_code for name in (
            "privacy_export_list", "privacy_export_new", "privacy_export_masked", "privacy_export_approvals")] == [
            404, 404, 404, 404]


def test_too_many_matters_are_refused_with_a_hint_to_narrow_the_filter(client, two_cases, dispatcher, settings):
    settings.PRIVACY_EXPORT_MAX_CASES = 1

    response = request_export(client, dispatcher)

    assert response.status_code == 400
    assert "符合条件的事项超过 1 件，请缩小筛选范围后再导出" in response.content.decode()
    assert ExportRequest.objects.count() == 0
