"""Background tasks (django.tasks), run by `yidi worker`."""

from django.tasks import task

from yidi.workflow.jobs import sweep_deadlines


@task()
def sweep_deadlines_task() -> str:
    return str(sweep_deadlines())
