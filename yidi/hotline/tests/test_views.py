"""The import page: upload → background run → progress fragment with counts → rejects download; scope by region."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yidi.accounts.domain import Role, UnitKind
from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_unit, make_user
from yidi.cases.models import Case
from yidi.hotline.models import ImportRun
from yidi.hotline.tests.helpers import csv_bytes, ticket_row, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def _upload(client, data: bytes, name: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("hotline_import"), {"file": SimpleUploadedFile(name, data)})


def test_upload_runs_the_import_and_the_progress_shows_counts_and_the_rejects(
    client, dispatcher, django_capture_on_commit_callbacks
):
    client.force_login(dispatcher)
    data = xlsx_bytes([ticket_row(1), ticket_row(2, **{"所属区域": "城关镇"}), ticket_row(3)])

    response = _upload(client, data, "六月工单.xlsx", django_capture_on_commit_callbacks)

    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("hotline_import_run", args=[run.pk])
    assert (run.status, run.imported, run.rejected, Case.objects.count()) == ("finished", 2, 1, 2)
    page = client.get(response["Location"]).content.decode()
    assert "已完成" in page and "<dt>已导入</dt><dd>2</dd>" in page and "<dt>未导入</dt><dd>1</dd>" in page
    fragment = client.get(reverse("hotline_import_progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' not in fragment  # finished: the fragment stops polling
    download = client.get(reverse("hotline_import_rejects", args=[run.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "text/csv; charset=utf-8"
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("ZJ12345-20260610-0002,2026-06-10 09:15,王**,139****0002,投诉,")
    assert lines[1].endswith(",3,未知的乡镇（街道）“城关镇”：不在诸暨市辖区内")
    assert AuditEvent.objects.filter(action="hotline.download_rejects", actor_id=dispatcher.pk).count() == 1
    listing = client.get(reverse("hotline_import")).content.decode()
    assert "六月工单.xlsx" in listing and "2 / 0 / 1" in listing


def test_a_queued_run_polls_every_two_seconds(client, dispatcher):
    client.force_login(dispatcher)
    # the task is queued after the commit, which the test's own transaction never reaches: the run stays queued
    response = client.post(reverse("hotline_import"), {"file": SimpleUploadedFile("a.csv", csv_bytes([ticket_row(1)]))})
    run = ImportRun.objects.get()

    fragment = client.get(reverse("hotline_import_progress", args=[run.pk])).content.decode()

    assert response.status_code == 302 and run.status == "queued"
    assert f'hx-get="{reverse("hotline_import_progress", args=[run.pk])}" hx-trigger="every 2s"' in fragment


@pytest.mark.parametrize(("name", "data", "message"), [
    ("缺列.csv", csv_bytes([["X-1"]], header=["工单编号"]), "缺少必需的列"),
    ("照片.png", b"\x89PNG\r\n\x1a\n", "仅接受 .xlsx、.csv"),
    ("大.csv", b"x" * 2048, "文件过大：上限为 0 MB"),
])
def test_a_bad_upload_is_refused_on_the_form_and_starts_nothing(client, dispatcher, settings, name, data, message):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client.force_login(dispatcher)

    response = client.post(reverse("hotline_import"), {"file": SimpleUploadedFile(name, data)})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_registrar_of_another_township_gets_404_on_a_run(client, django_capture_on_commit_callbacks):
    fengqiao = make_unit("fq-centre-3", kind=UnitKind.TOWNSHIP_CENTRE, region_code="330681109", name="枫桥镇矛调中心三")
    jiyang = make_unit("jy-centre-3", kind=UnitKind.TOWNSHIP_CENTRE, region_code="330681001", name="暨阳街道矛调中心三")
    fq_clerk = make_user("fq-clerk-3", Role.REGISTRAR, unit=fengqiao)
    jy_clerk = make_user("jy-clerk-3", Role.REGISTRAR, unit=jiyang)
    client.force_login(fq_clerk)
    _upload(client, csv_bytes([ticket_row(1), ticket_row(2, **{"工单编号": ""})]), "a.csv",
            django_capture_on_commit_callbacks)
    run = ImportRun.objects.get()
    client.force_login(jy_clerk)

    for name in ("hotline_import_run", "hotline_import_progress", "hotline_import_rejects"):
        assert client.get(reverse(name, args=[run.pk])).status_code == 404
    assert "a.csv" not in client.get(reverse("hotline_import")).content.decode()
    assert AuditEvent.objects.filter(action="hotline.download_rejects").count() == 0


def test_people_who_may_not_import_get_404(client, handler):
    client.force_login(handler)

    assert client.get(reverse("hotline_import")).status_code == 404
