"""The auditors' pages: search, export and verify, for the audit admin only; each use is audited itself."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from yidi.audit.models import AuditEvent
from yidi.audit.tests.conftest import add_events, last_seq, tampering
from yidi.cases.builders import make_case

pytestmark = [pytest.mark.django_db, pytest.mark.urls("yidi.audit.tests.urls")]


def seqs_on_page(response) -> list[int]:
    return [int(n) for n in re.findall(r'<td data-label="序号" class="num mono">(\d+)</td>', response.content.decode())]


def test_the_auditor_finds_a_matters_registration_by_actor_action_object_date_and_outcome(client, auditor, registrar):
    case = make_case(registrar)
    add_events(3)
    today = timezone.localdate().isoformat()
    client.force_login(auditor)

    response = client.get(reverse("audit_event_list"), {
        "actor": "registrar", "action": "case.", "object_type": "case", "object_id": case.code,
        "outcome": "success", "date_from": today, "date_to": today,
    })

    assert response.status_code == 200
    html = response.content.decode()
    assert "共 1 条" in html and case.code in html and "case.register" in html and "窗口受理员" in html
    assert seqs_on_page(response) == [AuditEvent.objects.get(action="case.register", object_id=case.code).seq]


def test_a_search_that_matches_nothing_says_so(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit_event_list"), {"actor": "nobody"})
    assert response.status_code == 200 and "没有符合条件的审计记录" in response.content.decode()


def test_a_search_is_itself_audited_with_its_filters_and_row_count(client, auditor):
    add_events(4, action="test.searched")
    client.force_login(auditor)

    client.get(reverse("audit_event_list"), {"action": "test.searched", "outcome": "success"})

    event = AuditEvent.objects.latest("seq")
    assert (event.action, event.actor_username, event.actor_roles, event.object_type) == (
        "audit.search", "auditor", "auditor", "audit_log")
    assert event.data == {"filters": {"action": "test.searched", "outcome": "success"}, "rows": 4, "page": 1}


def test_results_come_fifty_to_a_page_newest_first(client, auditor):
    events = add_events(60, action="test.paged")
    client.force_login(auditor)

    first = client.get(reverse("audit_event_list"), {"action": "test.paged"})
    second = client.get(reverse("audit_event_list"), {"action": "test.paged", "page": 2})

    assert seqs_on_page(first) == [e.seq for e in reversed(events)][:50]
    assert seqs_on_page(second) == [e.seq for e in reversed(events)][50:]
    assert "共 60 条，第 2 / 2 页" in second.content.decode()
    assert "action=test.paged&amp;page=1" in second.content.decode()


def test_the_list_page_costs_the_same_queries_whatever_the_number_of_rows(client, auditor, django_assert_num_queries):
    add_events(60, action="test.counted")
    client.force_login(auditor)
    client.get(reverse("audit_event_list"))  # warm the session
    # session, user, roles, count, page; the search's own audit row (head, insert, head); the session's
    # save (savepoint, update, release: SESSION_SAVE_EVERY_REQUEST)
    with django_assert_num_queries(11):
        client.get(reverse("audit_event_list"), {"action": "test.counted"})


def test_an_inverted_date_range_is_refused_with_a_message(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit_event_list"), {"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert response.status_code == 400 and "截止日期不能早于起始日期" in response.content.decode()


def test_export_streams_the_filtered_rows_as_csv_and_is_audited(client, auditor):
    events = add_events(3, action="test.exported", reason='=HYPERLINK("http://evil")')
    add_events(2, action="test.other")
    client.force_login(auditor)

    response = client.get(reverse("audit_export"), {"action": "test.exported"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert text.startswith("\ufeff链,序号,时间,账号")
    assert [row[:2] for row in rows[1:]] == [["1", str(e.seq)] for e in reversed(events)]
    assert rows[1][7] == "test.exported" and rows[1][12] == "'=HYPERLINK(\"http://evil\")"  # no formula
    assert rows[1][13] == '{"step": 2}' and rows[1][15] == events[-1].mac
    export = AuditEvent.objects.filter(action="audit.export").get()
    assert (export.actor_username, export.data) == ("auditor", {"filters": {"action": "test.exported"}, "rows": 3})


def test_the_verify_button_reports_an_intact_chain_and_is_audited(client, auditor):
    add_events(3)
    end = last_seq()
    client.force_login(auditor)

    response = client.post(reverse("audit_verify"), follow=True)

    assert f"日志链完好：已校验 {end} 条记录（第 1–{end} 条），核对检查点与链头 1 处。" in response.content.decode()
    run = AuditEvent.objects.filter(action="audit.verify").get()
    assert (run.actor_username, run.outcome) == ("auditor", "success")


def test_the_verify_button_names_the_first_broken_row(client, auditor):
    events = add_events(5)
    with tampering():
        AuditEvent.objects.filter(seq=events[1].seq).delete()
    client.force_login(auditor)

    response = client.post(reverse("audit_verify"), follow=True)

    assert f"日志链校验未通过：第 {events[1].seq} 条记录，序号不连续（有记录被删除）。" in response.content.decode()
    assert AuditEvent.objects.filter(action="audit.verify", outcome="failed").count() == 1


def test_verification_needs_a_post(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("audit_verify")).status_code == 405


@pytest.mark.parametrize("persona", ["registrar", "dispatcher", "handler", "supervisor", "admin", "citizen"])
def test_everyone_but_the_audit_admin_gets_404_and_leaves_no_trace(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    before = last_seq()

    responses = [
        client.get(reverse("audit_event_list")),
        client.get(reverse("audit_export")),
        client.post(reverse("audit_verify")),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert last_seq() == before


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(client):
    response = client.get(reverse("audit_event_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
