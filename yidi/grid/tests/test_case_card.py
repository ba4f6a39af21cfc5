"""Finding a matter by its code and working on it from the phone: follow-up, on-the-spot result, visits."""

import re

import pytest
from django.urls import reverse

from yidi.accounts import access
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case, make_draft
from yidi.cases.tests.helpers import Counter, snapshot
from yidi.grid import actions
from yidi.grid.tests.helpers import disguised_photo, photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def fengyuan_case(registrar):
    return make_case(registrar)


@pytest.fixture
def jiyang_case(registrar):
    return make_case(registrar, region_code="330681001001", address="江东社区")


@pytest.mark.parametrize("typed", ["{code}", " {spaced} ", "{fullwidth}", "{digits}"])
def test_a_typed_code_in_any_usual_form_opens_the_matter_card(client, grid_worker, fengyuan_case, typed):
    code = fengyuan_case.code
    variants = {"code": code, "spaced": code.replace("-", " - "), "digits": code.replace("-", ""),
                "fullwidth": code.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))}
    client.force_login(grid_worker)

    response = client.get(reverse("grid_find"), {"code": typed.format(**variants)})

    assert response.status_code == 302 and response["Location"] == reverse("grid_case", args=[code])


def test_an_unknown_code_and_another_townships_code_get_the_same_answer(client, grid_worker, jiyang_case):
    client.force_login(grid_worker)
    before = snapshot(jiyang_case)
    unknown = jiyang_case.code[:-6] + "999999"

    other = client.get(reverse("grid_find"), {"code": jiyang_case.code})
    missing = client.get(reverse("grid_find"), {"code": unknown})

    assert other.status_code == missing.status_code == 200
    assert "未找到该事项" in other.content.decode()
    assert _page(other, jiyang_case.code) == _page(missing, unknown)
    card_other = client.get(reverse("grid_case", args=[jiyang_case.code]))
    card_missing = client.get(reverse("grid_case", args=[unknown]))
    assert card_other.status_code == card_missing.status_code == 404
    follow = client.post(reverse("grid_follow_up", args=[jiyang_case.code]), {"follow_up-note": "上门查看"})
    assert follow.status_code == 404
    assert snapshot(jiyang_case) == before


def test_the_card_shows_status_lead_unit_masked_parties_and_the_last_steps(client, grid_worker, fengyuan_case):
    client.force_login(grid_worker)

    page = client.get(reverse("grid_case", args=[fengyuan_case.code])).content.decode()

    assert "已登记" in page and "尚未交办" in page and "登记赋码" in page
    assert "陈**" in page and "138****1234" in page and "13805751234" not in page
    assert "群众到访" in page and "1 次，共跑 1 地" in page


def test_a_follow_up_by_code_writes_one_event_and_one_audit_row(client, grid_worker, fengyuan_case):
    client.force_login(grid_worker)
    counter = Counter()

    response = client.post(reverse("grid_follow_up", args=[fengyuan_case.code]),
                           {"follow_up-note": "已上门走访，双方情绪平稳，约定下周再协商"})

    assert response.status_code == 302
    assert counter.added() == (1, 1)
    event = fengyuan_case.events.order_by("-seq").first()
    assert (event.action, event.reason, event.actor_unit.code, event.to_status) == (
        "grid_follow_up", "已上门走访，双方情绪平稳，约定下周再协商", "fy-committee", "registered")


def test_a_follow_up_with_photos_stores_them_and_a_disguised_one_stores_nothing(client, grid_worker, fengyuan_case):
    client.force_login(grid_worker)
    before = snapshot(fengyuan_case)

    refused = client.post(reverse("grid_follow_up", args=[fengyuan_case.code]),
                          {"follow_up-note": "现场照片", "follow_up-photos": [photo(), disguised_photo()]})

    assert refused.status_code == 400 and "文件内容不是照片" in refused.content.decode()
    assert "现场照片" in refused.content.decode()  # the note is kept
    assert snapshot(fengyuan_case) == before
    client.post(reverse("grid_follow_up", args=[fengyuan_case.code]),
                {"follow_up-note": "现场照片", "follow_up-photos": [photo()]})
    assert list(fengyuan_case.events.order_by("seq").values_list("action", flat=True))[-2:] == [
        "grid_follow_up", "add_attachment"]
    assert fengyuan_case.attachments.get().description == "网格员跟进照片"


