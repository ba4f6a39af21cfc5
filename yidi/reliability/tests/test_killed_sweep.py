"""A worker killed with SIGKILL in the middle of the deadline sweep: the sweep runs again and each of its
effects happens exactly once.

Real processes on a database of their own (a SQLite file, or a PostgreSQL database `h10_…`): twelve matters
assigned on Monday 2 March 2026 are due their first 督办 steps on Wednesday morning; a real `yidi worker`, whose
clock is set to that morning (`hooks/sitecustomize.py`), claims them in one batch (`FOR UPDATE SKIP LOCKED` on
PostgreSQL) and hangs after writing the batch's clocks and 督办 cards but before its timeline rows and audit rows,
in its open transaction. The test kills it with SIGKILL; nothing of the batch is committed. A second `yidi worker`
starts at once (the dead worker's sweep, left RUNNING in the task table, must not hold the sweep back) and
finishes the job: each matter has one 督办 card, one warning and one 督办 step on its timeline, one audit row
for each, and its clock records each effect once.
"""

import signal
import time

import pytest

from yidi.reliability.tests.support import kill, manage, own_database, process_env, shell, start, wait_for

MATTERS = 12
SWEEP_AT = "2026-03-04T08:00:00+08:00"  # Wednesday morning: the sign clocks of Monday's matters are running late

SETUP = f"""
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import build_world
from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.cases import actions
from yidi.cases.builders import make_case, make_user
from yidi.core import clock

build_world()
registrar = make_user("registrar", Role.REGISTRAR, unit=Unit.objects.get(code="centre"))
dispatcher = make_user("dispatcher", Role.DISPATCHER, unit=Unit.objects.get(code="command"))
for minute in range({MATTERS}):
    with clock.at(datetime(2026, 3, 2, 9, minute, tzinfo=ZoneInfo("Asia/Shanghai"))):
        case = make_case(registrar)
        actions.do_accept_case(case.code, actor=dispatcher)
        actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code="fq-platform", handling_level="township",
                               override_reason="由调度员指定")
"""
SWEEP_ACTIONS = ("deadline_warning", "urge", "offer_diversion", "escalate")
REPORT = f"""
import json
from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseDeadline, CaseEvent, Urging
report = {{}}
for case in Case.objects.order_by("code"):
    report[case.code] = {{
        "urgings": list(Urging.objects.filter(case=case).values_list("stage", "level")),
        "events": list(CaseEvent.objects.filter(case=case, action__in={SWEEP_ACTIONS}).order_by("seq").values_list(
            "action", flat=True)),
        "audit": sorted(AuditEvent.objects.filter(object_id=case.code, action__in=[f"case.{{a}}" for a in {SWEEP_ACTIONS}])
                        .values_list("action", flat=True)),
        "applied": {{d.stage: d.applied for d in CaseDeadline.objects.filter(case=case)}},
        "seqs": list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True)),
        "version": case.version,
    }}
print(json.dumps(report))
"""


def _report(env) -> dict:
    import json

    return json.loads(shell(env, REPORT).strip().splitlines()[-1])


def _swept(report: dict) -> int:
    return sum(1 for matter in report.values() if matter["urgings"] and matter["events"])


@pytest.mark.django_db
def test_a_worker_killed_mid_sweep_leaves_the_batch_to_the_next_worker_and_no_effect_twice(tmp_path):
    with own_database(tmp_path) as database:
        env = process_env(database, tmp_path, H10_FAULT_NOW=SWEEP_AT)
        manage(env, "migrate", "--no-input")
        shell(env, SETUP)
        assert _swept(_report(env)) == 0
        hung, first_log, second_log = tmp_path / "hung", tmp_path / "worker-1.log", tmp_path / "worker-2.log"

        first = start({**env, "H10_FAULT_HANG_FILE": str(hung)}, first_log, "worker")
        try:
            wait_for(hung.exists, seconds=120, what="the first worker to be mid-batch", logs=[first_log])
            assert hung.read_text() == str(2 * MATTERS)  # the whole batch's timeline rows were about to be written
        finally:
            kill(first)
        assert first.returncode == -signal.SIGKILL
        assert _swept(_report(env)) == 0  # the killed batch left nothing: its clocks and cards were rolled back

        second = start(env, second_log, "worker")
        try:
            wait_for(lambda: _swept(_report(env)) == MATTERS, seconds=120, what="a second worker to sweep every matter",
                     logs=[first_log, second_log])
            time.sleep(2)  # anything it would do twice would show now
            report = _report(env)
        finally:
            kill(second)

    assert len(report) == MATTERS
    for code, matter in report.items():
        assert matter["urgings"] == [["sign", "yellow"]], code  # one 督办 card (yellow: a day late)
        assert matter["events"] == ["deadline_warning", "urge"], code  # one timeline step per effect
        assert matter["audit"] == ["case.deadline_warning", "case.urge"], code  # one audit row per effect
        assert matter["applied"]["sign"] == ["warn", "urge_yellow"], code  # each effect recorded once on its clock
        assert matter["seqs"] == list(range(1, matter["version"] + 1)), code  # the timeline has no gap, no repeat
