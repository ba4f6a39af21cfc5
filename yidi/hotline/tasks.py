"""Background tasks (django.tasks), run by `yidi worker`."""

from django.tasks import task

from yidi.hotline.actions import do_run_hotline_import


@task()
def import_hotline_task(run_id: int) -> str:
    run = do_run_hotline_import(run_id)
    return run.status if run is not None else "already claimed"
