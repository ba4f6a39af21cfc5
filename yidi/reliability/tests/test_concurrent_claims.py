"""Twenty people act on one matter at the same moment: exactly one wins, nineteen get the clear refusal.

Real concurrency on PostgreSQL: twenty threads, each with its own connection, released together by a barrier,
each committing for real. The matter's row lock (`select_for_update` in the action) serialises them; the ones
that come after the winner find the matter already moved on and are refused by the transition table.
"""

import threading

import pytest
from django.db import connection

from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import make_case, make_user
from yidi.cases.domain import CaseStatus, IllegalTransition
from yidi.cases.models import Assignment, Case, CaseEvent
from yidi.reliability.tests.support import postgresql_only

pytestmark = [postgresql_only("twenty truly concurrent transactions (SQLite serialises writers)"), pytest.mark.postgres]
PEOPLE = 20


def all_at_once(perform, actors) -> list:
    """Run `perform(actor)` in one thread per actor, all released together; each outcome (the result or the
    exception) in the actors' order."""
    barrier, outcomes = threading.Barrier(len(actors)), [None] * len(actors)

    def run(index, actor):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = perform(actor)
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, actor)) for index, actor in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a claim hung"
    return outcomes


def _staff():
    registrar = make_user("h10-registrar", Role.REGISTRAR, unit=Unit.objects.get(code="centre"))
    dispatcher = make_user("h10-dispatcher", Role.DISPATCHER, unit=Unit.objects.get(code="command"))
    return registrar, dispatcher


def _refusals(outcomes) -> list[str]:
    return sorted({f"{type(outcome).__name__}: {outcome}" for outcome in outcomes if isinstance(outcome, Exception)})


def test_twenty_handlers_signing_one_matter_at_once_make_one_sign(real_commits):
    registrar, dispatcher = _staff()
    platform = Unit.objects.get(code="fq-platform")
    handlers = [make_user(f"h10-handler-{n:02d}", Role.HANDLER, unit=platform) for n in range(PEOPLE)]
    case = make_case(registrar)
    actions.do_accept_case(case.code, actor=dispatcher)
    actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                           override_reason="由调度员指定")
    version = Case.objects.get(pk=case.pk).version

    outcomes = all_at_once(lambda handler: actions.do_sign_case(case.code, actor=handler), handlers)

    winners = [(handler, outcome) for handler, outcome in zip(handlers, outcomes, strict=True)
               if isinstance(outcome, Case)]
    assert len(winners) == 1
    assert all(isinstance(outcome, IllegalTransition) for outcome in outcomes if not isinstance(outcome, Case))
    assert _refusals(outcomes) == ["IllegalTransition: 当前状态“已签收”下不能执行“签收”"]
    winner = winners[0][0]
    case.refresh_from_db()
    assert case.status == CaseStatus.SIGNED
    assert case.version >= version + 1
    sign = CaseEvent.objects.get(case=case, action="sign")  # exactly one
    assert (sign.actor_id, sign.from_status, sign.to_status) == (winner.pk, "assigned", "signed")
    audit = AuditEvent.objects.get(object_id=case.code, action="case.sign")  # exactly one
    assert audit.actor_id == winner.pk
    lead = Assignment.objects.get(case=case, role="lead")
    assert lead.status == "signed" and lead.signed_at <= sign.at


def test_twenty_dispatchers_assigning_one_matter_at_once_make_one_assignment(real_commits):
    registrar, first_dispatcher = _staff()
    command = Unit.objects.get(code="command")
    dispatchers = [first_dispatcher] + [
        make_user(f"h10-dispatcher-{n:02d}", Role.DISPATCHER, unit=command) for n in range(1, PEOPLE)]
    case = make_case(registrar)
    actions.do_accept_case(case.code, actor=first_dispatcher)
    # half send it to the township platform, half to the village committee: one of them wins, whole
    targets = {d.pk: ("fq-platform" if index % 2 == 0 else "fy-committee") for index, d in enumerate(dispatchers)}

    outcomes = all_at_once(
        lambda dispatcher: actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code=targets[dispatcher.pk],
                                                  override_reason="由调度员指定"),
        dispatchers,
    )

    winners = [d for d, outcome in zip(dispatchers, outcomes, strict=True) if isinstance(outcome, Case)]
    assert len(winners) == 1
    assert _refusals(outcomes) == ["IllegalTransition: 当前状态“待签收”下不能执行“交办”"]
    case.refresh_from_db()
    assert (case.status, case.lead_unit.code) == (CaseStatus.ASSIGNED, targets[winners[0].pk])
    assert list(Assignment.objects.filter(case=case).values_list("unit__code", "assigned_by_id")) == [
        (targets[winners[0].pk], winners[0].pk)]
    assert CaseEvent.objects.get(case=case, action="assign").actor_id == winners[0].pk
    assert AuditEvent.objects.get(object_id=case.code, action="case.assign").actor_id == winners[0].pk
