"""上报事项: a grid worker reports a matter found on patrol from the phone, with photos and the on-the-spot result."""

import pytest
from django.urls import reverse

from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseEvent
from yidi.core.models import CodeSequence
from yidi.grid.tests.helpers import FENGYUAN, PNG, disguised_photo, photo, report_form
from yidi.regions.actions import do_add_grid

pytestmark = pytest.mark.django_db


def _nothing_registered():
    return (Case.objects.count(), CaseEvent.objects.count(), CodeSequence.objects.filter(last_value__gt=0).count())


def test_a_report_with_photos_registers_one_matter_from_the_grid_located_at_the_chosen_village(client, grid_worker):
    client.force_login(grid_worker)

    response = client.post(reverse("grid_report"), {
        **report_form(), "photos": [photo(), photo("现场2.png", PNG)]})

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("grid_case", args=[case.code])
    assert (case.channel.code, case.region_id, case.status, case.request_type, case.registering_unit.code) == (
        "grid_report", FENGYUAN, "registered", "mediation", "fy-committee")
    assert (str(case.latitude), str(case.longitude), case.address) == ("29.612345", "120.312345", "枫源村3组祠堂东侧")
    assert case.title == "巡查发现枫源村3组陈某与邻居王某因排水沟堵塞争吵，积水倒灌陈家厨房。"[:30]
    assert case.visits.count() == 0  # nobody came in person: a grid report is 零跑
    assert sorted(case.attachments.values_list("original_name", "content_type")) == [
        ("现场.jpg", "image/jpeg"), ("现场2.png", "image/png")]
    assert list(case.events.order_by("seq").values_list("action", flat=True)) == [
        "register", "add_attachment", "add_attachment"]
    assert [(p.role, p.person.name) for p in case.parties.select_related("person").order_by("position")] == [
        ("applicant", "陈建国"), ("respondent", "王志强")]


def test_the_place_list_holds_the_workers_village_and_its_grids_only(client, grid_worker):
    grid = do_add_grid(FENGYUAN, "第一网格")
    client.force_login(grid_worker)

    page = client.get(reverse("grid_report")).content.decode()

    assert f'value="{FENGYUAN}"' in page and f'value="{grid.code}"' in page and "枫源村 · 第一网格" in page
    assert 'value="330681109002"' not in page  # another village of 枫桥镇
    response = client.post(reverse("grid_report"), report_form(region=grid.code))
    assert Case.objects.get().region_id == grid.code and response.status_code == 302


@pytest.mark.parametrize("region", ["330681109002", "330681001001", "330681109"])
def test_a_place_outside_the_workers_area_is_refused_and_nothing_is_registered(client, grid_worker, region):
    client.force_login(grid_worker)

    response = client.post(reverse("grid_report"), {**report_form(region=region), "photos": [photo()]})

    assert response.status_code == 400
    assert "所选地点不在您负责的区域内" in response.content.decode()
    assert _nothing_registered() == (0, 0, 0)


def test_a_disguised_photo_registers_nothing_and_keeps_what_was_typed(client, grid_worker):
    client.force_login(grid_worker)
    audit_rows = AuditEvent.objects.count()

    response = client.post(reverse("grid_report"), {
        **report_form(result="resolved", outcome="oral_agreement", agreement="王某当场清理杂物，疏通排水沟"),
        "photos": [photo(), disguised_photo()]})

    assert response.status_code == 400
    page = response.content.decode()
    assert "照片“现场2.jpg”未通过检查" in page and "文件内容不是照片" in page
    assert "照片需要重新选择" in page
    assert "枫源村3组祠堂东侧" in page and "王某当场清理杂物，疏通排水沟" in page and 'value="陈建国"' in page
    assert _nothing_registered() == (0, 0, 0)
    assert AuditEvent.objects.count() == audit_rows


def test_resolved_on_the_spot_concludes_the_matter_under_the_workers_unit_in_the_same_step(client, grid_worker):
    client.force_login(grid_worker)

    response = client.post(reverse("grid_report"), report_form(
        result="resolved", outcome="oral_agreement", agreement="王某当场清理杂物，疏通排水沟，双方握手言和"))

    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.status, case.lead_unit.code, case.outcome, case.handling_mode) == (
        "concluded", "fy-committee", "oral_agreement", "mediation")
    events = list(case.events.order_by("seq").values_list("action", "from_status", "to_status", "reason"))
    assert events[:2] == [
        ("register", "", "registered", ""),
        ("resolve_on_spot", "registered", "concluded", "王某当场清理杂物，疏通排水沟，双方握手言和"),
    ]
    assert [event[0] for event in events[2:]] == ["schedule_return_visit"]  # `yidi.evaluation` takes it from here
    assert list(case.assignments.values_list("unit__code", "role", "status")) == [("fy-committee", "lead", "signed")]


def test_not_resolved_on_the_spot_records_the_attempt_and_the_matter_waits_for_acceptance(client, grid_worker):
    client.force_login(grid_worker)

    client.post(reverse("grid_report"), report_form(result="attempted", attempt_summary="双方对赔偿金额分歧大，未达成一致"))

    case = Case.objects.get()
    assert (case.status, case.lead_unit_id) == ("registered", None)
    assert list(case.events.order_by("seq").values_list("action", "to_status", "reason")) == [
        ("register", "registered", ""),
        ("record_on_spot_attempt", "registered", "双方对赔偿金额分歧大，未达成一致"),
    ]
    assert AuditEvent.objects.filter(action="case.record_on_spot_attempt", object_id=case.code).count() == 1


def test_a_clue_without_an_applicant_is_registered_as_a_report(client, grid_worker):
    client.force_login(grid_worker)

    client.post(reverse("grid_report"), report_form(
        request_type="report", applicant_name="", applicant_phone="", respondent_name=""))

    case = Case.objects.get()
    assert (case.request_type, case.parties.count()) == ("report", 0)


def test_mediation_without_an_applicant_is_explained_and_nothing_is_registered(client, grid_worker):
    client.force_login(grid_worker)

    response = client.post(reverse("grid_report"), report_form(applicant_name="", applicant_phone=""))

    assert response.status_code == 400
    assert "纠纷调解须填写申请人；无人申请的请选“线索上报”" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_resolution_without_an_agreement_text_is_refused_and_nothing_is_registered(client, grid_worker):
    client.force_login(grid_worker)

    response = client.post(reverse("grid_report"), report_form(result="resolved", outcome="written_agreement"))

    assert response.status_code == 400
    assert "请填写当场化解的经过和协议内容" in response.content.decode()
    assert _nothing_registered() == (0, 0, 0)


def test_the_report_page_is_mobile_ready(client, grid_worker):
    client.force_login(grid_worker)

    page = client.get(reverse("grid_report")).content.decode()

    assert 'accept="image/*"' in page and 'capture="environment"' in page and "multiple" in page
    assert "获取当前位置" in page and "/static/grid/grid.js" in page and "/static/grid/grid.css" in page
    assert "<script>" not in page and "style=" not in page
