"""The staff pages, driven as a window clerk, a dispatcher and handlers would."""

import re

import pytest
from django.urls import reverse

from yidi.cases.builders import DEFAULT_PASSWORD, advance_case, make_case
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Case, CaseEvent


def login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def registration_form(**overrides):
    data = {
        "channel": "walk_in", "request_type": "mediation", "title": "枫源村两户因宅基地界址发生争执",
        "description": "来访人反映邻居翻建房屋时越过原界址约半米，双方多次争吵。", "region": "330681109290",
        "address": "枫源村5组", "occurred_at": "2026-11-20T09:30", "people_involved": "2", "amount_involved": "",
        "primary_type": "housing_homestead", "grade": "blue", "complexity": "simple", "in_person": "on",
        "parties-TOTAL_FORMS": "2", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "20",
        "parties-0-role": "applicant", "parties-0-kind": "natural", "parties-0-name": "陈建国",
        "parties-0-id_number": "330681198003150017", "parties-0-phone": "13805751234",
        "parties-0-address": "诸暨市枫桥镇枫源村5组",
        "parties-1-role": "respondent", "parties-1-kind": "natural", "parties-1-name": "王志强",
        "parties-1-id_number": "", "parties-1-phone": "", "parties-1-address": "",
    }
    data.update(overrides)
    return data


def test_login_page_is_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "用户名" in response.content.decode() and "密码" in response.content.decode()


def test_pages_need_a_login(client):
    response = client.get(reverse("case_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_clerk_registers_a_walk_in_matter_finds_it_and_opens_its_timeline(client, registrar):
    login(client, registrar)
    response = client.post(reverse("case_register"), registration_form())
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == reverse("case_detail", args=[case.code])
    assert (case.title, case.region_id, case.primary_type.code, case.visits.count()) == (
        "枫源村两户因宅基地界址发生争执", "330681109290", "housing_homestead", 1)

    listing = client.get(reverse("case_list"), {"text": "宅基地"}).content.decode()
    assert case.code in listing

    detail = client.get(reverse("case_detail", args=[case.code])).content.decode()
    assert "登记赋码" in detail and "李窗口" in detail
    assert "330***********0017" in detail and "138****1234" in detail
    assert "330681198003150017" not in detail and "13805751234" not in detail


def test_a_registration_with_errors_shows_them_per_field_and_saves_nothing(client, registrar):
    login(client, registrar)
    response = client.post(reverse("case_register"), registration_form(
        title="", **{"parties-0-id_number": "330681198003150014", "parties-0-phone": "12345"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "这个字段是必填项。" in page
    assert "身份证号码格式或校验位不正确" in page
    assert "联系电话格式不正确" in page
    assert Case.objects.count() == 0


def test_an_unknown_region_code_is_refused_not_guessed(client, registrar):
    login(client, registrar)
    response = client.post(reverse("case_register"), registration_form(region="330681999999"))
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_a_handler_of_another_township_gets_404(client, registrar, outsider):
    case = make_case(registrar)
    login(client, outsider)
    assert client.get(reverse("case_detail", args=[case.code])).status_code == 404
    response = client.post(reverse("case_action", args=[case.code, "accept"]))
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED
    assert case.code not in client.get(reverse("case_list")).content.decode()


def test_the_detail_page_offers_only_the_actions_this_user_may_take(client, registrar, dispatcher):
    case = make_case(registrar)
    login(client, dispatcher)
    page = client.get(reverse("case_detail", args=[case.code])).content.decode()
    offered = set(re.findall(r"/actions/([a-z_]+)/", page))
    assert offered == {"accept", "decline", "mark_urgent", "record_consultation"}


def test_an_action_through_the_page_writes_one_event(client, registrar, dispatcher):
    case = make_case(registrar)
    login(client, dispatcher)
    response = client.post(reverse("case_action", args=[case.code, "accept"]))
    assert response.status_code == 302
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["register", "accept"]


def test_an_action_with_a_missing_reason_shows_the_error_and_changes_nothing(client, registrar, dispatcher):
    case = make_case(registrar)
    login(client, dispatcher)
    response = client.post(reverse("case_action", args=[case.code, "decline"]), {"decline-reason": "",
                                                                                  "decline-route_told": ""})
    assert response.status_code == 400
    assert "这个字段是必填项。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


def test_an_action_the_role_may_not_take_is_refused_with_a_reason(client, registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.ASSIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    login(client, dispatcher)
    response = client.post(reverse("case_action", args=[case.code, "sign"]))
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ASSIGNED


def test_the_workbench_shows_each_role_its_queues(client, registrar, dispatcher, handler, fq_platform):
    case = advance_case(make_case(registrar), CaseStatus.ASSIGNED, dispatcher=dispatcher, handler=handler,
                        lead_unit=fq_platform)
    login(client, handler)
    page = client.get(reverse("workbench")).content.decode()
    assert "本单位待签收" in page and case.code in page


@pytest.mark.parametrize("params", [{"grade": "purple"}, {"registered_from": "2026-13-01"},
                                    {"registered_from": "2026-11-02", "registered_to": "2026-11-01"}])
def test_bad_filters_show_an_error_and_do_not_crash(client, registrar, params):
    login(client, registrar)
    response = client.get(reverse("case_list"), params)
    assert response.status_code == 200


def test_the_list_is_paginated_with_a_fixed_number_of_queries(client, registrar, django_assert_max_num_queries):
    for _ in range(25):
        make_case(registrar)
    login(client, registrar)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("case_list")).content.decode()
    assert "共 25 条，第 1 / 2 页" in page


def test_a_system_admin_sees_no_business_data(client, registrar, admin):
    case = make_case(registrar)
    client.force_login(admin)  # the log-in page would first ask an admin to enrol two-factor
    assert client.get(reverse("case_detail", args=[case.code])).status_code == 404
    assert "您的账号没有业务数据权限" in client.get(reverse("workbench")).content.decode()
