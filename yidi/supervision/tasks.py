"""Background tasks (django.tasks), run by `yidi worker`."""

from django.tasks import task

from yidi.supervision.jobs import detect_risks


@task()
def detect_risks_task() -> str:
    return str(detect_risks())
