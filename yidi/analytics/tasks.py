"""Background tasks (django.tasks) of `yidi.analytics`, run by `yidi worker`."""

from django.tasks import task

from yidi.analytics.rollup import refresh


@task()
def refresh_rollup_task() -> str:
    """Every ten minutes or so: the daily rollup of the overview up to yesterday, with the days of changed matters
    recomputed (the first run builds it whole)."""
    return str(refresh())
