"""Deadlines on real matters and the deadline sweep: warnings, 督办, escalation, extensions, idempotency."""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.cases.domain import CaseStatus, RuleViolation
from yidi.cases.models import Case, CaseDeadline, CaseEvent, Urging
from yidi.core import clock
from yidi.workflow.jobs import sweep_deadlines

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def register_and_assign(registrar, dispatcher, when: datetime, **overrides) -> Case:
    with clock.at(when):
        case = make_case(registrar, **overrides)
        actions.do_accept_case(case.code, actor=dispatcher)
        return actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform",
                                      handling_level="township", override_reason="由调度员指定")


def running(case: Case, stage: str) -> CaseDeadline:
    return CaseDeadline.objects.get(case=case, stage=stage, met_at=None, cancelled_at=None)


def test_the_sign_clock_counts_a_make_up_saturday_before_spring_festival(registrar, dispatcher):
    case = register_and_assign(registrar, dispatcher, at(2026, 2, 13, 10, 0))
    assert running(case, "sign").due_at == at(2026, 2, 14, 23, 59, 59)
    assert case.deadline_policy == "people_mediation"


def test_a_matter_assigned_on_the_make_up_saturday_is_due_after_the_holiday(registrar, dispatcher):
    case = register_and_assign(registrar, dispatcher, at(2026, 2, 14, 10, 0))
    assert running(case, "sign").due_at == at(2026, 2, 24, 23, 59, 59)


def test_national_day_moves_a_hotline_sign_deadline_past_the_holiday(registrar, dispatcher):
    case = register_and_assign(registrar, dispatcher, at(2026, 9, 30, 16, 0), channel_code="hotline_12345",
                               request_type="complaint")
    assert case.deadline_policy == "hotline_12345_complaint"
    assert running(case, "sign").due_at == at(2026, 10, 8, 23, 59, 59)


def test_signing_meets_the_sign_clock_and_the_matter_carries_its_soonest_deadline(registrar, dispatcher, handler):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 15, 0)):
        case = actions.do_sign_case(case.code, actor=handler)
    sign = CaseDeadline.objects.get(case=case, stage="sign")
    assert sign.met_at == at(2026, 3, 2, 15, 0)
    handle = running(case, "handle")
    assert handle.due_at == at(2026, 4, 1, 23, 59, 59)  # 30 calendar days from acceptance
    case.refresh_from_db()
    assert (case.due_at, case.deadline_state) == (handle.due_at, "green")
    assert case.next_deadline_at == handle.yellow_at


def test_an_overdue_sign_gets_a_warning_and_a_yellow_card_once(registrar, dispatcher):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    result = sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    assert (result.processed, result.effects, result.failures) == (1, 2, 0)
    urging = Urging.objects.get(case=case)
    assert (urging.level, urging.stage, urging.unit.code, urging.issued_by) == ("yellow", "sign", "fq-platform", None)
    assert list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))[-2:] == [
        "deadline_warning", "urge"]
    again = sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    assert (again.processed, again.effects) == (0, 0)
    later = sweep_deadlines(now=at(2026, 3, 4, 18, 0))
    assert later.effects == 0
    assert Urging.objects.filter(case=case).count() == 1


def test_five_working_days_overdue_raises_the_card_to_red(registrar, dispatcher):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    result = sweep_deadlines(now=at(2026, 3, 10, 9, 0))  # due 3 Mar; 5 working days overdue on 10 Mar
    assert result.effects == 1
    assert list(Urging.objects.filter(case=case).order_by("issued_at").values_list("level", flat=True)) == [
        "yellow", "red"]


