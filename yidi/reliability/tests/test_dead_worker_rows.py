"""A periodic task claimed by a worker that has since died does not hold the task back (`yidi.cli._waiting`).

django-tasks-db never takes back a row left RUNNING by a worker killed with SIGKILL; without this the next
worker would not enqueue the deadline sweep (or the outbox drain) again for an hour. `yidi worker` names itself
`<machine>:<pid>`, so a worker on the same machine can tell that the claimer's process is gone.
"""

import os
import socket
import subprocess

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from yidi.cli import _waiting, _worker_id
from yidi.workflow.tasks import sweep_deadlines_task

pytestmark = pytest.mark.django_db
HOST = socket.gethostname()[:40]


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()  # exited and reaped: no such process any more
    return process.pid


def _running(worker_id: str) -> DBTaskResult:
    return DBTaskResult.objects.create(
        task_path=sweep_deadlines_task.module_path, args_kwargs={"args": [], "kwargs": {}}, backend_name="default",
        run_after=timezone.now(), status="RUNNING", started_at=timezone.now(), worker_ids=[worker_id])


def test_the_worker_names_itself_by_machine_and_process():
    assert _worker_id() == f"{HOST}:{os.getpid()}"


def test_a_sweep_claimed_by_a_dead_worker_on_this_machine_is_enqueued_again():
    _running(f"{HOST}:{_dead_pid()}")
    assert not _waiting(DBTaskResult, sweep_deadlines_task)


@pytest.mark.parametrize("claimer", ["live", "other machine", "unknown id"])
def test_a_sweep_claimed_by_a_live_or_unknown_worker_is_still_waited_for(claimer):
    worker_id = {"live": f"{HOST}:{os.getppid()}", "other machine": f"elsewhere-{HOST}:{_dead_pid()}",
                 "unknown id": "k2f9a8d7c6b5a4f3e2d1c0b9a8f7e6d5"}[claimer]
    _running(worker_id)
    assert _waiting(DBTaskResult, sweep_deadlines_task)


def test_a_queued_sweep_is_waited_for_even_when_a_dead_worker_left_one_running():
    _running(f"{HOST}:{_dead_pid()}")
    DBTaskResult.objects.create(task_path=sweep_deadlines_task.module_path, args_kwargs={"args": [], "kwargs": {}},
                                backend_name="default", run_after=timezone.now())
    assert _waiting(DBTaskResult, sweep_deadlines_task)
