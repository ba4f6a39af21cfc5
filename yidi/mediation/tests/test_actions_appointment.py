"""预约调解: booking and cancelling sessions. The designated mediators and the lead unit book; the time is in the
future; on site needs a place, online a room; the applicants are told by text message. Refusals change nothing."""

from datetime import timedelta

import pytest

from yidi.accounts.access import ActionDenied
from yidi.cases.domain import InvalidInput, RuleViolation
from yidi.cases.models import CaseEvent
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.integrations.models import OutboxMessage
from yidi.mediation import actions, queries
from yidi.mediation.builders import advance_mediation
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import Appointment
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot
from yidi.notify.models import SiteMessage

NOW = at(2026, 3, 10, 10, 0)
SESSION_AT = at(2026, 3, 12, 14, 30)


@pytest.fixture
def mediating(registrar, dispatcher, mediator, wu):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 3, 9, 9, 0))
    with clock.at(NOW):
        advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    return case


def everything(case) -> dict:
    return {
        **mediation_snapshot(case),
        "appointments": list(Appointment.objects.filter(mediation__case=case).values_list()),
        "outbox": OutboxMessage.objects.filter(subject_id=case.code).count(),
        "site": SiteMessage.objects.filter(case=case).count(),
    }


def texts(case, template) -> list[tuple[str, str]]:
    return list(OutboxMessage.objects.filter(subject_id=case.code, template=template).values_list("destination", "text"))


def schedule(case, actor, **overrides):
    values = {"starts_at": SESSION_AT, "place": "枫源村人民调解委员会调解室", "mode": "on_site", "note": "请双方携带相关照片"}
    with clock.at(NOW):
        return actions.do_schedule_session(case.code, actor=actor, **{**values, **overrides})


def test_the_lead_unit_books_a_session_and_the_applicant_is_told(mediating, mediator):
    counter = Counter()
    appointment = schedule(mediating, mediator)
    assert counter.added() == (1, 1)
    assert (appointment.starts_at, appointment.place, appointment.mode, appointment.status, appointment.created_by) == (
        SESSION_AT, "枫源村人民调解委员会调解室", "on_site", "scheduled", mediator)
    event = CaseEvent.objects.filter(case=mediating).latest("seq")
    assert (event.action, event.reason) == ("schedule_session", "请双方携带相关照片")
    assert event.data == {"appointment": appointment.pk, "starts_at": "2026-03-12T14:30:00+08:00",
                          "when": "2026-03-12 14:30", "place": "枫源村人民调解委员会调解室",
                          "session_mode": "on_site", "online_room": ""}
    assert event.detail == "地点：枫源村人民调解委员会调解室；时间：2026-03-12 14:30；调解方式：到场调解"
    assert texts(mediating, "session_scheduled") == [(
        "13805751234",
        f"您好，您的事项（编码{mediating.code}）已预约现场调解，时间：3月12日（星期四）14:30，"
        "地点：枫源村人民调解委员会调解室。请准时参加，如需改期请联系枫源村人民调解委员会。",
    )]
    with clock.at(NOW):
        assert queries.upcoming_appointments(mediating) == [appointment]


def test_the_designated_mediator_of_another_unit_books_an_online_session(mediating, mediator, yang):
    actions.do_designate_mediators(mediating.code, actor=mediator, mediator_ids=[yang.pk], source="committee")
    appointment = schedule(mediating, yang.user, mode="online", place="", online_room="腾讯会议 123 456 789")
    assert (appointment.mode, appointment.online_room, appointment.place) == ("online", "腾讯会议 123 456 789", "")
    assert texts(mediating, "session_scheduled")[0][1] == (
        f"您好，您的事项（编码{mediating.code}）已预约线上调解，时间：3月12日（星期四）14:30，"
        "地点：腾讯会议 123 456 789。请准时参加，如需改期请联系枫源村人民调解委员会。")


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"starts_at": NOW - timedelta(minutes=1)}, "starts_at", "预约时间不能早于现在"),
    ({"starts_at": NOW}, "starts_at", "预约时间不能早于现在"),
    ({"starts_at": None}, "starts_at", "请填写调解时间"),
    ({"starts_at": NOW + timedelta(days=181)}, "starts_at", "预约时间不能晚于六个月之后"),
    ({"place": "  "}, "place", "现场调解请填写调解地点"),
    ({"mode": "online", "online_room": ""}, "online_room", "线上调解请填写在线调解室链接或会议号"),
    ({"mode": "phone"}, "mode", "请选择调解方式（现场或线上）"),
])
def test_bad_bookings_are_refused_with_a_clear_message_and_change_nothing(mediating, mediator, overrides, field,
                                                                          message):
    before = everything(mediating)
    with pytest.raises(InvalidInput) as error:
        schedule(mediating, mediator, **overrides)
    assert (error.value.field, str(error.value)) == (field, message)
    assert everything(mediating) == before


