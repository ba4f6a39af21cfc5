"""The exchange format's rules, without a database."""

from datetime import date

import pytest

from yidi.court import domain
from yidi.court.domain import FormatError, MessageType
from yidi.court.tests.helpers import answer_message

BASE = {
    "format": "yidi-court/1", "type": "referral", "message_id": "zjfy-referral-1", "sent_at": "2026-03-02T09:00:00+08:00",
    "court": {"code": "zjfy", "name": "诸暨市人民法院"},
    "referral": {
        "kind": "entrusted", "procedure": "simplified", "court_case_number": "(2026)浙0681民初5号",
        "referred_on": "2026-03-02", "cause_of_action": {"code": "9202", "name": "相邻关系纠纷"},
        "region": "330681109290", "facts": "排水沟被堵", "claims": ["疏通排水沟"],
        "parties": [{"role": "applicant", "name": "陈建国"}, {"role": "respondent", "name": "王志强"}],
    },
}


def _with(**referral) -> dict:
    return {**BASE, "referral": {**BASE["referral"], **referral}}


def test_a_referral_is_parsed_with_its_channel_title_and_description():
    envelope, referral = domain.parse_referral(BASE)

    assert envelope.message_id == "zjfy-referral-1"
    assert (referral.kind, referral.procedure, referral.channel_code) == (
        "entrusted", "simplified", "court_entrusted_simplified")
    assert referral.title == "相邻关系纠纷（(2026)浙0681民初5号）"
    assert referral.description == "排水沟被堵\n\n诉讼请求：\n1. 疏通排水沟"
    assert [(p.role, p.kind, p.name) for p in referral.parties] == [
        ("applicant", "natural", "陈建国"), ("respondent", "natural", "王志强")]


def test_the_content_digest_ignores_key_order_and_the_envelope():
    reordered = {**BASE, "message_id": "another-id",
                 "referral": dict(reversed(list(BASE["referral"].items())))}

    assert domain.parse_referral(reordered)[1].content_sha256 == domain.parse_referral(BASE)[1].content_sha256
    assert domain.parse_referral(_with(facts="另一事实"))[1].content_sha256 != domain.parse_referral(BASE)[1].content_sha256


@pytest.mark.parametrize(("message", "code", "field"), [
    ({**BASE, "format": "yidi-court/2"}, "unsupported_format", "format"),
    ({**BASE, "type": "ruling"}, "wrong_message_type", "type"),
    ({**BASE, "message_id": ""}, "missing_field", "message_id"),
    ({**BASE, "extra": 1}, "unknown_field", "extra"),
    (_with(court_case_number=" "), "missing_field", "referral.court_case_number"),
    (_with(kind="transfer"), "invalid_field", "referral.kind"),
    (_with(referred_on="2026-02-30"), "invalid_field", "referral.referred_on"),
    (_with(deadline_on="2026-03-01"), "invalid_field", "referral.deadline_on"),
    (_with(region="枫桥镇"), "invalid_field", "referral.region"),
    (_with(claims=[]), "missing_field", "referral.claims"),
    (_with(parties=[{"role": "respondent", "name": "王志强"}]), "missing_field", "referral.parties"),
    (_with(parties=[{"role": "applicant", "name": "陈建国", "age": 56}]), "unknown_field", "referral.parties[0].age"),
    (_with(parties="陈建国"), "invalid_field", "referral.parties"),
    (_with(documents=[{"name": "起诉状.pdf", "sha256": "xyz"}]), "invalid_field", "referral.documents[0].sha256"),
    (["not", "an", "object"], "invalid_field", "$"),
])
def test_a_malformed_referral_is_refused_with_a_stable_code_and_the_field(message, code, field):
    with pytest.raises(FormatError) as refused:
        domain.parse_referral(message)

    assert (refused.value.code, refused.value.field) == (code, field)


def test_an_answer_is_parsed_and_a_ruling_needs_its_number_and_result():
    answer = domain.parse_answer(answer_message("acceptance", "court:zjfy:X:3", message_id="a-1", number="",
                                                on=date(2026, 3, 4)), expected=MessageType.ACCEPTANCE)
    assert (answer.in_reply_to, answer.number, answer.on.isoformat()) == ("court:zjfy:X:3", "", "2026-03-04")

    with pytest.raises(FormatError) as refused:
        domain.parse_answer(answer_message("ruling", "court:zjfy:X:3", message_id="r-1", number=""),
                            expected=MessageType.RULING)
    assert (refused.value.code, refused.value.field) == ("missing_field", "ruling.court_case_number")


@pytest.mark.parametrize(("outcome", "result"), [
    ("written_agreement", "agreement"), ("oral_agreement", "agreement"), ("mediation_failed", "failure"),
    ("refused_by_party", "refusal"), ("resolved_by_diversion", "other"),
])
def test_the_result_reported_to_the_court_follows_the_outcome(outcome, result):
    assert domain.result_for(outcome) == result


def test_the_idempotency_key_names_the_court_the_matter_and_the_timeline_row():
    assert domain.idempotency_key("zjfy", "330681-2026-000001", 7) == "court:zjfy:330681-2026-000001:7"