def test_the_on_spot_form_shows_only_on_a_registered_matter_of_the_workers_unit(client, grid_worker, fengyuan_case):
    client.force_login(grid_worker)
    own = actions.do_report_grid_matter(actions.GridReport(draft=make_draft(in_person=False)), actor=grid_worker)

    assert "登记现场调解结果" in client.get(reverse("grid_case", args=[own.code])).content.decode()
    assert "登记现场调解结果" not in client.get(reverse("grid_case", args=[fengyuan_case.code])).content.decode()


def test_the_on_spot_attempt_on_another_units_matter_is_refused_and_changes_nothing(client, grid_worker, fengyuan_case):
    client.force_login(grid_worker)
    before = snapshot(fengyuan_case)

    response = client.post(reverse("grid_on_spot", args=[fengyuan_case.code]),
                           {"on_spot-result": "attempted", "on_spot-summary": "未化解"})

    assert response.status_code == 403
    assert snapshot(fengyuan_case) == before


def test_the_card_records_an_on_spot_attempt_then_refuses_a_second_result_after_acceptance(
    client, grid_worker, dispatcher, fengyuan_case,
):
    own = actions.do_report_grid_matter(actions.GridReport(draft=make_draft(in_person=False)), actor=grid_worker)
    client.force_login(grid_worker)

    client.post(reverse("grid_on_spot", args=[own.code]),
                {"on_spot-result": "attempted", "on_spot-summary": "双方分歧大"})
    case_actions.do_accept_case(own.code, actor=dispatcher)
    before = snapshot(own)
    late = client.post(reverse("grid_on_spot", args=[own.code]),
                       {"on_spot-result": "resolved", "on_spot-outcome": "oral_agreement", "on_spot-summary": "和解"})

    assert late.status_code == 409 and "事项已受理" in late.content.decode()
    assert snapshot(own) == before
    assert own.events.filter(action="record_on_spot_attempt").count() == 1


def test_the_card_records_an_agreement_reached_later_on_the_spot(client, grid_worker, fengyuan_case):
    own = actions.do_report_grid_matter(actions.GridReport(draft=make_draft(in_person=False)), actor=grid_worker)
    client.force_login(grid_worker)

    response = client.post(reverse("grid_on_spot", args=[own.code]), {
        "on_spot-result": "resolved", "on_spot-outcome": "written_agreement", "on_spot-summary": "签订书面协议"})

    own.refresh_from_db()
    assert response.status_code == 302
    assert (own.status, own.outcome, own.lead_unit.code) == ("concluded", "written_agreement", "fy-committee")


def test_a_visit_recorded_on_the_card_counts_for_the_matter(client, grid_worker, fengyuan_case):
    client.force_login(grid_worker)

    response = client.post(reverse("grid_record_visit", args=[fengyuan_case.code]),
                           {"visit-place": "枫源村便民服务中心", "visit-purpose": "补充材料"})

    assert response.status_code == 302
    assert list(fengyuan_case.visits.order_by("id").values_list("place", "unit__code")) == [
        ("诸暨市社会矛盾纠纷调处化解中心", "centre"), ("枫源村便民服务中心", "fy-committee")]


def test_follow_up_is_refused_to_a_handler_by_the_action_too(handler, fengyuan_case):
    before = snapshot(fengyuan_case)

    with pytest.raises(access.ActionDenied):
        actions.do_record_grid_follow_up(fengyuan_case.code, actor=handler, note="查看")

    assert snapshot(fengyuan_case) == before



def _page(response, code: str) -> str:
    """The page without what differs by request (the CSRF token) and with the typed code blanked."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|<meta name="csrf-token" content="[^"]+"', "",
                  response.content.decode())
    return page.replace(code, "CODE")
