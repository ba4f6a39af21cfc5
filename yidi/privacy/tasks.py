"""Background tasks (django.tasks), run by `yidi worker`."""

from django.tasks import task

from yidi.privacy.jobs import anonymise_expired


@task()
def anonymise_expired_task() -> str:
    return str(anonymise_expired())
