"""The task backend switched to Redis without a code change (docs/scaling.md "Background work on Redis").

`YIDI_TASK_BACKEND=django_tasks_redis.RedisTaskBackend` (the optional `redis` extra: django-tasks-redis, a backend
of Django's own `django.tasks`) is all it takes: the outbox's delivery task is queued in Redis when the step that
wrote the message commits, and a Redis worker runs it. Redis at 127.0.0.1:6379; each test uses its own key prefix
and removes its keys.
"""

import io
import json
import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.db import transaction

from yidi.integrations import actions
from yidi.integrations.domain import MessageStatus
from yidi.integrations.models import OutboxAttempt
from yidi.integrations.transports import LogTransport

REDIS_BACKEND = "django_tasks_redis.RedisTaskBackend"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_the_task_backend_is_chosen_by_the_environment_alone():
    env = {**os.environ, "YIDI_TASK_BACKEND": REDIS_BACKEND, "YIDI_ALLOW_INSECURE_KEY": "1"}
    done = subprocess.run([sys.executable, "-c", "import json, yidi.settings as s; print(json.dumps(s.TASKS))"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == {"default": {"BACKEND": REDIS_BACKEND}}


@pytest.fixture
def redis_backend(settings):
    pytest.importorskip("django_tasks_redis", reason="django-tasks-redis is not installed (pip install -e '.[redis]')")
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server answers at 127.0.0.1:6379")
    prefix = f"yidi-test-{uuid.uuid4().hex[:12]}"
    settings.TASKS = {"default": {"BACKEND": REDIS_BACKEND, "OPTIONS": {"REDIS_KEY_PREFIX": prefix}}}
    LogTransport.sent.clear()
    yield client, prefix
    LogTransport.sent.clear()
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


def run_redis_worker() -> str:
    from django_tasks_redis.management.commands.run_redis_tasks import Command

    out = io.StringIO()
    call_command(Command(), "--no-graceful-shutdown", stdout=out)  # one pass: exits when the queue is empty
    return out.getvalue()


def test_the_outbox_delivery_task_is_queued_in_redis_and_run_by_a_redis_worker(
        db, redis_backend, django_capture_on_commit_callbacks):
    client, prefix = redis_backend
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = actions.enqueue(kind="sms", destination="13805751234", text="您好，您反映的事项已受理。",
                                  idempotency_key="redis:1", subject_type="test", subject_id="1")

    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING  # queued, not run: the task waits in Redis
    assert [key.decode() for key in client.scan_iter(match=f"{prefix}*", count=500)] != []
    assert LogTransport.sent == []

    run_redis_worker()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert OutboxAttempt.objects.filter(message=message).count() == 1
    assert [sent.key for sent in LogTransport.sent] == ["redis:1"]
    assert run_redis_worker().count("Starting Redis task worker") == 1  # a second pass finds nothing to do
    assert [sent.key for sent in LogTransport.sent] == ["redis:1"]


def test_yidi_worker_schedules_on_redis_without_queueing_a_task_twice(db, redis_backend):
    from yidi import cli
    from yidi.audit.tasks import write_checkpoint_task

    assert cli._on_redis()
    assert cli._is_waiting(write_checkpoint_task) is False
    write_checkpoint_task.enqueue()
    assert cli._is_waiting(write_checkpoint_task) is True  # the scheduler leaves it be
    run_redis_worker()
    assert cli._is_waiting(write_checkpoint_task) is False


def test_yidi_worker_runs_the_redis_worker_when_redis_is_the_backend(db, redis_backend, monkeypatch):
    from django_tasks_redis.management.commands import run_redis_tasks

    from yidi import cli

    ran = []
    monkeypatch.setattr(cli, "_setup_django", lambda: None)
    monkeypatch.setattr(cli, "_schedule", lambda stop: None)
    monkeypatch.setattr(run_redis_tasks.Command, "handle", lambda self, *args, **options: ran.append(options))
    monkeypatch.setattr(cli, "_call", lambda *args: ran.append(args))
    assert cli.worker() == 0
    assert len(ran) == 1 and ran[0]["continuous"] is True
