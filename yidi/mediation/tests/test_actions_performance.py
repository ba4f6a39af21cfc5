"""Performance of the agreement (obligations, partial performance, receipts, urging with the litigation route told)
and the parties' ratings of the mediators."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.accounts.access import ActionDenied
from yidi.cases.domain import InvalidInput, RuleViolation
from yidi.cases.models import Attachment, CaseEvent
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.mediation import actions, queries
from yidi.mediation.builders import add_obligations, advance_mediation, parties
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import Mediation, MediatorRating
from yidi.mediation.tests.helpers import at, matter_in_mediation, mediation_snapshot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def agreed(registrar, dispatcher, mediator, wu):
    case = matter_in_mediation(registrar, dispatcher, mediator, when=at(2026, 5, 4, 9, 0))
    with clock.at(at(2026, 5, 6, 10, 0)):
        advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
    return case


def states(case, today: date) -> list[str]:
    return [row.state.value for row in queries.list_obligations(Mediation.objects.get(case=case), today=today)]


def test_obligations_are_recorded_with_who_owes_what_by_when(agreed, mediator):
    counter = Counter()
    with clock.at(at(2026, 5, 6, 11, 0)):
        _, second = add_obligations(agreed, actor=mediator, due_on=date(2026, 5, 16))
    assert counter.added() == (3, 3)  # and the return visit moved once to after the due date (`yidi.evaluation`)
    assert (second.obligor, second.obligee, second.amount) == (parties(agreed)[1], parties(agreed)[0], Decimal("3000"))
    assert states(agreed, date(2026, 5, 16)) == ["pending", "pending"]
    assert CaseEvent.objects.filter(case=agreed).latest("seq").detail == (
        "当事人：王志强；义务：赔偿厨房受损费用（2026-05-16前）")


def test_an_obligation_due_before_the_agreement_is_refused(agreed, mediator):
    before = mediation_snapshot(agreed)
    with clock.at(at(2026, 5, 6, 11, 0)), pytest.raises(InvalidInput, match="履行期限不能早于协议生效日期"):
        add_obligations(agreed, actor=mediator, due_on=date(2026, 5, 1))
    assert mediation_snapshot(agreed) == before


def test_partial_then_full_performance_with_a_receipt(agreed, mediator):
    with clock.at(at(2026, 5, 6, 11, 0)):
        _, payment = add_obligations(agreed, actor=mediator, due_on=date(2026, 5, 16))
    with clock.at(at(2026, 5, 10, 10, 0)):
        counter = Counter()
        actions.do_record_performance(agreed.code, actor=mediator, obligation_id=payment.pk,
                                      performed_on=date(2026, 5, 10), amount=Decimal("1000"), note="先付一千元",
                                      is_complete=False,
                                      receipt=SimpleUploadedFile("收条.png", PNG, content_type="image/png"))
        assert counter.added() == (1, 1)
    assert states(agreed, date(2026, 5, 12)) == ["pending", "partly"]
    receipt = Attachment.objects.get(case=agreed)
    assert (receipt.original_name, receipt.content_type, receipt.description) == (
        "收条.png", "image/png", "履行凭证：赔偿厨房受损费用")
    assert CaseEvent.objects.filter(case=agreed).latest("seq").data["name"] == "收条.png"
    with clock.at(at(2026, 5, 15, 10, 0)):
        actions.do_record_performance(agreed.code, actor=mediator, obligation_id=payment.pk,
                                      performed_on=date(2026, 5, 15), amount=Decimal("2000"), note="余款付清",
                                      is_complete=True)
        with pytest.raises(RuleViolation, match="该义务已履行完毕"):
            actions.do_record_performance(agreed.code, actor=mediator, obligation_id=payment.pk,
                                          performed_on=date(2026, 5, 15), note="重复登记", is_complete=True)
    assert states(agreed, date(2026, 6, 1)) == ["overdue", "performed"]


def test_a_receipt_that_is_not_an_image_or_document_is_refused(agreed, mediator):
    with clock.at(at(2026, 5, 6, 11, 0)):
        first, _ = add_obligations(agreed, actor=mediator, due_on=date(2026, 5, 16))
        before = mediation_snapshot(agreed)
        with pytest.raises(InvalidInput, match="不支持的文件类型"):
            actions.do_record_performance(agreed.code, actor=mediator, obligation_id=first.pk,
                                          performed_on=date(2026, 5, 6), note="已拆除", is_complete=True,
                                          receipt=SimpleUploadedFile("a.exe", b"MZ\x90\x00", content_type="image/png"))
    assert mediation_snapshot(agreed) == before


def test_non_performance_past_due_is_urged_and_the_other_party_told_of_the_litigation_route(agreed, mediator):
    with clock.at(at(2026, 5, 6, 11, 0)):
        first, _ = add_obligations(agreed, actor=mediator, due_on=date(2026, 5, 16))
    with clock.at(at(2026, 5, 16, 18, 0)), pytest.raises(RuleViolation, match="该义务未逾期或已履行，无需督促"):
        actions.do_urge_performance(agreed.code, actor=mediator, obligation_id=first.pk, note="电话督促",
                                    route_told="已告知可以起诉")
    with clock.at(at(2026, 5, 18, 9, 0)):
        before = mediation_snapshot(agreed)
        with pytest.raises(InvalidInput, match="请填写已告知对方当事人的途径"):
            actions.do_urge_performance(agreed.code, actor=mediator, obligation_id=first.pk, note="电话督促",
                                        route_told="")
        assert mediation_snapshot(agreed) == before
        counter = Counter()
        urging = actions.do_urge_performance(
            agreed.code, actor=mediator, obligation_id=first.pk, note="电话督促王志强三日内拆除",
            route_told="已告知陈建国：对方仍不履行的，可以就调解协议的履行向人民法院起诉")
        assert counter.added() == (1, 1)
    assert urging.route_told.startswith("已告知陈建国")
    event = CaseEvent.objects.filter(case=agreed).latest("seq")
    assert (event.action, event.reason, event.data["route_told"]) == (
        "urge_performance", "电话督促王志强三日内拆除", "已告知陈建国：对方仍不履行的，可以就调解协议的履行向人民法院起诉")


def test_performance_before_the_agreement_takes_effect_is_refused(in_mediation, mediator, wu):
    advance_mediation(in_mediation, MediationStatus.SIGNING, actor=mediator, mediator=wu)
    with pytest.raises(RuleViolation, match="事项“办理中”时不能“登记履行义务”"):
        add_obligations(in_mediation, actor=mediator, due_on=date(2030, 1, 1))


def test_a_party_rates_the_mediator_through_someone_else_once(agreed, mediator, dispatcher, wu):
    applicant = parties(agreed)[0]
    before = mediation_snapshot(agreed)
    with pytest.raises(ActionDenied, match="调解员不能登记当事人对本人的评价"):
        actions.do_record_rating(agreed.code, actor=mediator, mediator_id=wu.pk, party_id=applicant.pk, score=5)
    assert mediation_snapshot(agreed) == before
    counter = Counter()
    actions.do_record_rating(agreed.code, actor=dispatcher, mediator_id=wu.pk, party_id=applicant.pk, score=4,
                             comment="耐心细致")
    assert counter.added() == (1, 1)
    with pytest.raises(RuleViolation, match="陈建国已评价过调解员吴调解"):
        actions.do_record_rating(agreed.code, actor=dispatcher, mediator_id=wu.pk, party_id=applicant.pk, score=5)
    with pytest.raises(InvalidInput, match="评分为 1 至 5 分"):
        actions.do_record_rating(agreed.code, actor=dispatcher, mediator_id=wu.pk, party_id=parties(agreed)[1].pk,
                                 score=6)
    stats = queries.mediator_stats([wu.pk])[wu.pk]
    assert (stats.open_mediations, stats.results, stats.agreements, stats.rating_count, stats.rating_average) == (
        0, 1, 1, 1, 4.0)
    assert MediatorRating.objects.get().comment == "耐心细致"


def test_workload_counts_open_mediations_and_the_record_leaves_refusals_out(registrar, dispatcher, mediator, wu):
    open_one = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(open_one, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    refused = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(refused, MediationStatus.AWAITING_RESPONSE, actor=mediator, mediator=wu)
    actions.do_record_refusal(refused.code, actor=mediator, party_id=parties(refused)[1].pk, reason="不同意",
                              routes_told="已告知可以起诉")
    failed = matter_in_mediation(registrar, dispatcher, mediator)
    advance_mediation(failed, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
    actions.do_record_failure(failed.code, actor=mediator, reason="分歧大", routes_told="已告知可以起诉")
    stats = queries.mediator_stats([wu.pk])[wu.pk]
    assert (stats.open_mediations, stats.results, stats.agreements, stats.success_rate) == (1, 1, 0, None)
