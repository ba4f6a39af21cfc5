"""Return visits (回访): scheduled by rule from the timeline, recorded by the responsible unit, escalated when risk
remains; the worklist and its exact counts; another township's user learns nothing."""

from datetime import date

import pytest
from django.urls import reverse

from yidi.accounts.access import CaseNotFound
from yidi.audit.models import AuditEvent
from yidi.cases.domain import CaseStatus, InvalidInput
from yidi.cases.models import CaseEvent
from yidi.core import clock
from yidi.evaluation import queries, views
from yidi.evaluation.actions import do_acknowledge_risk, do_record_return_visit
from yidi.evaluation.models import Evaluation, ReturnVisit
from yidi.evaluation.tests.helpers import assert_consecutive, at, full_snapshot, hotline_matter, timeline
from yidi.mediation.builders import add_obligations, advance_mediation, make_mediator
from yidi.mediation.domain import MediationStatus
from yidi.mediation.tests.helpers import matter_in_mediation

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(registrar, dispatcher, handler):
    """A hotline matter closed on Thursday 30 April 2026, the eve of the May Day holiday (1–5 May)."""
    return hotline_matter(registrar, dispatcher, handler, when=at(2026, 4, 30, 10, 0))


def test_closing_a_hotline_matter_schedules_its_visit_the_next_working_day(closed):
    visit = ReturnVisit.objects.get(case=closed)
    assert (visit.rule.code, visit.round, visit.due_on, visit.unit.code, visit.status) == (
        "hotline_after_closing", 1, date(2026, 5, 6), "fq-platform", "scheduled")
    seq, action, actor = timeline(closed)[-1]
    assert (action, actor) == ("schedule_return_visit", "系统（评价回访）")
    event = CaseEvent.objects.get(case=closed, seq=seq)
    assert event.reason == "按规则“12345热线事项：办结后1个工作日内回访”安排回访，应于2026-05-06前完成"
    assert_consecutive(closed)


def test_a_mediated_agreement_is_visited_after_its_performance_date(registrar, dispatcher, mediator):
    wu = make_mediator(mediator, specialties=("neighbour",))
    with clock.at(at(2026, 6, 1, 9, 0)):
        case = matter_in_mediation(registrar, dispatcher, mediator)
        advance_mediation(case, MediationStatus.AGREED, actor=mediator, mediator=wu)
        assert ReturnVisit.objects.get(case=case).due_on == date(2026, 6, 8)  # no obligations yet: 7 days
        add_obligations(case, actor=mediator, due_on=date(2026, 6, 20))

    visit = ReturnVisit.objects.get(case=case)
    assert (visit.rule.code, visit.due_on, visit.unit.code) == (
        "mediation_agreement_after_performance", date(2026, 6, 21), "fy-committee")
    schedules = list(CaseEvent.objects.filter(case=case, action="schedule_return_visit").order_by("seq")
                     .values_list("data__due_on", "data__rescheduled"))
    assert schedules == [("2026-06-08", False), ("2026-06-21", True)]  # the second obligation moved nothing
    assert [a for _, a, _ in timeline(case)[-5:]] == [
        "make_agreement_effective", "schedule_return_visit", "add_obligation", "schedule_return_visit", "add_obligation"]
    assert_consecutive(case)


def test_recording_a_visit_completes_it_and_takes_the_stated_satisfaction_as_the_evaluation(closed, handler):
    visit = ReturnVisit.objects.get(case=closed)
    events, audit = CaseEvent.objects.count(), AuditEvent.objects.count()
    with clock.at(at(2026, 5, 6, 15, 0)):
        do_record_return_visit(visit.pk, actor=handler, method="phone", summary="路灯已修好，群众表示满意",
                               performance="not_applicable", satisfaction="satisfied")

    visit.refresh_from_db()
    assert (visit.status, visit.done_by, visit.satisfaction, visit.method) == ("done", handler, "satisfied", "phone")
    assert (CaseEvent.objects.count() - events, AuditEvent.objects.count() - audit) == (2, 2)
    assert [a for _, a, _ in timeline(closed)[-2:]] == ["record_return_visit", "evaluate"]
    evaluation = Evaluation.objects.get(case=closed)
    assert (evaluation.method, evaluation.result, evaluation.recorded_by) == ("return_visit", "satisfied", handler)
    closed.refresh_from_db()
    assert (closed.status, closed.evaluation) == (CaseStatus.CLOSED, "satisfied")
    assert_consecutive(closed)


