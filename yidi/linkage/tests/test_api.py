"""What another instance posts to /api/v1/linkage/: reports kept as a mirror that converges to the latest state,
assignments registered once, transfers forwarded; refusals change nothing."""

import pytest

from yidi.accounts.actions import do_create_api_client
from yidi.audit.models import AuditEvent
from yidi.cases.models import Case
from yidi.integrations.models import OutboxMessage
from yidi.linkage.domain import PeerDirection
from yidi.linkage.models import DownwardAssignment, ReceivedAssignment, ReportedCase, ReportedFigures
from yidi.linkage.tests.helpers import CITY, bearer, case_report, envelope, make_peer, matter

REPORTS = "/api/v1/linkage/reports/cases"


@pytest.fixture
def county(db):
    """Seen from the city: the county 诸暨市 is a platform below."""
    return make_peer(PeerDirection.BELOW, "330681", name="诸暨市")


def post(client, path, body, token):
    return client.post(path, body, content_type="application/json", **bearer(token))


def test_a_report_creates_the_mirror_and_a_repeat_changes_nothing(client, county):
    peer, token = county

    first = post(client, REPORTS, case_report(), token)
    again = post(client, REPORTS, case_report(), token)

    assert (first.status_code, first.json()) == (200, {"result": "applied"})
    assert (again.status_code, again.json()) == (200, {"result": "stale"})
    mirror = ReportedCase.objects.get()
    assert (mirror.peer, mirror.code, mirror.version, mirror.status, mirror.township_name) == (
        peer, "330681-2026-000001", 1, "registered", "枫桥镇")
    assert AuditEvent.objects.filter(action="linkage.receive_case_report").count() == 1


def test_out_of_order_reports_converge_to_the_latest_version(client, county):
    _peer, token = county

    post(client, REPORTS, case_report(version=3, status="assigned"), token)
    late = post(client, REPORTS, case_report(version=2, status="accepted"), token)

    assert late.json() == {"result": "stale"}
    assert ReportedCase.objects.values_list("version", "status").get() == (3, "assigned")


def test_a_matter_of_another_county_is_refused_and_nothing_is_kept(client, county):
    _peer, token = county

    response = post(client, REPORTS, case_report(code="330602-2026-000001"), token)

    assert response.status_code == 400 and response.json()["code"] == "region_mismatch"
    assert not ReportedCase.objects.exists()


def test_a_client_that_is_not_a_peer_is_refused(client, county):
    _client, token = do_create_api_client(name="stranger", unit_code="centre", scopes=["linkage:exchange"])

    response = post(client, REPORTS, case_report(), token)

    assert response.status_code == 403 and response.json()["code"] == "not_a_peer"
    assert not ReportedCase.objects.exists()


def test_unknown_fields_and_a_wrong_format_are_refused(client, county):
    _peer, token = county
    body = case_report()
    body["case"]["title"] = "含个人信息的标题"

    unknown = post(client, REPORTS, body, token)
    wrong = post(client, REPORTS, {**case_report(), "format": "yidi-linkage/9"}, token)

    assert (unknown.status_code, unknown.json()["code"]) == (400, "validation_error")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "validation_error")
    assert not ReportedCase.objects.exists()


def test_figures_keep_the_highest_sequence_of_a_month(client, county):
    _peer, token = county

    def figures(sequence, registered):
        return {**envelope("figures.report", f"k{sequence}"), "month": "2026-03", "sequence": sequence,
                "computed_at": "2026-03-31T12:00:00+00:00", "figures": {"registered": registered}}

    post(client, "/api/v1/linkage/reports/figures", figures(2, 40), token)
    stale = post(client, "/api/v1/linkage/reports/figures", figures(1, 35), token)

    assert stale.json() == {"result": "stale"}
    assert ReportedFigures.objects.values_list("sequence", "figures").get() == (2, {"registered": 40})


def test_an_assignment_from_above_is_registered_once_through_the_intake(client, db):
    peer, token = make_peer(PeerDirection.ABOVE, CITY, name="绍兴市")
    body = {**envelope("assignment", "linkage:1:assignment:7", region=CITY), "reference": "7",
            "kind": "assignment", "note": "十日内反馈", "matter": matter()}

    first = post(client, "/api/v1/linkage/assignments", body, token)
    again = post(client, "/api/v1/linkage/assignments", body, token)

    assert first.status_code == 201 and again.status_code == 200
    case = Case.objects.get()
    assert first.json() == {"case_code": case.code, "created": True}
    assert again.json() == {"case_code": case.code, "created": False}
    assert (case.channel.code, case.region_id, case.status) == ("higher_assignment", "330681109", "registered")
    origin = ReceivedAssignment.objects.get()
    assert (origin.peer, origin.reference, origin.case, origin.note) == (peer, "7", case, "十日内反馈")
    [report] = OutboxMessage.objects.filter(kind="linkage")
    assert report.payload["assignment"] == "7"


def test_an_assignment_outside_the_county_is_refused_and_registers_nothing(client, db):
    _peer, token = make_peer(PeerDirection.ABOVE, CITY, name="绍兴市")
    body = {**envelope("assignment", "linkage:1:assignment:8", region=CITY), "reference": "8",
            "kind": "assignment", "matter": matter(region="330602001")}

    response = post(client, "/api/v1/linkage/assignments", body, token)

    assert response.status_code == 400 and response.json()["field"] == "region"
    assert not Case.objects.exists() and not ReceivedAssignment.objects.exists()


def test_a_county_may_not_post_an_assignment(client, county):
    _peer, token = county
    body = {**envelope("assignment", "x"), "reference": "9", "kind": "assignment", "matter": matter()}

    response = post(client, "/api/v1/linkage/assignments", body, token)

    assert response.status_code == 403 and not Case.objects.exists()


def test_a_transfer_is_forwarded_to_the_county_named_or_answered_when_unknown(client, county):
    _peer_a, token = county
    peer_b, _ = make_peer(PeerDirection.BELOW, "330602", name="越城区")

    def request(code, to):
        return {**envelope("transfer.request", f"t-{code}"), "case": {"code": code},
                "to_region": {"code": to, "name": "越城区"}, "reason": "用工单位在越城区", "matter": matter()}

    forwarded = post(client, "/api/v1/linkage/transfers", request("330681-2026-000005", "330602"), token)
    repeated = post(client, "/api/v1/linkage/transfers", request("330681-2026-000005", "330602"), token)
    unknown = post(client, "/api/v1/linkage/transfers", request("330681-2026-000006", "330110"), token)

    assert forwarded.json()["status"] == "sent" and repeated.json() == forwarded.json()
    assert unknown.json()["status"] == "refused"
    sent = DownwardAssignment.objects.get(source_code="330681-2026-000005")
    assert (sent.peer, sent.kind, sent.to_region_code) == (peer_b, "transfer", "330602")
    messages = {m.template: m for m in OutboxMessage.objects.filter(kind="linkage")}
    assert messages["assignment"].payload["source"]["code"] == "330681-2026-000005"
    assert "陈建国" not in str(messages["assignment"].payload)  # the content stays in its encrypted row
    assert messages["transfer.result"].payload["status"] == "refused"