def test_a_dispatcher_may_not_book_and_nothing_changes(mediating, dispatcher):
    before = everything(mediating)
    with pytest.raises(ActionDenied) as error:
        schedule(mediating, dispatcher)
    assert str(error.value) == "只有本事项指定的调解员或主办单位可以执行此操作"
    assert everything(mediating) == before


def test_no_booking_on_a_mediation_that_has_ended(mediating, mediator):
    with clock.at(NOW):
        actions.do_record_failure(mediating.code, actor=mediator, reason="双方分歧较大", routes_told="可向人民法院起诉")
    before = everything(mediating)
    with pytest.raises(RuleViolation):
        schedule(mediating, mediator)
    assert everything(mediating) == before


def test_a_cancelled_session_is_kept_with_its_reason_and_the_applicant_is_told(mediating, mediator):
    appointment = schedule(mediating, mediator)
    counter = Counter()
    with clock.at(NOW + timedelta(hours=1)):
        cancelled = actions.do_cancel_session(mediating.code, actor=mediator, appointment_id=appointment.pk,
                                              reason="被申请人临时外出")
    assert counter.added() == (1, 1)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.cancelled_by, cancelled.cancelled_at) == (
        "cancelled", "被申请人临时外出", mediator, NOW + timedelta(hours=1))
    assert CaseEvent.objects.filter(case=mediating).latest("seq").action == "cancel_session"
    assert texts(mediating, "session_cancelled") == [(
        "13805751234",
        f"您好，您的事项（编码{mediating.code}）原定3月12日（星期四）14:30的调解已取消，原因：被申请人临时外出。"
        "我们将另行通知，如有疑问请联系枫源村人民调解委员会。",
    )]
    with clock.at(NOW):
        assert queries.upcoming_appointments(mediating) == []


def test_cancelling_needs_a_reason_and_a_booked_session(mediating, mediator, dispatcher):
    appointment = schedule(mediating, mediator)
    before = everything(mediating)
    with pytest.raises(InvalidInput) as error:
        actions.do_cancel_session(mediating.code, actor=mediator, appointment_id=appointment.pk, reason=" ")
    assert (error.value.field, str(error.value)) == ("reason", "请填写取消原因")
    with pytest.raises(InvalidInput) as error:
        actions.do_cancel_session(mediating.code, actor=mediator, appointment_id=appointment.pk + 999, reason="改期")
    assert error.value.field == "appointment"
    with pytest.raises(ActionDenied):
        actions.do_cancel_session(mediating.code, actor=dispatcher, appointment_id=appointment.pk, reason="改期")
    assert everything(mediating) == before


def test_upcoming_sessions_are_the_booked_ones_from_two_hours_ago_soonest_first(mediating, mediator):
    later = schedule(mediating, mediator, starts_at=SESSION_AT + timedelta(days=1))
    sooner = schedule(mediating, mediator)
    with clock.at(NOW):
        assert queries.upcoming_appointments(mediating) == [sooner, later]
    with clock.at(SESSION_AT + timedelta(hours=2)):
        assert queries.upcoming_appointments(mediating) == [sooner, later]
    with clock.at(SESSION_AT + timedelta(hours=2, minutes=1)):
        assert queries.upcoming_appointments(mediating) == [later]


def test_the_page_books_and_cancels_sessions(mediating, mediator, client):
    client.force_login(mediator)
    base = f"/mediation/cases/{mediating.code}"
    with clock.at(NOW):
        content = client.get(f"{base}/").content.decode()
        assert "调解预约" in content and "暂无待举行的调解预约" in content
        refused = client.post(f"{base}/actions/schedule_session/", {
            "schedule_session-mode": "on_site", "schedule_session-starts_at": "2026-03-09T09:00",
            "schedule_session-place": "调解室"})
        assert refused.status_code == 400 and "预约时间不能早于现在" in refused.content.decode()
        booked = client.post(f"{base}/actions/schedule_session/", {
            "schedule_session-mode": "on_site", "schedule_session-starts_at": "2026-03-12T14:30",
            "schedule_session-place": "枫源村调解室"})
        assert booked.status_code == 302 and booked["Location"].endswith("#appointments")
        appointment = Appointment.objects.get(mediation__case=mediating)
        assert appointment.starts_at == SESSION_AT
        content = client.get(f"{base}/").content.decode()
        assert "2026-03-12 14:30" in content and "枫源村调解室" in content and "取消调解预约" in content
        cancelled = client.post(f"{base}/actions/cancel_session/", {
            "cancel_session-appointment": appointment.pk, "cancel_session-reason": "改期"})
    assert cancelled.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