def test_remaining_risk_schedules_a_follow_up_and_lists_the_matter_until_disposed(closed, handler, dispatcher,
                                                                                   supervisor):
    visit = ReturnVisit.objects.get(case=closed)
    with clock.at(at(2026, 5, 6, 15, 0)):
        do_record_return_visit(visit.pk, actor=handler, method="on_site", summary="群众对处理结果基本认可",
                               satisfaction="basically_satisfied", risk_remaining=True,
                               risk_signs="邻居扬言要拉横幅", measures="已请村干部上门做疏导工作")

    follow_up = ReturnVisit.objects.get(follow_up_of=visit)
    assert (follow_up.due_on, follow_up.status, follow_up.rule, follow_up.unit.code) == (
        date(2026, 5, 13), "scheduled", None, "fq-platform")
    risk = CaseEvent.objects.get(case=closed, action="return_visit_risk")
    assert (risk.reason, risk.actor, risk.data["follow_up_on"]) == ("邻居扬言要拉横幅", handler, "2026-05-13")
    assert [a for _, a, _ in timeline(closed)[-3:]] == ["record_return_visit", "return_visit_risk", "evaluate"]
    assert [v.pk for v in queries.list_open_risks(supervisor)] == [visit.pk]
    assert_consecutive(closed)

    with clock.at(at(2026, 5, 7, 9, 0)):
        do_acknowledge_risk(visit.pk, actor=dispatcher, measures="已通知镇综治办稳控，列入重点关注")
    assert list(queries.list_open_risks(supervisor)) == []
    visit.refresh_from_db()
    assert (visit.risk_disposed_by, visit.risk_disposal) == (dispatcher, "已通知镇综治办稳控，列入重点关注")
    assert_consecutive(closed)


def test_bad_input_and_a_second_record_are_refused_and_change_nothing(closed, handler):
    visit = ReturnVisit.objects.get(case=closed)
    before = full_snapshot(closed)
    with pytest.raises(InvalidInput, match="存在风险隐患的，请填写风险迹象"):
        do_record_return_visit(visit.pk, actor=handler, method="phone", summary="回访", risk_remaining=True)
    assert full_snapshot(closed) == before

    with clock.at(at(2026, 5, 6, 15, 0)):
        do_record_return_visit(visit.pk, actor=handler, method="phone", summary="已回访")
    after = full_snapshot(closed)
    with pytest.raises(Exception, match="该回访已回访，不能再登记"):
        do_record_return_visit(visit.pk, actor=handler, method="phone", summary="再次回访")
    assert full_snapshot(closed) == after


def test_a_user_of_another_township_gets_404_on_a_visit_and_nothing_changes(closed, outsider, client):
    visit = ReturnVisit.objects.get(case=closed)
    before = full_snapshot(closed)

    with pytest.raises(CaseNotFound):
        do_record_return_visit(visit.pk, actor=outsider, method="phone", summary="冒名回访")
    client.force_login(outsider)
    url = reverse("return_visit_record", args=[visit.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"method": "phone", "summary": "冒名回访", "performance": "full",
                             "satisfaction": "satisfied", "lawsuit": "none"}).status_code == 404
    assert client.get(reverse("return_visit_record", args=[999999])).status_code == 404

    assert full_snapshot(closed) == before
    assert queries.count_worklist(outsider) == {"today": 0, "overdue": 0, "upcoming": 0, "done": 0}


