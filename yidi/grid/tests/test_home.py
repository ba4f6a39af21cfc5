"""The grid worker's home page: the three big buttons and exactly their unit's tasks; who may open the pages."""

import pytest
from django.urls import reverse

from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case, make_draft
from yidi.cases.models import Case
from yidi.grid import actions
from yidi.grid.domain import OnSpotResult

pytestmark = pytest.mark.django_db


def _report(worker, title, **kwargs):
    return actions.do_report_grid_matter(
        actions.GridReport(draft=make_draft(title=title, in_person=False), **kwargs), actor=worker)


def test_home_lists_exactly_the_units_open_reports_the_matters_it_leads_and_its_due_return_visits(
    client, grid_worker, registrar, dispatcher, handler,
):
    open_report = _report(grid_worker, "上报一：排水沟纠纷")
    resolved = _report(grid_worker, "上报二：当场化解", result=OnSpotResult.RESOLVED, outcome="oral_agreement",
                       summary="当场和解")
    closed = _report(grid_worker, "上报三：已办结", result=OnSpotResult.RESOLVED, outcome="oral_agreement",
                     summary="当场和解")
    case_actions.do_close_case(closed.code, actor=dispatcher)
    led = make_case(registrar, title="交办一：本村调委会主办")
    case_actions.do_accept_case(led.code, actor=dispatcher)
    case_actions.do_assign_case(led.code, actor=dispatcher, lead_unit_code="fy-committee", override_reason="就地化解")
    elsewhere = make_case(registrar, title="交办二：镇平台主办")
    case_actions.do_accept_case(elsewhere.code, actor=dispatcher)
    case_actions.do_assign_case(elsewhere.code, actor=dispatcher, lead_unit_code="fq-platform",
                                override_reason="由镇平台办理")
    make_case(registrar, title="未交办：窗口登记")
    client.force_login(grid_worker)

    response = client.get(reverse("grid_home"))

    page = response.content.decode()
    context = response.context
    assert [c.code for c in context["reported"]] == [resolved.code, open_report.code]
    assert [c.code for c in context["assigned"]] == [led.code]
    # `yidi.evaluation` schedules a return visit at the on-the-spot agreement and at closing, due within 7 days
    assert [duty.code for duty in context["return_visits"]] == [resolved.code, closed.code]
    for duty in context["return_visits"]:  # each opens its record form
        assert f'href="{reverse("return_visit_record", args=[duty.visit_id])}"' in page
    for text in ("上报事项", "输入或扫码查事项", "回访任务", open_report.code, resolved.code, led.code):
        assert text in page
    assert elsewhere.code not in page
    assert Case.objects.count() == 6


def test_the_home_page_queries_do_not_grow_with_the_number_of_matters(
    client, grid_worker, django_assert_max_num_queries,
):
    for number in range(6):
        _report(grid_worker, f"上报{number}")
    client.force_login(grid_worker)
    client.get(reverse("grid_home"))  # warm the per-process caches (calendar)

    with django_assert_max_num_queries(20):
        response = client.get(reverse("grid_home"))

    assert len(response.context["reported"]) == 6


def test_a_village_committee_clerk_uses_the_grid_pages(client, village_clerk):
    client.force_login(village_clerk)

    assert client.get(reverse("grid_home")).status_code == 200
    assert client.get(reverse("grid_report")).status_code == 200


def test_a_centre_clerk_is_sent_to_the_workbench(client, registrar):
    client.force_login(registrar)

    response = client.get(reverse("grid_report"))

    assert response.status_code == 302 and response["Location"] == reverse("workbench")


@pytest.mark.parametrize("persona", ["handler", "dispatcher", "supervisor", "citizen", "admin"])
def test_other_roles_get_404_and_a_report_registers_nothing(client, request, persona):
    from yidi.grid.tests.helpers import report_form

    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("grid_home")).status_code == 404
    assert client.post(reverse("grid_report"), report_form()).status_code == 404
    assert Case.objects.count() == 0


def test_the_navigation_offers_the_grid_pages_to_grid_workers_only(client, grid_worker, handler):
    client.force_login(grid_worker)
    assert "网格员工作台" in client.get(reverse("workbench")).content.decode()
    client.force_login(handler)
    assert "网格员工作台" not in client.get(reverse("workbench")).content.decode()
