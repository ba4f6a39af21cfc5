"""The county side of a cross-region transfer, its answer, a failed assignment, and the pages."""

import pytest

from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_case
from yidi.cases.domain import IllegalTransition
from yidi.cases.models import CaseEvent
from yidi.integrations.models import OutboxMessage
from yidi.linkage.actions import do_assign_down, do_receive_transfer_result, do_request_transfer, on_delivery
from yidi.linkage.domain import LinkageError, PeerDirection
from yidi.linkage.models import DownwardAssignment, ReportedCase, TransferRequest
from yidi.linkage.tests.helpers import CITY, make_peer, matter


@pytest.fixture
def upstream(db):
    return make_peer(PeerDirection.ABOVE, CITY, name="绍兴市")[0]


def transfer(case, actor, **overrides):
    values = {"to_region_code": "330602", "to_region_name": "越城区", "reason": "用工单位在越城区"}
    return do_request_transfer(case.code, actor=actor, **{**values, **overrides})


def test_a_transfer_declines_the_matter_with_the_route_told_and_asks_the_platform_above(upstream, registrar):
    case = make_case(registrar)

    request = transfer(case, registrar)

    case.refresh_from_db()
    assert case.status == "not_accepted"
    event = CaseEvent.objects.get(case=case, action="decline")
    assert event.data == {"route_told": "已报请上级平台移交越城区社会矛盾纠纷调处化解中心办理，请留意其联系"}
    assert (request.peer, request.to_region_code, request.status) == (upstream, "330602", "requested")
    sent = OutboxMessage.objects.get(template="transfer.request")
    assert sent.payload["to_region"] == {"code": "330602", "name": "越城区"} and "matter" not in sent.payload
    assert AuditEvent.objects.filter(action="linkage.request_transfer", object_id=case.code).count() == 1


@pytest.mark.parametrize(("overrides", "field"), [({"to_region_code": "3306"}, "to_region_code"),
                                                  ({"to_region_code": "330681"}, "to_region_code"),
                                                  ({"reason": " "}, "reason")])
def test_a_bad_transfer_request_changes_nothing(upstream, registrar, overrides, field):
    case = make_case(registrar)

    with pytest.raises(LinkageError) as error:
        transfer(case, registrar, **overrides)

    assert error.value.field == field
    case.refresh_from_db()
    assert case.status == "registered" and not TransferRequest.objects.exists()


def test_an_accepted_matter_cannot_be_transferred_across_regions(upstream, registrar, dispatcher):
    from yidi.cases.actions import do_accept_case

    case = make_case(registrar)
    do_accept_case(case.code, actor=dispatcher)

    with pytest.raises(IllegalTransition):
        transfer(case, dispatcher)

    assert not TransferRequest.objects.exists()


def test_without_a_platform_above_no_transfer_is_possible(registrar):
    case = make_case(registrar)

    with pytest.raises(LinkageError) as error:
        transfer(case, registrar)

    assert error.value.code == "no_upstream"


def test_the_answer_links_the_other_countys_code_once(upstream, registrar):
    case = make_case(registrar)
    transfer(case, registrar)
    answer = {"source_code": case.code, "status": "forwarded", "destination_code": "330602-2026-000009"}

    do_receive_transfer_result(upstream, answer, actor=None)
    do_receive_transfer_result(upstream, answer, actor=None)

    request = TransferRequest.objects.get()
    assert (request.status, request.destination_code) == ("forwarded", "330602-2026-000009")
    assert AuditEvent.objects.filter(action="linkage.receive_transfer_result").count() == 1


def test_a_finally_failed_assignment_is_marked_and_kept_visible(db):
    peer, _ = make_peer(PeerDirection.BELOW, "330681", name="诸暨市")
    assignment = do_assign_down(peer.pk, actor=None, matter=matter())
    message = OutboxMessage.objects.get(template="assignment")
    message.status, message.last_error = "failed", "PermanentDeliveryError: 接收方拒绝（HTTP 400）"

    on_delivery(message, False)

    assignment.refresh_from_db()
    assert (assignment.status, assignment.problem) == ("failed", "PermanentDeliveryError: 接收方拒绝（HTTP 400）")


def test_a_dispatcher_cannot_assign_to_a_county_outside_the_units_region(db, dispatcher):
    peer, _ = make_peer(PeerDirection.BELOW, "330602", name="越城区")

    with pytest.raises(LinkageError) as error:
        do_assign_down(peer.pk, actor=dispatcher, matter=matter(region="330602001"))

    assert error.value.code == "forbidden" and not DownwardAssignment.objects.exists()


def test_the_overview_and_a_platforms_page_show_the_mirror_without_personal_data(client, supervisor, db):
    peer, _ = make_peer(PeerDirection.BELOW, "330681", name="诸暨市")
    ReportedCase.objects.create(
        peer=peer, code="330681-2026-000001", version=2, status="accepted", status_label="待交办",
        region_code="330681109", township_code="330681109", township_name="枫桥镇",
        registered_at="2026-03-10T01:00:00Z", changed_at="2026-03-10T02:00:00Z", received_at="2026-03-10T02:00:01Z")
    client.force_login(supervisor)

    home = client.get("/linkage/")
    page = client.get(f"/linkage/peers/{peer.pk}/")

    assert home.status_code == 200 and "诸暨市" in home.content.decode()
    assert page.status_code == 200 and "330681-2026-000001" in page.content.decode()


def test_a_platform_page_outside_the_users_region_is_not_found(client, supervisor, db):
    peer, _ = make_peer(PeerDirection.BELOW, "330602", name="越城区")
    client.force_login(supervisor)

    assert client.get(f"/linkage/peers/{peer.pk}/").status_code == 404


def test_a_registrar_transfers_from_the_matters_linkage_page(client, upstream, registrar, outsider):
    case = make_case(registrar)
    client.force_login(registrar)

    page = client.get(f"/linkage/cases/{case.code}/")
    bad = client.post(f"/linkage/cases/{case.code}/transfer/", {"to_region_code": "33", "to_region_name": "越城区",
                                                                 "reason": "x"})
    done = client.post(f"/linkage/cases/{case.code}/transfer/", {"to_region_code": "330602",
                                                                  "to_region_name": "越城区", "reason": "在越城区"})

    assert page.status_code == 200 and "申请跨区域移交" in page.content.decode()
    assert bad.status_code == 400
    assert done.status_code == 302 and TransferRequest.objects.get().case == case
    client.force_login(outsider)
    assert client.get(f"/linkage/cases/{case.code}/").status_code == 404
