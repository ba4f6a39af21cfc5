"""The database connection dies in the middle of an action: the action is all or nothing.

PostgreSQL: right after the action's first INSERT into a chosen table, a second connection terminates the
action's backend (`pg_terminate_backend`), as a crash of the server process or an administrator would. SQLite:
the next statement after that INSERT fails with `OperationalError` (a disk I/O error). Either way the action
raises the driver's error, nothing of it is in the database — no matter, no party, no event, no audit row, the
code sequence not advanced — and the next action works on a fresh connection.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection

from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import make_case, make_user
from yidi.cases.domain import CaseStatus
from yidi.cases.models import Assignment, Case, CaseEvent, CaseParty, Contact, RoutingRecord
from yidi.core.models import CodeSequence
from yidi.reliability.tests.support import is_postgresql, postgresql_only, terminate_backend


@contextmanager
def connection_dies_after_insert_into(table: str) -> Iterator[list[str]]:
    """Kill this connection right after the first INSERT into `table`; yields the statements run after the kill
    (the one that found the connection dead)."""
    state = {"fired": False, "failed": False}
    after: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if state["fired"]:
            after.append(sql.split()[0].upper())
            if not is_postgresql and not state["failed"]:  # one statement fails, as a disk I/O error would
                state["failed"] = True
                raise OperationalError("disk I/O error")
        result = execute(sql, params, many, context)
        if not state["fired"] and sql.startswith(f'INSERT INTO "{table}"'):
            state["fired"] = True
            if is_postgresql:
                terminate_backend(connection.connection.info.backend_pid)
        return result

    with connection.execute_wrapper(wrapper):
        yield after
    assert state["fired"], f"the action never inserted into {table}"


def counts(code: str) -> dict:
    """What an action may add, and the last number of the code sequence `code` (a matter's code) came from."""
    prefix, year, _number = code.rsplit("-", 2)
    return {
        "cases": Case.objects.count(), "parties": CaseParty.objects.count(), "contacts": Contact.objects.count(),
        "events": CaseEvent.objects.count(), "audit": AuditEvent.objects.count(),
        "assignments": Assignment.objects.count(), "routings": RoutingRecord.objects.count(),
        "sequence": CodeSequence.objects.get(prefix=prefix, year=int(year)).last_value,
    }


def _registration_dies_and_then_works(registrar) -> None:
    code = make_case(registrar).code  # the sequence row exists: the failed registration must not move it
    before = counts(code)

    with pytest.raises(OperationalError), connection_dies_after_insert_into("cases_caseparty") as after:
        make_case(registrar)

    assert after  # the action went on after the kill and found the connection dead
    assert counts(code) == before  # nothing of it: no matter, party, contact, event, audit row; no code used
    case = make_case(registrar)  # the next action works (on a new connection after a kill)
    assert int(case.code.rsplit("-", 1)[1]) == before["sequence"] + 1  # no gap in the codes
    assert counts(code) == {**before, "cases": before["cases"] + 1, "parties": before["parties"] + 2,
                        "contacts": before["contacts"] + 1, "events": before["events"] + 1,
                        "audit": before["audit"] + 1, "sequence": before["sequence"] + 1}


def _assignment_dies_and_then_works(registrar, dispatcher) -> None:
    case = make_case(registrar)
    actions.do_accept_case(case.code, actor=dispatcher)
    version = Case.objects.get(pk=case.pk).version  # after what the acceptance set off once committed (its SMS)
    before = counts(case.code)

    with pytest.raises(OperationalError), connection_dies_after_insert_into("cases_assignment"):
        actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                               co_unit_codes=("fy-committee",), override_reason="由调度员指定")

    assert counts(case.code) == before
    case.refresh_from_db()
    assert (case.status, case.lead_unit_id, case.version) == (CaseStatus.ACCEPTED, None, version)
    case = actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                                  co_unit_codes=("fy-committee",), override_reason="由调度员指定")
    assert (case.status, case.lead_unit.code, case.version) == (CaseStatus.ASSIGNED, "fq-platform", version + 1)
    assert list(case.assignments.values_list("unit__code", "role").order_by("id")) == [
        ("fq-platform", "lead"), ("fy-committee", "co")]
    after = counts(case.code)
    assert (after["assignments"], after["routings"]) == (before["assignments"] + 2, before["routings"] + 1)
    # one step, one event, one audit row (the texts the step sends once committed add their own)
    assert CaseEvent.objects.filter(case=case, action="assign").count() == 1
    assert AuditEvent.objects.filter(object_id=case.code, action="case.assign").count() == 1


@postgresql_only("terminates the action's backend with pg_terminate_backend (the SQLite variant is below)")
@pytest.mark.postgres
def test_a_registration_whose_backend_is_terminated_mid_way_leaves_nothing(real_commits):
    _registration_dies_and_then_works(make_user("h10-registrar", Role.REGISTRAR, unit=Unit.objects.get(code="centre")))


@postgresql_only("terminates the action's backend with pg_terminate_backend (the SQLite variant is below)")
@pytest.mark.postgres
def test_an_assignment_whose_backend_is_terminated_mid_way_leaves_nothing(real_commits):
    registrar = make_user("h10-registrar", Role.REGISTRAR, unit=Unit.objects.get(code="centre"))
    dispatcher = make_user("h10-dispatcher", Role.DISPATCHER, unit=Unit.objects.get(code="command"))
    _assignment_dies_and_then_works(registrar, dispatcher)


@pytest.mark.skipif(is_postgresql, reason="the PostgreSQL variant terminates the backend instead (above)")
@pytest.mark.django_db
def test_a_registration_failing_mid_way_on_sqlite_leaves_nothing(registrar):
    _registration_dies_and_then_works(registrar)


@pytest.mark.skipif(is_postgresql, reason="the PostgreSQL variant terminates the backend instead (above)")
@pytest.mark.django_db
def test_an_assignment_failing_mid_way_on_sqlite_leaves_nothing(registrar, dispatcher):
    _assignment_dies_and_then_works(registrar, dispatcher)
