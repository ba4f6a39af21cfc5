"""Submitting a matter through the portal: verified phone → one guided form → one registered matter."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from yidi.audit.models import AuditEvent
from yidi.cases.models import Attachment, Case, CaseEvent
from yidi.core.personal import lookup_hash
from yidi.portal.models import PortalSubmission, TrackingLink
from yidi.portal.tests.conftest import FENGYUAN, PDF, PHONE, PNG, submission_data, verify_phone

pytestmark = pytest.mark.django_db


def test_a_verified_phone_submits_a_matter_that_is_registered_online(client, sms, django_capture_on_commit_callbacks):
    verify_phone(client, sms)
    files = [SimpleUploadedFile("现场.png", PNG, "image/png"), SimpleUploadedFile("收据.pdf", PDF, "application/pdf")]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/submit/", {**submission_data(), "files": files})

    assert response.status_code == 302 and response["Location"] == "/p/submit/done/"
    case = Case.objects.get()
    assert (case.channel.code, case.region_id, case.request_type, case.title) == (
        "online", FENGYUAN, "mediation", "关于枫源村王志强的纠纷")
    assert case.registered_by.username == "portal-service"
    applicant = case.parties.get(role="applicant").person
    respondent = case.parties.get(role="respondent").person
    assert (applicant.name, applicant.phone, respondent.name, respondent.phone) == ("陈建国", PHONE, "王志强", "")
    assert "【诉求】希望对方拆除杂物间" in case.description and "【希望的调解方式】线上调解" in case.description
    assert sorted(Attachment.objects.filter(case=case).values_list("content_type", flat=True)) == [
        "application/pdf", "image/png"]
    submission = PortalSubmission.objects.get()
    assert (submission.case, submission.nonce, submission.mediation_mode, submission.phone_hash) == (
        case, "nonce-0001", "online", lookup_hash(PHONE, purpose="phone"))
    assert TrackingLink.objects.filter(case=case).count() == 1
    assert [e.action for e in CaseEvent.objects.filter(case=case)] == ["register", "add_attachment", "add_attachment"]

    done = client.get("/p/submit/done/")
    body = done.content.decode()
    assert case.code in body and "/p/t/" in body and "1个工作日内" in body
    texts = [m.text for m in sms if m.destination == PHONE]
    assert any(case.code in text and "/p/t/" in text for text in texts)


def test_the_triage_grade_is_applied_but_never_shown_to_the_person(client, sms):
    verify_phone(client, sms)
    client.post("/p/submit/", submission_data(description="工资被拖欠三个月，30多名工人要去拉横幅堵路讨薪"))
    case = Case.objects.get()
    assert case.grade  # the triage suggestion was used internally

    body = client.get("/p/submit/done/").content.decode() + client.get(f"/p/c/{case.code}/").content.decode()
    for word in ("风险等级", "红", "橙", "grade", "triage", "研判"):
        assert word not in body, word


def test_a_double_post_returns_the_same_matter(client, sms):
    verify_phone(client, sms)
    first = client.post("/p/submit/", submission_data())
    second = client.post("/p/submit/", submission_data())

    assert first.status_code == second.status_code == 302
    assert Case.objects.count() == 1 and PortalSubmission.objects.count() == 1
    assert Case.objects.get().code in client.get("/p/submit/done/").content.decode()


def test_an_invalid_form_comes_back_with_every_input_kept_and_a_message_per_field(client, sms):
    verify_phone(client, sms)
    data = submission_data(id_number="330681198003150018", other_phone="12345", description="")

    response = client.post("/p/submit/", {**data, "files": [SimpleUploadedFile("a.png", PNG, "image/png")]})

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["id_number"] == ["身份证号码不正确，请核对18位号码（最后一位可能是X）"]
    assert "对方电话格式不正确" in form.errors["other_phone"][0]
    assert form.errors["description"] == ["这个字段是必填项。"] or form.errors["description"]
    body = response.content.decode()
    assert 'value="王志强"' in body and 'value="330681198003150018"' in body and "希望对方拆除杂物间" in body
    assert "请在下方重新选择" in body
    assert Case.objects.count() == 0


def test_a_village_outside_the_township_is_refused(client, sms):
    verify_phone(client, sms)
    response = client.post("/p/submit/", submission_data(township="330681001"))
    assert response.status_code == 400
    assert response.context["form"].errors["village"] == ["所选村（社区）不属于所选乡镇（街道），请重新选择"]


def test_a_disguised_file_is_refused_and_nothing_is_registered(client, sms):
    verify_phone(client, sms)
    audit_rows = AuditEvent.objects.filter(action="case.register").count()
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 this is a program", "image/jpeg")

    response = client.post("/p/submit/", {**submission_data(), "files": [fake]})

    assert response.status_code == 400
    assert "“照片.jpg”：不支持的文件类型（按文件内容识别），仅接受 JPG、PNG 照片和 PDF 文件" in response.context[
        "form"].errors["files"][0]
    assert (Case.objects.count(), Attachment.objects.count(), PortalSubmission.objects.count()) == (0, 0, 0)
    assert AuditEvent.objects.filter(action="case.register").count() == audit_rows


def test_a_word_file_is_refused_on_the_portal(client, sms):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    verify_phone(client, sms)
    response = client.post("/p/submit/", {**submission_data(), "files": [
        SimpleUploadedFile("a.docx", buffer.getvalue())]})
    assert response.status_code == 400 and Case.objects.count() == 0


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_an_oversized_file_is_refused_and_nothing_is_registered(client, sms):
    verify_phone(client, sms)
    big = SimpleUploadedFile("大图.png", PNG + b"\x00" * 2048, "image/png")

    response = client.post("/p/submit/", {**submission_data(), "files": [big]})

    assert response.status_code == 400
    assert "文件过大" in response.context["form"].errors["files"][0]
    assert (Case.objects.count(), Attachment.objects.count()) == (0, 0)


def test_more_than_five_files_are_refused(client, sms):
    verify_phone(client, sms)
    files = [SimpleUploadedFile(f"{n}.png", PNG, "image/png") for n in range(6)]
    response = client.post("/p/submit/", {**submission_data(), "files": files})
    assert response.status_code == 400 and response.context["form"].errors["files"] == ["最多上传 5 个文件"]
    assert Case.objects.count() == 0


def test_without_a_verified_phone_the_form_is_not_accepted(client):
    response = client.post("/p/submit/", submission_data())
    assert response.status_code == 200 and "验证手机号" in response.content.decode()
    assert Case.objects.count() == 0


def test_the_landing_page_offers_both_ways(client):
    body = client.get("/p/").content.decode()
    assert "一地都不用跑" in body and "我要反映" in body and "查询进度" in body
