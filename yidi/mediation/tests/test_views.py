"""The mediation pages: the matter's mediation page and its action endpoint, document downloads, the mediator
directory, and the 调解 section of the matter page. Other townships get 404 on every one of them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yidi.accounts.domain import Role
from yidi.cases.builders import make_user
from yidi.cases.models import CaseEvent
from yidi.mediation import actions
from yidi.mediation.builders import advance_mediation, make_mediator, parties
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import Designation, MediationSession
from yidi.mediation.tests.helpers import mediation_snapshot


def page(client, case):
    return client.get(f"/mediation/cases/{case.code}/")


def post(client, case, action, data, **extra):
    return client.post(f"/mediation/cases/{case.code}/actions/{action}/", data, **extra)


def test_an_outsider_gets_not_found_on_every_mediation_page(in_mediation, mediator, wu, outsider, client):
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=wu)
    document = actions.do_generate_document(in_mediation.code, actor=mediator, key="rights_notice")
    before = mediation_snapshot(in_mediation)
    client.force_login(outsider)
    base = f"/mediation/cases/{in_mediation.code}"
    for url in (f"{base}/", f"{base}/documents/{document.pk}.pdf", f"{base}/documents/{document.pk}.docx",
                "/mediation/mediators/"):
        assert client.get(url).status_code == 404, url
    for action in ("open_mediation", "designate_mediators", "record_session", "generate_document", "record_rating"):
        assert client.post(f"{base}/actions/{action}/", {}).status_code == 404, action
    assert mediation_snapshot(in_mediation) == before


def test_the_lead_unit_opens_the_mediation_from_the_page(in_mediation, mediator, client):
    client.force_login(mediator)
    response = page(client, in_mediation)
    assert response.status_code == 200 and "本事项尚未建立调解" in response.content.decode()

    response = post(client, in_mediation, "open_mediation", {
        "open_mediation-source": "application", "open_mediation-requests": "请求疏通排水沟\n请求赔偿损失",
        "open_mediation-applied_on": "2026-01-05", "open_mediation-committee": "枫源村人民调解委员会",
    })

    assert response.status_code == 302 and response["Location"].endswith(f"/mediation/cases/{in_mediation.code}/#mediation-actions")
    content = page(client, in_mediation).content.decode()
    assert "枫源人调字第001号" in content and "请求赔偿损失" in content and "推荐调解员" not in content


def test_the_page_proposes_mediators_with_reasons_and_shows_exclusions(in_mediation, mediator, wu, yang, client):
    actions.do_open_mediation(in_mediation.code, actor=mediator, source="own_initiative")
    actions.do_declare_conflict(in_mediation.code, actor=mediator, mediator_id=yang.pk, relation="colleague",
                                party_id=parties(in_mediation)[0].pk)
    client.force_login(mediator)
    content = page(client, in_mediation).content.decode()
    assert "推荐调解员" in content
    assert "擅长邻里纠纷；同村（枫源村）" in content
    assert "已申报利益冲突：与当事人陈建国系同事，须回避" in content


def test_a_refused_designation_is_shown_on_the_page_and_changes_nothing(in_mediation, mediator, yang, client):
    actions.do_open_mediation(in_mediation.code, actor=mediator, source="own_initiative")
    actions.do_declare_conflict(in_mediation.code, actor=mediator, mediator_id=yang.pk, relation="relative",
                                party_id=parties(in_mediation)[1].pk)
    before = mediation_snapshot(in_mediation)
    client.force_login(mediator)

    response = post(client, in_mediation, "designate_mediators", {
        "designate_mediators-mediators": [yang.pk], "designate_mediators-source": "parties"})

    assert response.status_code == 409
    assert "杨光明已申报利益冲突（与当事人王志强系近亲属），须回避，不能指定" in response.content.decode()
    assert mediation_snapshot(in_mediation) == before


def test_a_form_error_keeps_the_panel_open_with_the_message(in_mediation, mediator, wu, client):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    client.force_login(mediator)
    response = post(client, in_mediation, "record_failure", {"record_failure-reason": "分歧过大"})
    assert response.status_code == 400
    content = response.content.decode()
    assert 'id="panel-record_failure" class="action-panel action-panel--danger" data-reveal-open' in content
    assert "这个字段是必填项" in content


def test_a_session_with_its_statements_is_recorded_through_the_page(in_mediation, mediator, wu, client):
    advance_mediation(in_mediation, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    actions.do_record_consent(in_mediation.code, actor=mediator, party_id=parties(in_mediation)[1].pk)
    applicant, respondent = parties(in_mediation)
    prefix = "record_session"
    client.force_login(mediator)

    response = post(client, in_mediation, prefix, {
        f"{prefix}-kind": "separate", f"{prefix}-mode": "online", f"{prefix}-place": "浙江解纷码视频调解",
        f"{prefix}-started_at": "2026-01-06T09:30", f"{prefix}-parties": [applicant.pk, respondent.pk],
        f"{prefix}-recorder": "王秀英", f"{prefix}-result": "双方同意赔偿三千元",
        f"{prefix}-statements-TOTAL_FORMS": "2", f"{prefix}-statements-INITIAL_FORMS": "0",
        f"{prefix}-statements-0-speaker": "调解员", f"{prefix}-statements-0-text": "请双方陈述。",
        f"{prefix}-statements-1-speaker": "陈建国", f"{prefix}-statements-1-text": "要求赔偿。",
    })

    assert response.status_code == 302
    session = MediationSession.objects.get()
    assert (session.kind, session.mode, session.statements) == ("separate", "online", [
        {"speaker": "调解员", "text": "请双方陈述。"}, {"speaker": "陈建国", "text": "要求赔偿。"}])
    assert "浙江解纷码视频调解" in page(client, in_mediation).content.decode()


def test_readers_who_do_not_mediate_see_the_mediation_without_buttons_or_downloads(in_mediation, mediator, wu,
                                                                                  supervisor, client):
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=wu)
    actions.do_generate_document(in_mediation.code, actor=mediator, key="rights_notice")
    client.force_login(supervisor)
    content = page(client, in_mediation).content.decode()
    assert "吴调解" in content and "推荐调解员" not in content
    assert "data-reveal=\"panel-" not in content and "/documents/" not in content
    assert "文书载有当事人完整身份信息" in content


def test_the_matter_page_has_a_mediation_section_linking_to_it(in_mediation, mediator, wu, client):
    client.force_login(mediator)
    content = client.get(f"/cases/{in_mediation.code}/").content.decode()
    assert 'id="mediation"' in content and "建立调解" in content
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=wu)
    content = client.get(f"/cases/{in_mediation.code}/").content.decode()
    assert "进入调解页面" in content and "吴调解（主调）" in content


def test_every_page_shows_masked_personal_data_only(in_mediation, mediator, wu, client):
    advance_mediation(in_mediation, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    client.force_login(mediator)
    content = page(client, in_mediation).content.decode()
    assert "138****1234" in content and "13805751234" not in content
    assert "330***********0017" in content


def test_the_directory_filters_by_specialty_region_type_and_availability(dispatcher, wu, yang, client, room_unit):
    other = make_user("jiang", Role.MEDIATOR, unit=room_unit, name="江秀英")
    make_mediator(other, specialties=("marriage_family",), region_code="330681001", organisation_type="lawyer",
                  availability="unavailable")
    client.force_login(dispatcher)

    def names(query: str) -> list[str]:
        response = client.get(f"/mediation/mediators/?{query}")
        assert response.status_code == 200
        return [entry.mediator.user.display_name for entry in response.context["entries"]]

    assert names("") == ["吴调解", "杨光明", "江秀英"]  # available first, then by name
    assert names("specialty=housing_homestead") == ["杨光明"]
    assert names("specialty=marriage_family") == ["吴调解", "江秀英"]
    assert names("region=330681001") == ["江秀英"]
    assert names("region=330681109") == ["吴调解", "杨光明"]
    assert names("organisation_type=lawyer") == ["江秀英"]
    assert names("availability=unavailable") == ["江秀英"]
    assert names("text=老杨") == ["杨光明", "江秀英"]  # the unit's or the room's name
    content = client.get("/mediation/mediators/").content.decode()
    assert "老杨调解室" in content and "首席调解员" in content


def test_the_directory_reads_in_a_fixed_number_of_queries(dispatcher, wu, yang, client, room_unit):
    client.force_login(dispatcher)
    client.get("/mediation/mediators/")
    with CaptureQueriesContext(connection) as few:
        client.get("/mediation/mediators/")
    for index in range(3):
        make_mediator(make_user(f"pool{index}", Role.MEDIATOR, unit=room_unit, name=f"调解员{index}"))
    with CaptureQueriesContext(connection) as more:
        client.get("/mediation/mediators/")
    assert len(more.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize("persona", ["registrar", "handler", "supervisor", "citizen"])
def test_the_directory_is_for_dispatchers_mediators_and_leaders(persona, request, client):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/mediation/mediators/").status_code == 404


def test_the_timeline_of_the_mediation_page_lists_only_mediation_events(in_mediation, mediator, wu, client):
    advance_mediation(in_mediation, MediationStatus.PREPARING, actor=mediator, mediator=wu)
    client.force_login(mediator)
    events = page(client, in_mediation).context["events"]
    assert [e.action for e in events] == ["open_mediation", "designate_mediators", "deliver_rights_notice"]
    assert CaseEvent.objects.filter(case=in_mediation).count() > len(events)
    assert Designation.objects.count() == 1


def test_a_receipt_is_uploaded_with_the_performance_through_the_page(in_mediation, mediator, wu, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from yidi.cases.models import Attachment
    from yidi.mediation.builders import add_obligations
    from yidi.mediation.models import PerformanceRecord

    advance_mediation(in_mediation, MediationStatus.AGREED, actor=mediator, mediator=wu)
    _, payment = add_obligations(in_mediation, actor=mediator, due_on=in_mediation.registered_at.date().replace(
        year=in_mediation.registered_at.year + 1))
    client.force_login(mediator)
    prefix = "record_performance"

    response = post(client, in_mediation, prefix, {
        f"{prefix}-obligation": payment.pk, f"{prefix}-performed_on": in_mediation.registered_at.date().isoformat(),
        f"{prefix}-amount": "3000", f"{prefix}-note": "当面付清", f"{prefix}-is_complete": "on",
        f"{prefix}-receipt": SimpleUploadedFile("收条.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
    })

    assert response.status_code == 302 and response["Location"].endswith("#performance")
    record = PerformanceRecord.objects.get()
    assert (record.is_complete, record.receipt, str(record.amount)) == (True, Attachment.objects.get(), "3000.00")
    assert "收条.png" in page(client, in_mediation).content.decode()
