"""Notifications to the person: the listener writes exactly the expected messages for each step, the outbox
delivers them, and each delivery or final failure is one row on the matter's timeline."""

from datetime import timedelta

import pytest
from django.db import transaction

from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.builders import advance_case, make_case, make_party
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Case, CaseEvent
from yidi.core import clock
from yidi.integrations import jobs
from yidi.integrations.models import OutboxMessage
from yidi.integrations.transports import LogTransport
from yidi.mediation.tests.helpers import at
from yidi.notify import queries
from yidi.notify.models import NotificationTemplate, SiteMessage

T0 = at(2026, 3, 10, 9, 0)
PORTAL = "http://127.0.0.1:8000/p/"


@pytest.fixture(autouse=True)
def _clean_log():
    LogTransport.sent.clear()
    yield
    LogTransport.sent.clear()


def sms(case) -> list[tuple[str, str, str]]:
    return [(m.template, m.destination, m.text) for m in
            OutboxMessage.objects.filter(subject_type="case", subject_id=case.code).order_by("id")]


def site(case) -> list[tuple[str, str]]:
    return [(m.template, m.text) for m in SiteMessage.objects.filter(case=case).order_by("id")]


@pytest.fixture
def registered(registrar):
    with clock.at(T0):
        return make_case(registrar)


def test_registering_notifies_nobody(registered):
    assert sms(registered) == [] and site(registered) == []


def test_acceptance_sends_one_text_to_the_applicant_and_one_site_message(registered, dispatcher):
    with clock.at(T0):
        case_actions.do_accept_case(registered.code, actor=dispatcher)
    code = registered.code
    assert sms(registered) == [("accepted", "13805751234",
                                f"您好，您反映的“枫源村两户因排水沟堵塞发生争执”已受理，事项编码{code}。"
                                f"我们将尽快办理，可凭编码在 {PORTAL} 查询进度。")]
    assert site(registered) == [("accepted", "您反映的事项已受理，我们将尽快安排办理。")]
    message = OutboxMessage.objects.get(subject_id=code)
    assert (message.kind, message.status, message.idempotency_key, message.payload["source"]) == (
        "sms", "pending", f"notify:{code}:2:accepted:sms:{message.payload['person']}", "notify")


def test_a_decline_tells_the_reason_and_the_route(registered, dispatcher):
    case_actions.do_decline_case(registered.code, actor=dispatcher, reason="属于法院已受理的纠纷",
                                 route_told="请向诸暨市人民法院了解案件进展")
    assert sms(registered) == [("declined", "13805751234",
                                f"您好，您反映的“枫源村两户因排水沟堵塞发生争执”（编码{registered.code}）不予受理，"
                                "理由：属于法院已受理的纠纷。建议您：请向诸暨市人民法院了解案件进展。"
                                "如有疑问请联系诸暨市社会矛盾纠纷调处化解中心。")]
    assert site(registered) == [("declined", "您反映的事项不予受理，理由：属于法院已受理的纠纷。建议您：请向诸暨市人民法院了解案件进展。")]


def test_assignment_names_the_lead_unit_and_its_phone(registered, dispatcher, fq_platform):
    fq_platform.phone = "0575-87012345"
    fq_platform.save(update_fields=["phone"])
    case_actions.do_accept_case(registered.code, actor=dispatcher)
    case_actions.do_assign_case(registered.code, actor=dispatcher, lead_unit_code="fq-platform",
                                override_reason="由调度员指定")
    assert [row for row in sms(registered) if row[0] == "assigned"] == [
        ("assigned", "13805751234",
         f"您好，您的事项（编码{registered.code}）已交由枫桥镇综治工作平台办理（电话0575-87012345），请保持电话畅通。")]
    assert site(registered)[-1] == ("assigned", "您的事项已交由枫桥镇综治工作平台办理。")


def test_closing_thanks_the_person_and_asks_for_an_evaluation(registered, dispatcher, handler, fq_platform):
    case = advance_case(registered, CaseStatus.CLOSED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)
    closing = [row for row in sms(case) if row[0] in {"closed", "evaluation_request"}]
    assert closing == [
        ("closed", "13805751234", f"您好，您反映的“枫源村两户因排水沟堵塞发生争执”（编码{case.code}）已办结，感谢您的理解与支持。"),
        ("evaluation_request", "13805751234",
         f"您好，欢迎评价事项（编码{case.code}）的办理情况：请访问 {PORTAL} 输入事项编码并验证手机号后评价。"),
    ]
    assert [t for t, _ in site(case)] == ["accepted", "assigned", "closed", "evaluation_request"]


def test_every_applicant_with_a_phone_gets_a_text_and_none_without(registrar, dispatcher):
    case = make_case(registrar, parties=(
        make_party(), make_party(name="陈小红", id_number="", phone=""),
        make_party("respondent", name="王志强", id_number="", phone="13905759876", address=""),
    ))
    case_actions.do_accept_case(case.code, actor=dispatcher)
    assert [destination for _, destination, _ in sms(case)] == ["13805751234"]
    assert len(site(case)) == 1


