"""`do_register_cases` (the batch registration of the 12345 import) writes exactly what `do_register_case` writes."""

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction

from yidi.accounts.access import ActionDenied
from yidi.audit.models import AuditEvent
from yidi.cases.actions import do_register_case
from yidi.cases.builders import make_draft, make_party
from yidi.cases.bulk import do_register_cases
from yidi.cases.domain import InvalidInput, PartyDraft, RequestType
from yidi.cases.models import (
    Case,
    CaseDeadline,
    CaseEvent,
    CaseLabel,
    CaseParty,
    CaseTextKey,
    Contact,
    Person,
    TriageFeedback,
    Visit,
)
from yidi.core.models import CodeSequence
from yidi.integrations.models import OutboxMessage
from yidi.webhooks.models import WebhookSubscription

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
LEFT_OUT = {"id", "case_id", "person_id"}  # row ids differ between the two runs on PostgreSQL (sequences)


class _Undo(Exception):
    pass


def _rows(queryset) -> list[dict]:
    fields = [f.attname for f in queryset.model._meta.concrete_fields if f.attname not in LEFT_OUT]
    return [{name: getattr(row, name) for name in fields} for row in queryset.order_by("id")]


def _snapshot(cases: list[Case]) -> list[dict]:
    """Every row each matter has, in plain values (encrypted fields decrypted), ids left out."""
    snapshots = []
    for case in cases:
        parties = CaseParty.objects.filter(case=case)
        snapshots.append({
            "case": _rows(Case.objects.filter(pk=case.pk)),
            "parties": _rows(parties),
            "people": _rows(Person.objects.filter(pk__in=parties.values("person_id"))),
            "labels": _rows(CaseLabel.objects.filter(case=case)),
            "feedback": _rows(TriageFeedback.objects.filter(case=case)),
            "text_keys": sorted(CaseTextKey.objects.filter(case=case).values_list("key", flat=True)),
            "contacts": _rows(Contact.objects.filter(case=case)),
            "contact_person": [c.person.name if c.person else None for c in Contact.objects.filter(case=case)],
            "visits": _rows(Visit.objects.filter(case=case)),
            "deadlines": _rows(CaseDeadline.objects.filter(case=case)),
            "events": _rows(CaseEvent.objects.filter(case=case)),
            "audit": _rows(AuditEvent.objects.filter(object_type="case", object_id=case.code)),
            "outbox": _rows(OutboxMessage.objects.filter(subject_type="case", subject_id=case.code)),
        })
    return snapshots


def _undone(register) -> tuple[list[dict], list]:
    """Run `register`, snapshot what it wrote, then undo it all (the code sequence and audit chain too)."""
    kept = []
    with pytest.raises(_Undo), transaction.atomic():
        results = register()
        kept.append((_snapshot([r for r in results if isinstance(r, Case)]), results))
        raise _Undo
    return kept[0]


def _drafts():
    """A walk-in with labels and a visit, a hotline ticket the engine classifies, and a later report by a person
    of the first draft (found in the index, their blank ID number filled)."""
    known = make_draft(labels={"hotline_category": "urban_rural_construction"})
    ticket = make_draft(
        channel_code="hotline_12345", request_type=RequestType.COMPLAINT, primary_type_code="", grade="",
        complexity="", in_person=False, external_ref="ZJ12345-20260615-0001", title="拖欠工资",
        description="老板拖欠工资三个月不给，我们十几个工人没钱过年",
        parties=(PartyDraft(role="applicant", name="王小明", phone="13905751234"),),
    )
    again = make_draft(parties=(make_party("applicant", name="王志强", id_number="330681198502143313",
                                           phone="13905759876"),))
    return [known, ticket, again]


@pytest.fixture
def subscription(db):
    return WebhookSubscription.objects.create(name="区县平台", url="https://example.org/hook", secret="s" * 32,
                                              event_types=["case.registered"], region_scope="330681")


def test_a_batch_writes_exactly_what_registering_each_draft_writes(registrar, subscription):
    with time_machine.travel(NOW, tick=False):
        one_by_one, _ = _undone(lambda: [do_register_case(draft, actor=registrar) for draft in _drafts()])
        batch, _ = _undone(lambda: do_register_cases(_drafts(), actor=registrar))

    assert len(batch) == 3
    assert batch == one_by_one
    assert [len(s["outbox"]) for s in batch] == [1, 1, 1]
    assert [len(s["audit"]) for s in batch] == [1, 1, 1]
    assert batch[1]["case"][0]["primary_type_id"] is not None  # the engine's type, as registering one by one
    assert batch[2]["people"][0]["id_number"] == "330681198502143313"


def test_a_refused_draft_comes_back_in_its_place_and_spoils_nothing(registrar):
    drafts = _drafts()
    drafts.insert(1, replace(drafts[0], region_code="999999"))
    drafts.insert(2, replace(drafts[0], parties=(make_party(phone="1390575"),)))

    with time_machine.travel(NOW, tick=False):
        results = do_register_cases(drafts, actor=registrar)

    refused = [r for r in results if not isinstance(r, Case)]
    assert [type(r) for r in refused] == [InvalidInput, InvalidInput]
    assert [str(results[1]), str(results[2])] == ["未知的区划代码“999999”", "联系电话格式不正确（手机号11位，座机请加区号）"]
    registered = [r for r in results if isinstance(r, Case)]
    assert Case.objects.count() == len(registered) == len(drafts) - len(refused)
    assert [case.code[-6:] for case in registered] == [f"{n:06d}" for n in range(1, len(registered) + 1)]
    assert CodeSequence.objects.get().last_value == len(registered)
    assert CaseEvent.objects.count() == AuditEvent.objects.filter(action="case.register").count() == len(registered)


def test_an_actor_who_may_not_register_is_refused_and_nothing_is_written(handler):
    audit_rows = AuditEvent.objects.count()

    with pytest.raises(ActionDenied):
        do_register_cases(_drafts(), actor=handler)

    assert (Case.objects.count(), Person.objects.count(), AuditEvent.objects.count()) == (0, 0, audit_rows)


# --- triage started ahead ---------------------------------------------------------------------------------------


def test_triage_started_ahead_gives_what_the_engine_gives_here_and_drops_what_is_never_asked():
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date

    from yidi.cases.bulk import Triage
    from yidi.cases.triage import text_keys
    from yidi.triage.engine import TriageContext, analyse

    context = TriageContext(county_code="330681", reference_on=date(2026, 6, 10))
    texts = ["公司拖欠三个月工资共计两万元", "邻居加盖杂物间堵住共用排水沟", "网购电器质量问题商家拒绝退货"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        triage = Triage(pool, workers=2)
        triage.start([(text, context) for text in texts])
        triage.start([("下一批的诉求：承包山林边界争议", context)])  # the next batch, started while this one is written
        asked = [(texts[0], context), (texts[2], context), ("没有提前分析的一件事：楼道堆放杂物", context)]

        got = triage.analyse_many(asked)

        assert [a.to_dict() for a in got] == [analyse(text, context=c).to_dict() for text, c in asked]
        assert triage.text_keys(texts[0]) == text_keys(texts[0])
        assert [text for text, *_ in triage.ahead] == ["下一批的诉求：承包山林边界争议"]  # texts[1] dropped
