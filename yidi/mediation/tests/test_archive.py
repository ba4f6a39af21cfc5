"""卷宗: the catalogue in the published order with required items checked, the refusal naming what is missing (or
a waiver with a reason), one PDF (cover, catalogue, documents, 封底) and a zip of originals, the retention period
by type; the export is audited."""

import io
import zipfile

import pytest
from pypdf import PdfReader

from yidi.audit.models import AuditEvent
from yidi.cases.actions import do_close_case
from yidi.cases.models import Case, CaseEvent
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.core.models import TaxonomyLabel
from yidi.mediation import actions, archive
from yidi.mediation.builders import advance_mediation
from yidi.mediation.domain import CATALOGUE, MediationStatus
from yidi.mediation.models import ArchiveRetention, CaseArchive
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot
from yidi.mediation.tests.test_documents_generate import with_respondent_id
from yidi.security.leaks import allow_personal_data

DOCUMENTS = ("application", "acceptance_register", "rights_notice", "session_record-1", "agreement")


@pytest.fixture
def closed(registrar, dispatcher, mediator, wu):
    case = with_respondent_id(registrar, dispatcher, mediator)
    with clock.at(at(2026, 5, 6, 10, 0)):
        advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
        for key in DOCUMENTS:
            actions.do_generate_document(case.code, actor=mediator, key=key)
        do_close_case(case.code, actor=dispatcher)
    return case


def test_the_catalogue_follows_the_published_order():
    assert [item.title for item in CATALOGUE][:3] == [
        "人民调解申请书或人民调解受理登记表", "人民调解当事人权利义务告知书", "当事人身份证明"]
    assert CATALOGUE[-1].title == "结案报告表"


def test_archiving_is_refused_naming_the_missing_required_items_and_changes_nothing(closed, dispatcher):
    before = mediation_snapshot(closed)
    with pytest.raises(archive.ArchiveIncomplete) as error:
        archive.do_archive_file(closed.code, actor=dispatcher)
    assert [item.title for item in error.value.missing] == ["当事人身份证明", "结案报告表"]
    assert mediation_snapshot(closed) == before and not CaseArchive.objects.exists()


def test_a_waived_file_exports_one_pdf_in_catalogue_order_and_a_zip_of_originals(closed, dispatcher, mediator, client):
    label = TaxonomyLabel.objects.get(taxonomy__code="mediation_type", code="neighbour")
    ArchiveRetention.objects.create(dispute_type=label, period="years", years=10)
    with clock.at(at(2026, 5, 8, 10, 0)):
        counter = Counter()
        kept = archive.do_archive_file(closed.code, actor=dispatcher, waivers={
            "identity": "当事人当场出示身份证，未留复印件", "closing_report": "协议即时履行，以协议书代结案报告"})
    assert counter.added() == (1, 1)
    assert Case.objects.get(pk=closed.pk).status == "archived"
    event = CaseEvent.objects.filter(case=closed).latest("seq")
    assert (event.action, event.data["retention"]) == ("archive", "10年")
    assert event.data["waived"]["当事人身份证明"] == "当事人当场出示身份证，未留复印件"

    with kept.pdf_file.open("rb") as file:
        reader = PdfReader(io.BytesIO(file.read()))
    texts = [page.extract_text() for page in reader.pages]
    assert "人民调解卷宗" in texts[0] and "保管期限：10年" in texts[0]
    assert "卷内目录" in texts[1] and "缺（当事人当场出示身份证，未留复印件）" in texts[1]
    assert "封底" in texts[-1]
    order = [next(i for i, t in enumerate(texts) if title in t) for title in
             ("人民调解申请书", "权利义务告知书", "人民调解笔录", "人民调解协议书")]
    assert order == sorted(order)
    with kept.zip_file.open("rb") as file, zipfile.ZipFile(io.BytesIO(file.read())) as package:
        names = package.namelist()
    assert names[0].startswith("01-") and any(name.endswith("人民调解协议书.docx") for name in names)

    client.force_login(mediator)
    with allow_personal_data("mediation_archive_download"):
        response = client.get(f"/mediation/cases/{closed.code}/archive.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="mediation.export_archive").count() == 1


def test_an_open_matter_is_not_archived(registrar, dispatcher, mediator):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    with pytest.raises(Exception, match="不能执行"):
        archive.do_archive_file(case.code, actor=dispatcher)


def test_an_identity_document_counts_by_its_kind_not_by_its_name(closed, mediator, dispatcher):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yidi.cases.actions import do_add_attachment

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    do_add_attachment(closed.code, actor=mediator, upload=SimpleUploadedFile("身份证.png", png, "image/png"),
                      description="身份证复印件（其实是现场照片）", kind="evidence")
    with pytest.raises(archive.ArchiveIncomplete) as error:
        archive.do_archive_file(closed.code, actor=dispatcher)
    assert "当事人身份证明" in [item.title for item in error.value.missing]

    do_add_attachment(closed.code, actor=mediator, upload=SimpleUploadedFile("scan-0001.png", png, "image/png"),
                      kind="identity")
    with pytest.raises(archive.ArchiveIncomplete) as error:
        archive.do_archive_file(closed.code, actor=dispatcher)
    assert [item.title for item in error.value.missing] == ["结案报告表"]


def test_photos_and_scans_get_a_page_of_their_own_in_the_pdf(closed, mediator, dispatcher):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from yidi.cases.actions import do_add_attachment
    from yidi.cases.models import Attachment

    photo = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(photo, format="PNG")
    do_add_attachment(closed.code, actor=mediator, upload=SimpleUploadedFile("现场照片.png", photo.getvalue(),
                                                                            "image/png"), description="排水沟堵塞处")
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    do_add_attachment(closed.code, actor=mediator, upload=SimpleUploadedFile("scan.png", broken, "image/png"),
                      kind="identity")
    with clock.at(at(2026, 5, 8, 10, 0)):
        kept = archive.do_archive_file(closed.code, actor=dispatcher,
                                       waivers={"closing_report": "协议即时履行，以协议书代结案报告"})

    with kept.pdf_file.open("rb") as file:
        text = [page.extract_text() for page in PdfReader(io.BytesIO(file.read())).pages]
    photo_page = next(page for page in text if page.startswith("现场照片.png：排水沟堵塞处"))
    scan_page = next(page for page in text if page.startswith("scan.png"))
    assert "无法在此显示" not in photo_page and "图片无法在此显示，原件见卷宗压缩包" in scan_page
    assert Attachment.objects.filter(case=closed).count() == 2
