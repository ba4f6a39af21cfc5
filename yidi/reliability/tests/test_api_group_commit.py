"""Registrations arriving together through the API are written together, and each is answered as itself.

Real concurrency on PostgreSQL: six threads, each with its own connection and HTTP client, post six matters while
the first is being written; the five that arrive meanwhile form the next batch (one transaction). Each gets its
own matter, exactly as reading it back shows it; a key sent twice in that batch still registers once.
"""

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.models import IdempotencyRecord
from yidi.audit.models import AuditEvent
from yidi.cases import api_create
from yidi.cases.models import Case
from yidi.core.group_commit import GroupCommit
from yidi.reliability.tests.support import postgresql_only

pytestmark = [postgresql_only("requests in truly concurrent transactions (SQLite serialises writers)"),
              pytest.mark.postgres]
NEW_CASE = {
    "channel": "hotline_12345", "request_type": "complaint", "title": "拖欠工资",
    "description": "公司拖欠三个月工资共计两万元，老板拒不支付", "region": "330681109290",
    "parties": [{"role": "applicant", "name": "王小明", "phone": "13905751234"}],
}


def test_concurrent_creates_form_one_batch_and_each_gets_its_own_matter(real_commits, monkeypatch):
    _client, token = do_create_api_client(name="gc-system", unit_code="fq-platform",
                                          scopes=["cases:read", "cases:write"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    sizes: list[int] = []

    def write(items):
        sizes.append(len(items))
        if len(sizes) == 1:  # hold the first batch until the other five are queued behind it
            deadline = time.monotonic() + 30
            while len(group._queue) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
        return api_create._write(items)

    group = GroupCommit(write)
    monkeypatch.setattr(api_create, "registrations", group)
    Client().get("/api/v1/cases", **auth)  # the client's first use writes its last_used_at
    before = Case.objects.count()
    bodies = [{**NEW_CASE, "title": f"拖欠工资{n}"} for n in range(6)]
    keys = [None, None, "gc-twice", "gc-twice", None, None]
    responses: list = [None] * 6

    def run(index):
        try:
            headers = {**auth, **({"HTTP_IDEMPOTENCY_KEY": keys[index]} if keys[index] else {})}
            body = bodies[2] if index == 3 else bodies[index]  # request 3 is request 2 again, with its key
            responses[index] = Client().post("/api/v1/cases", json.dumps(body), content_type="application/json",
                                             **headers)
        except Exception as error:  # the outcome under test
            responses[index] = error
        finally:
            connection.close()

    first = threading.Thread(target=run, args=(0,))
    first.start()
    while not sizes:
        time.sleep(0.01)
    others = [threading.Thread(target=run, args=(index,)) for index in range(1, 6)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=120)

    assert [getattr(response, "status_code", response) for response in responses] == [201] * 6, responses
    assert sizes[:2] == [1, 5]
    assert responses[2].json() == responses[3].json()  # one key, one matter: the second replays the first
    codes = [response.json()["code"] for response in responses]
    assert len(set(codes)) == 5
    assert Case.objects.count() == before + 5
    titles = {response.json()["code"]: response.json()["title"] for response in responses}
    assert sorted(titles.values()) == ["拖欠工资0", "拖欠工资1", "拖欠工资2", "拖欠工资4", "拖欠工资5"]
    reader = Client()
    for response in responses:
        assert reader.get(f"/api/v1/cases/{response.json()['code']}", **auth).json() == response.json()
        assert response["ETag"] == 'W/"1"'
    assert AuditEvent.objects.filter(action="case.register", object_id__in=codes).count() == 5
    assert json.loads(IdempotencyRecord.objects.get(key="gc-twice").response)["code"] == codes[2]