def test_the_worklist_counts_are_exact(registrar, dispatcher, handler, client):
    first = hotline_matter(registrar, dispatcher, handler, when=at(2026, 4, 30, 10, 0))  # due 6 May
    hotline_matter(registrar, dispatcher, handler, when=at(2026, 5, 6, 10, 0))  # due 7 May
    hotline_matter(registrar, dispatcher, handler, when=at(2026, 4, 28, 10, 0))  # due 29 April: overdue on 6 May
    with clock.at(at(2026, 5, 6, 9, 0)):
        assert queries.count_worklist(handler) == {"today": 1, "overdue": 1, "upcoming": 1, "done": 0}
        do_record_return_visit(ReturnVisit.objects.get(case=first).pk, actor=handler, method="phone", summary="已回访")
        assert queries.count_worklist(handler) == {"today": 0, "overdue": 1, "upcoming": 1, "done": 1}
        assert [v.due_on for v in queries.list_due_return_visits(handler)] == [date(2026, 4, 29), date(2026, 5, 7)]
        client.force_login(handler)
        response = client.get(reverse("return_visit_list") + "?tab=overdue")
    assert response.status_code == 200
    assert [t["count"] for t in response.context["tabs"]] == [0, 1, 1, 1]
    assert len(response.context["page_obj"].object_list) == 1


def test_archiving_cancels_an_open_visit(closed, dispatcher):
    from yidi.cases.actions import do_archive_case

    with clock.at(at(2026, 5, 6, 9, 0)):
        do_archive_case(closed.code, actor=dispatcher)

    visit = ReturnVisit.objects.get(case=closed)
    assert (visit.status, visit.cancel_reason, visit.cancelled_at) == (
        "cancelled", "事项已归档，未完成的回访取消", at(2026, 5, 6, 9, 0))
    assert timeline(closed)[-1][1] == "archive"  # one step, one row
    assert_consecutive(closed)


def test_the_done_tab_is_counted_up_to_the_cap_and_shown_as_more(registrar, dispatcher, handler, client, monkeypatch):
    matters = [hotline_matter(registrar, dispatcher, handler, when=at(2026, 4, 30, 10, n)) for n in range(3)]
    with clock.at(at(2026, 5, 6, 9, 0)):
        for matter in matters:
            do_record_return_visit(ReturnVisit.objects.get(case=matter).pk, actor=handler, method="phone",
                                   summary="已回访")
        assert queries.count_worklist(handler, cap=1) == {"today": 0, "overdue": 0, "upcoming": 0, "done": 2}
        assert queries.count_worklist(handler, cap=3) == {"today": 0, "overdue": 0, "upcoming": 0, "done": 3}
        monkeypatch.setattr(views, "LIST_COUNT_CAP", 2)
        client.force_login(handler)
        response = client.get(reverse("return_visit_list") + "?tab=done")

    assert [(t["count"], t["more"]) for t in response.context["tabs"]] == [(0, False), (0, False), (0, False),
                                                                           (2, True)]
    assert '已完成<span class="tabs__count">2+</span>' in response.content.decode()
    assert response.context["page_obj"].paginator.count_is_capped is True
    assert len(response.context["page_obj"].object_list) == 2


def test_each_visit_holds_its_matters_region_and_so_does_a_follow_up(closed, handler):
    visit = ReturnVisit.objects.get(case=closed)
    with clock.at(at(2026, 5, 6, 15, 0)):
        do_record_return_visit(visit.pk, actor=handler, method="on_site", summary="基本认可",
                               satisfaction="basically_satisfied", risk_remaining=True, risk_signs="扬言上访",
                               measures="村干部上门疏导")

    assert closed.region_id == "330681109290"
    assert list(ReturnVisit.objects.filter(case=closed).order_by("id").values_list("region_id", "follow_up_of")) == [
        ("330681109290", None), ("330681109290", visit.pk)]


def test_a_region_wide_worklist_holds_its_regions_visits_and_a_unit_only_visits_of_matters_it_may_read(
        closed, handler, outsider):
    visit = ReturnVisit.objects.get(case=closed)
    ReturnVisit.objects.filter(pk=visit.pk).update(unit=outsider.unit)  # another township's platform responsible

    assert list(queries.visit_scope(handler)) == [visit]  # a visit of its township, whoever is responsible
    assert list(queries.visit_scope(outsider)) == []  # its unit's, but of a matter it may not read
    assert queries.count_worklist(outsider) == {"today": 0, "overdue": 0, "upcoming": 0, "done": 0}