def test_a_party_without_a_phone_gets_only_the_site_message(registrar, dispatcher):
    case = make_case(registrar, parties=(make_party(phone=""),))
    case_actions.do_accept_case(case.code, actor=dispatcher)
    assert sms(case) == [] and site(case) == [("accepted", "您反映的事项已受理，我们将尽快安排办理。")]


def test_a_switched_off_template_sends_nothing_on_its_channel(registered, dispatcher):
    NotificationTemplate.objects.filter(key="accepted", channel="sms").update(is_active=False)
    case_actions.do_accept_case(registered.code, actor=dispatcher)
    assert sms(registered) == [] and site(registered) == [("accepted", "您反映的事项已受理，我们将尽快安排办理。")]


def test_a_step_that_fails_leaves_no_notification(registered, dispatcher, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("routing down")

    monkeypatch.setattr(case_actions, "_record_route_suggestion", boom)
    with pytest.raises(RuntimeError):
        case_actions.do_accept_case(registered.code, actor=dispatcher)
    assert sms(registered) == [] and site(registered) == []


def test_a_delivered_message_is_a_row_on_the_timeline(registered, dispatcher, django_capture_on_commit_callbacks):
    with clock.at(T0), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        case_actions.do_accept_case(registered.code, actor=dispatcher)
    case = Case.objects.get(pk=registered.pk)
    event = CaseEvent.objects.filter(case=case).latest("seq")
    assert (event.action, event.seq, case.version, event.actor_id, event.actor_name) == (
        "notify_sent", 3, 3, None, "系统（通知）")
    assert event.data == {"channel": "sms", "template": "accepted", "recipient": "138****1234", "method": "短信"}
    assert (event.from_status, event.to_status) == ("accepted", "accepted")
    audit = AuditEvent.objects.filter(action="case.notify_sent", object_id=case.code)
    assert audit.count() == 1
    assert [m.key for m in LogTransport.sent] == [OutboxMessage.objects.get(subject_id=case.code).idempotency_key]


def test_a_finally_failed_message_is_a_row_on_the_timeline(registered, dispatcher, settings):
    settings.YIDI_OUTBOX_TRANSPORTS = {"sms": "yidi.integrations.tests.test_outbox.FailingTransport"}
    settings.YIDI_OUTBOX_MAX_ATTEMPTS = 2
    with clock.at(T0):
        case_actions.do_accept_case(registered.code, actor=dispatcher)
    jobs.deliver_due(now=T0)
    assert not CaseEvent.objects.filter(case=registered, action__startswith="notify_").exists()  # retried later
    jobs.deliver_due(now=T0 + timedelta(minutes=1))
    events = list(CaseEvent.objects.filter(case=registered, action__startswith="notify_").values_list("action", "data"))
    assert events == [("notify_failed", {"channel": "sms", "template": "accepted", "recipient": "138****1234",
                                         "method": "短信"})]


def test_the_portal_and_staff_read_the_messages_newest_first(registered, dispatcher):
    with clock.at(T0):
        case_actions.do_accept_case(registered.code, actor=dispatcher)
    with clock.at(T0 + timedelta(hours=1)):
        case_actions.do_assign_case(registered.code, actor=dispatcher, lead_unit_code="fq-platform",
                                    override_reason="由调度员指定")
    assert [m.template for m in queries.messages_for_case(registered)] == ["assigned", "accepted"]
    assert [m.template for m in queries.outbox_for_case(registered.code)] == ["assigned", "accepted"]


def test_the_admin_edits_templates_with_checks_and_audit(admin, client):
    client.force_login(admin)
    template = NotificationTemplate.objects.get(key="closed", channel="sms")
    url = f"/admin/notify/notificationtemplate/{template.pk}/change/"
    refused = client.post(url, {"key": "closed", "channel": "sms", "text": "您好，{name}已办结。", "is_active": "on"})
    assert refused.status_code == 200 and "未知的占位符：{name}" in refused.content.decode()
    saved = client.post(url, {"key": "closed", "channel": "sms", "text": "您好，事项{code}已办结。", "is_active": "on"})
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.text == "您好，事项{code}已办结。"
    audit = AuditEvent.objects.latest("id")
    assert (audit.action, audit.object_id, audit.actor_username) == (
        "notify.change_template", str(template.pk), "sysadmin")


def test_every_moment_has_a_seeded_text_message_and_site_message(db):
    from yidi.notify.domain import TemplateKey, check_template_text

    rows = set(NotificationTemplate.objects.values_list("key", "channel"))
    assert rows == {(key.value, channel) for key in TemplateKey for channel in ("sms", "site")}
    assert all(check_template_text(t) is None for t in NotificationTemplate.objects.values_list("text", flat=True))


def test_history_loaded_with_texts_muted_keeps_the_site_message_and_texts_nobody(registered, dispatcher):
    from yidi.notify.actions import texts_muted

    with clock.at(T0), texts_muted():
        case_actions.do_accept_case(registered.code, actor=dispatcher)
    assert sms(registered) == []
    assert site(registered) == [("accepted", "您反映的事项已受理，我们将尽快安排办理。")]
    other = make_case(registered.registered_by)
    with clock.at(T0):  # texting is back after the block
        case_actions.do_accept_case(other.code, actor=dispatcher)
    assert [template for template, _, _ in sms(other)] == ["accepted"]
