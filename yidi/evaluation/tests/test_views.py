"""The evaluation pages: who opens them, the record form, the supervisor's and dispatcher's lists."""

import pytest
from django.urls import reverse

from yidi.core import clock
from yidi.evaluation.actions import do_evaluate_by_citizen
from yidi.evaluation.models import ReturnVisit
from yidi.evaluation.tests.helpers import at, full_snapshot, hotline_matter

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(registrar, dispatcher, handler):
    return hotline_matter(registrar, dispatcher, handler, when=at(2026, 4, 30, 10, 0))


def test_the_record_form_records_the_visit_and_bad_input_keeps_everything(closed, handler, client):
    visit = ReturnVisit.objects.get(case=closed)
    url = reverse("return_visit_record", args=[visit.pk])
    client.force_login(handler)
    assert client.get(url).status_code == 200
    before = full_snapshot(closed)

    bad = client.post(url, {"method": "phone", "performance": "full", "satisfaction": "satisfied", "lawsuit": "none",
                            "summary": "回访", "risk_remaining": "on"})
    assert bad.status_code == 400
    assert "存在风险隐患的，请填写风险迹象" in bad.content.decode()
    assert full_snapshot(closed) == before

    with clock.at(at(2026, 5, 6, 15, 0)):
        done = client.post(url, {"method": "phone", "performance": "not_applicable", "satisfaction": "satisfied",
                                 "lawsuit": "none", "summary": "群众表示满意"})
    assert done.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "done"


def test_a_dispatcher_reads_the_worklist_but_cannot_record(closed, dispatcher, client):
    visit = ReturnVisit.objects.get(case=closed)
    client.force_login(dispatcher)
    assert client.get(reverse("return_visit_list")).status_code == 200
    page = client.get(reverse("return_visit_record", args=[visit.pk]))
    assert page.status_code == 200 and page.context["form"] is None
    before = full_snapshot(closed)
    assert client.post(reverse("return_visit_record", args=[visit.pk]), {"method": "phone", "summary": "x"}
                       ).status_code == 404
    assert full_snapshot(closed) == before


def test_the_supervisor_sees_dissatisfied_evaluations_awaiting_review(closed, citizen, supervisor, handler, client,
                                                                        settings):
    settings.YIDI_EVALUATION_MAX_AUTO_REOPENS = 0
    with clock.at(at(2026, 5, 2, 9, 0)):
        do_evaluate_by_citizen(closed.code, actor=citizen, evaluation="dissatisfied", note="排水沟仍然堵塞")
    client.force_login(supervisor)
    response = client.get(reverse("evaluation_dissatisfied"))
    assert response.status_code == 200
    assert [e.case.code for e in response.context["page_obj"].object_list] == [closed.code]
    assert "待督查研判" in response.content.decode()
    client.force_login(handler)
    assert client.get(reverse("evaluation_dissatisfied")).status_code == 404
    assert client.get(reverse("return_visit_risks")).status_code == 404
