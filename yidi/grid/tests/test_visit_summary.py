"""跑一地: how many times the person came in person and to how many different places, on the staff page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.cases.queries import visit_summary

pytestmark = pytest.mark.django_db


def test_visits_count_once_each_and_places_by_unit_or_by_the_place_named(registrar, handler, grid_worker):
    case = make_case(registrar)  # in person at the centre's window: visit 1, place "centre"
    actions.do_record_visit(case.code, actor=registrar, place="矛调中心窗口", purpose="补交材料")  # same unit
    actions.do_record_visit(case.code, actor=handler, place="枫桥镇综治中心", purpose="参加调解")  # a second place
    actions.do_record_visit(case.code, actor=grid_worker, place="枫源村便民服务中心")  # a third place
    actions.do_record_visit(case.code, actor=handler, place="枫桥镇综治中心 ", purpose="签协议")  # fq-platform again

    summary = visit_summary(case)

    assert (summary.count, summary.places) == (5, 3)
    assert [(v.place, v.unit.code, v.recorded_by.display_name) for v in summary.visits] == [
        ("诸暨市社会矛盾纠纷调处化解中心", "centre", "李窗口"),
        ("矛调中心窗口", "centre", "李窗口"),
        ("枫桥镇综治中心", "fq-platform", "钱承办"),
        ("枫源村便民服务中心", "fy-committee", "冯网格"),
        ("枫桥镇综治中心", "fq-platform", "钱承办"),
    ]


def test_visits_without_a_unit_count_by_the_place_named(registrar):
    case = make_case(registrar, in_person=False)
    for place in ("县信访局", "县信访局", " 县信访局", "市中院"):
        case.visits.create(place=place, visited_at=case.registered_at, recorded_by=registrar)

    assert (visit_summary(case).count, visit_summary(case).places) == (4, 2)


def test_the_staff_page_says_how_many_places_the_person_went_to(client, registrar, handler):
    case = make_case(registrar)
    actions.do_record_visit(case.code, actor=handler, place="枫桥镇综治中心", purpose="参加调解")
    client.force_login(registrar)

    page = client.get(reverse("case_detail", args=[case.code])).content.decode()

    assert "群众到访 <strong>2</strong> 次，共跑 <strong>2</strong> 地" in page
    assert "枫桥镇综治中心 · 参加调解" in page and "登记人：钱承办（枫桥镇综治工作平台）" in page


def test_a_matter_handled_wholly_online_shows_zero_visits(client, registrar):
    case = make_case(registrar, in_person=False)
    client.force_login(registrar)

    page = client.get(reverse("case_detail", args=[case.code])).content.decode()

    assert "零跑（全程网上办理）" in page


def test_the_staff_page_query_count_does_not_grow_with_visits(client, registrar, handler):
    case = make_case(registrar)
    client.force_login(registrar)
    client.get(reverse("case_detail", args=[case.code]))  # warm the per-process caches
    with CaptureQueriesContext(connection) as one_visit:
        client.get(reverse("case_detail", args=[case.code]))
    for number in range(4):
        actions.do_record_visit(case.code, actor=handler, place=f"地点{number}")

    with CaptureQueriesContext(connection) as five_visits:
        client.get(reverse("case_detail", args=[case.code]))

    assert len(five_visits) == len(one_visit)
