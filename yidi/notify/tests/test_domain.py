"""Which events notify, who gets a text message, and how a template is filled in — without a database."""

from datetime import datetime
from zoneinfo import ZoneInfo

from yidi.notify.domain import (
    MessageFacts,
    PartyContact,
    Recipient,
    TemplateKey,
    check_template_text,
    describe_when,
    render,
    session_place,
    sms_recipients,
    templates_for_event,
)


def test_each_notifying_event_has_its_templates_and_notify_events_have_none():
    assert templates_for_event("accept") == (TemplateKey.ACCEPTED,)
    assert templates_for_event("close") == (TemplateKey.CLOSED, TemplateKey.EVALUATION_REQUEST)
    assert templates_for_event("record_oral_agreement") == (TemplateKey.AGREEMENT,)
    assert templates_for_event("make_agreement_effective") == (TemplateKey.AGREEMENT,)
    assert templates_for_event("notify_sent") == templates_for_event("notify_failed") == ()
    assert templates_for_event("register") == templates_for_event("sign") == ()


def test_text_messages_go_to_applicants_with_a_mobile_number_once_each():
    parties = [
        PartyContact(1, "applicant", "陈建国", "13805751234"),
        PartyContact(2, "respondent", "王志强", "13905759876"),
        PartyContact(3, "applicant", "陈小红", ""),
        PartyContact(4, "applicant", "陈建国家", "138 0575 1234"),  # the same number again
        PartyContact(5, "applicant", "枫桥茶厂", "0575-87012345"),  # a landline gets no text message
        PartyContact(6, "applicant", "李梅", "13600001111"),
    ]
    assert sms_recipients(parties) == [Recipient(1, "陈建国", "13805751234"), Recipient(6, "李梅", "13600001111")]
    assert Recipient(1, "陈建国", "13805751234").masked_phone == "138****1234"


def test_rendering_fills_placeholders_and_masks_numbers_typed_by_staff():
    facts = MessageFacts(code="330681-2026-000001", unit="枫桥镇综治工作平台", unit_phone="0575-87012345",
                         reason="身份证330681198003150017有误，联系13805751234。", route="向人民法院起诉")
    text = render("{code}：{reason}。建议您：{route}。联系{unit}{unit_phone}。{unknown}", facts)
    assert text == ("330681-2026-000001：身份证330***********0017有误，联系138****1234。建议您：向人民法院起诉。"
                    "联系枫桥镇综治工作平台（电话0575-87012345）。{unknown}")
    assert render("联系{unit}{unit_phone}。", MessageFacts(unit="枫源村人民调解委员会")) == "联系枫源村人民调解委员会。"


def test_a_template_may_not_name_unknown_values_or_hold_personal_numbers():
    assert check_template_text("您好，事项{code}已受理。") is None
    assert check_template_text("您好，{name}") == "未知的占位符：{name}"
    assert check_template_text("请致电13805751234") == "通知内容不能包含身份证号码或手机号码"
    assert check_template_text("  ") == "请填写通知内容"


def test_times_are_told_in_beijing_time_and_online_sessions_name_their_room():
    assert describe_when(datetime(2026, 3, 11, 1, 30, tzinfo=ZoneInfo("UTC"))) == "3月11日（星期三）09:30"
    assert session_place("枫源村调解室", "on_site", "") == "枫源村调解室"
    assert session_place("", "online", "腾讯会议 123 456 789") == "腾讯会议 123 456 789"
    assert session_place("", "online", "") == "线上调解室"
