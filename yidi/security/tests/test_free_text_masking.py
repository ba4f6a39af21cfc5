"""Numbers typed into free text (a description, a contact summary, a reason) are masked on the page like the
fields are (PI-03): the suite-wide leak scan would fail these tests otherwise."""

import pytest
from django.urls import reverse

from yidi.cases import actions
from yidi.cases.builders import make_case

pytestmark = pytest.mark.django_db
ID, PHONE, OTHER_PHONE = "330681199003154418", "13805751234", "13905759876"


def test_a_description_contact_and_reason_with_numbers_are_shown_masked(client, registrar, dispatcher):
    case = make_case(registrar, description=f"来访人陈建国（身份证 {ID}，电话 {PHONE}）反映邻居堵塞排水沟，请求调解。")
    actions.do_add_contact(case.code, actor=registrar, channel_code="phone", summary=f"回电 {OTHER_PHONE}，约定周五来访")
    actions.do_decline_case(case.code, actor=dispatcher, reason=f"已电话（{PHONE}）告知不属受理范围",
                            route_told="可向诸暨市人民法院起诉")
    client.force_login(dispatcher)

    body = client.get(reverse("case_detail", args=[case.code])).content.decode()

    assert ID not in body and PHONE not in body and OTHER_PHONE not in body
    assert "身份证 330***********4418" in body and "电话 138****1234" in body and "回电 139****9876" in body
    assert "已电话（138****1234）告知不属受理范围" in body