def test_an_overdue_handling_is_escalated_back_to_the_command_desk(registrar, dispatcher, handler):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_sign_case(case.code, actor=handler)
        actions.do_start_handling(case.code, actor=handler, mode="mediation")
    sweep_deadlines(now=at(2026, 4, 7, 9, 0))  # due 1 Apr, 6 days overdue
    case.refresh_from_db()
    assert (case.status, case.lead_unit, case.handling_level) == (CaseStatus.ACCEPTED, None, "county")
    event = CaseEvent.objects.filter(case=case, action="escalate").get()
    assert (event.actor, event.actor_name) == (None, "系统（期限巡检）")
    handle = CaseDeadline.objects.filter(case=case, stage="handle").order_by("id")
    assert [(d.started_at, d.cancelled_at) for d in handle] == [
        (at(2026, 3, 2, 9, 0), at(2026, 4, 7, 9, 0)),  # the township's clock ends with the escalation
        (at(2026, 4, 7, 9, 0), None),  # the county gets the full month from the escalation
    ]
    assert running(case, "handle").due_at == at(2026, 5, 7, 23, 59, 59)
    case.refresh_from_db()
    assert (case.due_at, case.deadline_state) == (at(2026, 5, 7, 23, 59, 59), "green")


def test_an_expired_labour_mediation_tells_the_worker_about_arbitration(registrar, dispatcher, handler):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0), primary_type_code="labour")
    assert case.deadline_policy == "labour_mediation"
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_sign_case(case.code, actor=handler)
    sweep_deadlines(now=at(2026, 3, 18, 9, 0))  # 15 days from registration ended on 17 Mar
    offer = CaseEvent.objects.get(case=case, action="offer_diversion")
    assert offer.data["stage"] == "handle" and offer.data["route"]


def test_an_approved_extension_moves_the_deadline(registrar, dispatcher, handler):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_sign_case(case.code, actor=handler)
    with clock.at(at(2026, 3, 20, 10, 0)):
        actions.do_request_extension(case.code, actor=handler, stage="handle", days=10, reason="需等待伤情鉴定结果")
        actions.do_decide_extension(case.code, actor=dispatcher, approve=True)
    assert running(case, "handle").due_at == at(2026, 4, 11, 23, 59, 59)


def test_an_extension_after_the_deadline_is_refused_with_the_date(registrar, dispatcher, handler):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_sign_case(case.code, actor=handler)
    with clock.at(at(2026, 4, 2, 10, 0)), pytest.raises(RuleViolation, match="已超过办理期限（2026-04-01 23:59）"):
        actions.do_request_extension(case.code, actor=handler, stage="handle", days=10, reason="来不及")
    assert running(case, "handle").extension_days == 0


def test_a_pause_moves_the_deadline_by_its_length(registrar, dispatcher, handler):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_sign_case(case.code, actor=handler)
    with clock.at(at(2026, 3, 10, 10, 0)):
        actions.do_pause_deadline(case.code, actor=handler, stage="handle", reason="委托伤情鉴定")
    case.refresh_from_db()
    assert case.next_deadline_at is None
    with clock.at(at(2026, 3, 15, 10, 0)):
        actions.do_resume_deadline(case.code, actor=handler, stage="handle")
    assert running(case, "handle").due_at == at(2026, 4, 6, 23, 59, 59)


def test_a_failing_matter_is_retried_later_and_the_others_go_on(registrar, dispatcher, monkeypatch):
    first = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    second = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 30))
    real = actions.do_apply_deadline_effects

    def flaky(cases, *, now):
        if any(case.pk == first.pk for case in cases):
            raise RuntimeError("boom")
        return real(cases, now=now)

    monkeypatch.setattr(actions, "do_apply_deadline_effects", flaky)
    result = sweep_deadlines(now=at(2026, 3, 4, 8, 0))
    assert (result.processed, result.failures) == (1, 1)
    first.refresh_from_db()
    assert first.next_deadline_at == at(2026, 3, 4, 8, 15)
    assert Urging.objects.filter(case=second).count() == 1 and Urging.objects.filter(case=first).count() == 0


