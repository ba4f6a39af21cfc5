"""The same registration submitted twice at the same moment makes one matter.

Real concurrency on PostgreSQL: two threads, each with its own connection and its own HTTP client, released
together by a barrier, through the whole request path:
- the API's create with the same `Idempotency-Key`: the key's row is inserted first, so the second request
  waits on its unique index and then replays the first answer;
- the portal's double POST of one form (same form nonce, same verified phone): the second registration finds
  the nonce taken when it inserts its submission, rolls back whole and answers with the first matter.
"""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.models import IdempotencyRecord
from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseEvent
from yidi.integrations.transports import LogTransport
from yidi.portal.models import PortalSubmission, TrackingLink
from yidi.portal.tests.conftest import PHONE, codes_sent_to, submission_data
from yidi.reliability.tests.support import postgresql_only

pytestmark = [postgresql_only("two requests in truly concurrent transactions (SQLite serialises writers)"),
              pytest.mark.postgres]
NEW_CASE = {
    "channel": "walk_in", "request_type": "mediation", "title": "枫源村两户排水沟纠纷",
    "description": "邻居加盖杂物间堵住共用排水沟，请求调解。", "region": "330681109290",
    "parties": [{"role": "applicant", "name": "陈建国", "phone": "13805751234"}],
}


def twice_at_once(request) -> list:
    """Run `request(client)` in two threads released together, each with its own client and connection."""
    barrier, responses = threading.Barrier(2), [None, None]

    def run(index):
        try:
            client = Client()
            barrier.wait(timeout=30)
            responses[index] = request(client)
        except Exception as error:  # the outcome under test
            responses[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return responses


def test_two_api_creates_with_one_idempotency_key_at_once_register_one_matter(real_commits):
    _client, token = do_create_api_client(name="h10-system", unit_code="fq-platform",
                                          scopes=["cases:read", "cases:write"])
    cases, events, audit = Case.objects.count(), CaseEvent.objects.count(), AuditEvent.objects.count()

    responses = twice_at_once(lambda client: client.post(
        "/api/v1/cases", json.dumps(NEW_CASE), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_IDEMPOTENCY_KEY="h10-double-1"))

    assert [response.status_code for response in responses] == [201, 201], responses
    assert responses[0].content == responses[1].content  # the second replays the first answer
    code = responses[0].json()["code"]
    assert Case.objects.count() == cases + 1 and Case.objects.filter(code=code).exists()
    assert CaseEvent.objects.count() - events == 1  # one registration event
    assert AuditEvent.objects.filter(action="case.register").count() == 1
    assert AuditEvent.objects.count() - audit >= 1
    record = IdempotencyRecord.objects.get(key="h10-double-1")
    assert record.status_code == 201 and json.loads(record.response)["code"] == code


def test_a_portal_form_posted_twice_at_once_registers_one_matter(real_commits):
    LogTransport.sent.clear()
    verified = Client()
    verified.post("/p/submit/phone/", {"phone": PHONE})
    verified.post("/p/verify/", {"code": codes_sent_to(LogTransport.sent, PHONE)[-1]})
    cases = Case.objects.count()

    def post(client):
        client.cookies = verified.cookies  # the same browser session: one verified phone, one form
        return client.post("/p/submit/", submission_data(nonce="h10-nonce-0001"))

    responses = twice_at_once(post)
    LogTransport.sent.clear()

    assert [(r.status_code, r["Location"]) for r in responses] == [(302, "/p/submit/done/")] * 2, responses
    assert Case.objects.count() == cases + 1
    case = PortalSubmission.objects.get(nonce="h10-nonce-0001").case
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["register"]
    assert AuditEvent.objects.filter(object_id=case.code, action="case.register").count() == 1
    assert TrackingLink.objects.filter(case=case).count() == 1
    assert case.code in verified.get("/p/submit/done/").content.decode()
