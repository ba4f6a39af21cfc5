"""Documents from the matter and its mediation: generated as .docx and PDF and kept with their digests and versions;
refused, naming each missing field, when incomplete; downloads limited to who may see full ID numbers, and audited."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.accounts.access import ActionDenied, CaseNotFound
from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_party
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.mediation import actions
from yidi.mediation.actions import MissingDocumentFields
from yidi.mediation.builders import AGREEMENT, add_obligations, advance_mediation
from yidi.mediation.document_data import document_slots
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import GeneratedDocument, Mediation
from yidi.mediation.tests.documents_support import docx_text, pdf_text, squeeze
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot
from yidi.security.leaks import allow_personal_data

RESPONDENT_ID = "330681196401200033"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def with_respondent_id(registrar, dispatcher, mediator):
    return matter_in_mediation(
        registrar, dispatcher, mediator, when=at(2026, 5, 4, 9, 0),
        parties=(make_party(), make_party("respondent", name="王志强", id_number=RESPONDENT_ID, phone="13905759876",
                                          address="诸暨市枫桥镇枫源村3组20号")),
    )


@pytest.fixture
def agreed(registrar, dispatcher, mediator, wu):
    case = with_respondent_id(registrar, dispatcher, mediator)
    with clock.at(at(2026, 5, 6, 10, 0)):
        advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
    return case


def test_the_agreement_docx_and_pdf_carry_the_matters_parties_and_agreed_terms(agreed, mediator):
    counter = Counter()
    with clock.at(at(2026, 5, 6, 11, 0)):
        document = actions.do_generate_document(agreed.code, actor=mediator, key="agreement")
    assert counter.added() == (1, 1)

    docx = document.docx_file.read()
    text = docx_text(docx)
    mediation = Mediation.objects.get(case=agreed)
    for expected in ("人民调解协议书", f"事项编码：{agreed.code}", f"编号：{mediation.number}",
                     "申请人：陈建国，男", "330681198003150017", "被申请人：王志强，男", RESPONDENT_ID,
                     *AGREEMENT.terms.splitlines(), AGREEMENT.performance_place, "枫源村人民调解委员会",
                     "本协议一式三份", "人民调解员：吴调解"):
        assert squeeze(expected) in text, expected
    pdf = document.pdf_file.read()
    assert squeeze(AGREEMENT.terms.splitlines()[1]) in pdf_text(pdf)
    assert (document.docx_sha256, document.pdf_sha256) == (hashlib.sha256(docx).hexdigest(),
                                                           hashlib.sha256(pdf).hexdigest())
    assert (document.version, document.kind, document.generated_by, document.personal_fields) == (
        1, "agreement", mediator, ["id_number", "phone", "address"])


def test_regenerating_keeps_the_earlier_version(agreed, mediator):
    with clock.at(at(2026, 5, 6, 11, 0)):
        first = actions.do_generate_document(agreed.code, actor=mediator, key="agreement")
    with clock.at(at(2026, 5, 7, 9, 0)):
        second = actions.do_generate_document(agreed.code, actor=mediator, key="agreement")
    assert [(d.version, d.generated_at) for d in GeneratedDocument.objects.order_by("version")] == [
        (1, at(2026, 5, 6, 11, 0)), (2, at(2026, 5, 7, 9, 0))]
    assert first.docx_file.name != second.docx_file.name and first.docx_file.read()


def test_a_document_with_missing_fields_is_not_generated_and_the_refusal_names_each_field(registrar, dispatcher,
                                                                                        mediator, wu):
    case = matter_in_mediation(registrar, dispatcher, mediator)  # the respondent gave no ID number
    advance_mediation(case, MediationStatus.SIGNING, actor=mediator, mediator=wu)
    before = mediation_snapshot(case)

    with pytest.raises(MissingDocumentFields) as error:
        actions.do_generate_document(case.code, actor=mediator, key="agreement")

    assert [item.label for item in error.value.missing] == ["被申请人王志强的性别", "被申请人王志强的公民身份号码"]
    assert str(error.value) == "人民调解协议书缺少必填项，未生成：被申请人王志强的性别、被申请人王志强的公民身份号码"
    assert mediation_snapshot(case) == before
    assert not GeneratedDocument.objects.exists()


def test_the_page_lists_exactly_the_missing_fields_and_generates_nothing(registrar, dispatcher, mediator, wu, client):
    case = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(case, MediationStatus.SIGNING, actor=mediator, mediator=wu)
    client.force_login(mediator)

    response = client.post(f"/mediation/cases/{case.code}/actions/generate_document/",
                           {"generate_document-key": "agreement"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "未生成：以下必填项缺失" in page
    assert "<li>被申请人王志强的性别</li>" in page and "<li>被申请人王志强的公民身份号码</li>" in page
    assert not GeneratedDocument.objects.exists()


def test_the_whole_case_file_generates_once_the_records_are_complete(agreed, mediator):
    with clock.at(at(2026, 5, 6, 11, 0)):
        obligation, payment = add_obligations(agreed, actor=mediator, due_on=at(2026, 5, 16).date())
    with clock.at(at(2026, 5, 12, 10, 0)):
        for item in (obligation, payment):
            actions.do_record_performance(agreed.code, actor=mediator, obligation_id=item.pk,
                                          performed_on=at(2026, 5, 12).date(), note="已履行", is_complete=True,
                                          receipt=SimpleUploadedFile("收条.png", PNG))
        case_actions.do_record_return_visit(agreed.code, actor=mediator, summary="电话回访，双方均表示协议已履行完毕")
    mediation = Mediation.objects.get(case=agreed)
    keys = [slot.key for slot in document_slots(mediation)]
    assert keys == ["application", "acceptance_register", "rights_notice", "session_record-1", "agreement",
                    "return_visit_record", "closing_report"]
    with clock.at(at(2026, 5, 13, 9, 0)):
        documents = [actions.do_generate_document(agreed.code, actor=mediator, key=key) for key in keys]
    texts = {document.key: docx_text(document.docx_file.read()) for document in documents}
    assert squeeze("请求被申请人拆除杂物间、疏通排水沟") in texts["application"]
    assert squeeze("回访情况电话回访，双方均表示协议已履行完毕") in texts["return_visit_record"]
    assert squeeze("协议约定的2项义务已全部履行完毕（2026年5月12日）") in texts["closing_report"]
    assert squeeze("陈建国：杂物间把排水沟堵死了") in texts["session_record-1"]
    assert documents[3].title == "人民调解笔录（第1次）"


def test_downloads_are_audited_personal_data_access_for_the_mediator_the_lead_unit_and_revealing_roles(
    agreed, mediator, dispatcher, handler, supervisor, outsider,
):
    with clock.at(at(2026, 5, 6, 11, 0)):
        document = actions.do_generate_document(agreed.code, actor=mediator, key="agreement")
    counter = Counter()

    download = actions.do_download_document(agreed.code, actor=mediator, document_id=document.pk, fmt="docx")

    assert download.open().read() == document.docx_file.read()
    assert download.filename == f"{agreed.code}-人民调解协议书-第1版.docx"
    assert counter.added() == (0, 1)  # a read: no timeline event, one audit row
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.actor_username, audit.object_id, audit.fields) == (
        "mediation.download_document", "mediator", agreed.code, ["id_number", "phone", "address"])
    assert (audit.data["format"], audit.data["version"], audit.data["sha256"]) == ("docx", 1, document.docx_sha256)
    actions.do_download_document(agreed.code, actor=dispatcher, document_id=document.pk, fmt="pdf")
    counter = Counter()
    for reader in (handler, supervisor):  # they read the matter, but may not see full ID numbers
        with pytest.raises(ActionDenied, match="文书载有当事人完整身份信息"):
            actions.do_download_document(agreed.code, actor=reader, document_id=document.pk, fmt="pdf")
    with pytest.raises(CaseNotFound):
        actions.do_download_document(agreed.code, actor=outsider, document_id=document.pk, fmt="pdf")
    assert counter.added() == (0, 0)


def test_a_designated_mediator_of_another_unit_downloads_through_the_page(in_mediation, mediator, yang, handler,
                                                                          client):
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=yang)
    document = actions.do_generate_document(in_mediation.code, actor=yang.user, key="rights_notice")
    client.force_login(yang.user)
    url = f"/mediation/cases/{in_mediation.code}/documents/{document.pk}.pdf"
    with allow_personal_data("mediation_document_download"):
        response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == document.pdf_file.read()
    client.force_login(handler)
    assert client.get(url).status_code == 403
    assert client.get(f"/mediation/cases/{in_mediation.code}/documents/{document.pk}.exe").status_code == 404


def test_a_download_needs_the_identity_confirmed_within_five_minutes(agreed, mediator, client):
    from yidi.accounts.middleware import AUTH_STATE_KEY

    with clock.at(at(2026, 5, 6, 11, 0)):
        document = actions.do_generate_document(agreed.code, actor=mediator, key="agreement")
    client.force_login(mediator)
    client.get("/")  # the session gets its log-in record
    session = client.session
    state = dict(session[AUTH_STATE_KEY])
    state["confirmed_at"] -= 301
    session[AUTH_STATE_KEY] = state
    session.save()
    downloads = AuditEvent.objects.filter(action="mediation.download_document").count()

    url = f"/mediation/cases/{agreed.code}/documents/{document.pk}.docx"
    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/confirm/?next=")
    assert AuditEvent.objects.filter(action="mediation.download_document").count() == downloads