def test_an_idle_sweep_does_nothing(registrar, dispatcher):
    register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    result = sweep_deadlines(now=at(2026, 3, 2, 12, 0))
    assert (result.processed, result.effects, result.failures) == (0, 0, 0)


def test_the_management_command_runs_one_sweep(registrar, dispatcher, capsys):
    from django.core.management import call_command

    register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    call_command("sweep_deadlines")
    assert "处理事项 1 件" in capsys.readouterr().out


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="SKIP LOCKED claims need PostgreSQL; SQLite serialises writers instead")
def test_two_workers_sweeping_at_once_never_process_a_matter_twice(django_db_setup, django_db_blocker):
    """Real commits from two threads with their own connections. Not a `transaction=True` test (its flush would
    empty the county loaded once per test database): the test removes what it wrote, audit rows included."""
    import threading

    from django.db import connection, connections, transaction

    from yidi.accounts.domain import Role
    from yidi.accounts.models import Unit, User
    from yidi.audit.testing import restore_heads, snapshot_heads
    from yidi.cases.builders import make_user
    from yidi.cases.models import CaseParty, Person
    from yidi.core.models import CodeSequence
    from yidi.integrations.models import OutboxMessage

    with django_db_blocker.unblock():
        heads = snapshot_heads()
        sequences = list(CodeSequence.objects.values_list("pk", "last_value"))
        users = [
            make_user("sweep-registrar", Role.REGISTRAR, unit=Unit.objects.get(code="centre")),
            make_user("sweep-dispatcher", Role.DISPATCHER, unit=Unit.objects.get(code="command")),
        ]
        cases = [register_and_assign(users[0], users[1], at(2026, 3, 2, 9, i)) for i in range(30)]
        results, barrier = [], threading.Barrier(2)

        def work():
            try:
                barrier.wait()
                results.append(sweep_deadlines(now=at(2026, 3, 4, 8, 0), batch_size=5))
            finally:
                connections.close_all()

        try:
            threads = [threading.Thread(target=work) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sum(r.processed for r in results) == 30
            assert sum(r.effects for r in results) == 60
            assert all(Urging.objects.filter(case=case).count() == 1 for case in cases)
        finally:
            with transaction.atomic():
                people = list(CaseParty.objects.filter(case__in=cases).values_list("person_id", flat=True))
                # the texts the steps queued (`yidi.notify`) name the matters by code, not by a foreign key
                OutboxMessage.objects.filter(subject_type="case", subject_id__in=[c.code for c in cases]).delete()
                Case.objects.filter(pk__in=[case.pk for case in cases]).delete()
                Person.objects.filter(pk__in=people).delete()
                CodeSequence.objects.exclude(pk__in=[pk for pk, _ in sequences]).delete()
                for pk, value in sequences:
                    CodeSequence.objects.filter(pk=pk).update(last_value=value)
                restore_heads(heads)
                User.objects.filter(username__startswith="sweep-").delete()
            connection.close()


def test_an_overdue_matter_already_returned_to_the_command_desk_is_warned_not_escalated(
    registrar, dispatcher, handler
):
    case = register_and_assign(registrar, dispatcher, at(2026, 3, 2, 9, 0))
    with clock.at(at(2026, 3, 2, 10, 0)):
        actions.do_sign_case(case.code, actor=handler)
        actions.do_return_case(case.code, actor=handler, reason="不属于本平台职责")

    result = sweep_deadlines(now=at(2026, 4, 7, 9, 0))  # the handling clock ran out on 1 Apr

    assert result.failures == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURNED
    assert not CaseEvent.objects.filter(case=case, action="escalate").exists()
    skipped = CaseEvent.objects.get(case=case, action="deadline_warning", data__escalation_skipped=True)
    assert skipped.reason.endswith("（事项已回退至指挥中心待重新交办，不再上报提级）")
    assert sweep_deadlines(now=at(2026, 4, 7, 9, 5)).effects == 0  # applied once
