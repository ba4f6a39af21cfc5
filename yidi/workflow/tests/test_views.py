from django.urls import reverse

from yidi.cases.models import Case
from yidi.workflow.jobs import sweep_deadlines
from yidi.workflow.tests.test_sweep import at, register_and_assign


def test_a_supervisor_sees_the_urging_list_and_the_overdue_counts(client, registrar, dispatcher, supervisor):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    client.force_login(supervisor)
    page = client.get(reverse("urging_list")).content.decode()
    assert case.code in page and "黄牌督办" in page and "系统自动" in page
    overdue = client.get(reverse("overdue")).content.decode()
    assert "枫桥镇综治工作平台" in overdue and "?lead_unit=fq-platform&amp;deadline=overdue" in overdue
    listing = client.get(reverse("case_list"), {"lead_unit": "fq-platform", "deadline": "overdue"}).content.decode()
    assert case.code in listing and "共 1 件" in listing


def test_the_overdue_drill_down_lists_exactly_the_overdue_matters(client, registrar, dispatcher, supervisor):
    late = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    fresh = register_and_assign(registrar, dispatcher, at(2026, 3, 4, 9, 0))
    client.force_login(supervisor)
    listing = client.get(reverse("case_list"), {"deadline": "overdue"}).content.decode()
    assert late.code in listing and fresh.code not in listing
    assert Case.objects.get(pk=late.pk).deadline_state == "overdue"


def test_handlers_cannot_open_the_supervision_pages(client, handler):
    client.force_login(handler)
    assert client.get(reverse("urging_list")).status_code == 404
    assert client.get(reverse("overdue")).status_code == 404
