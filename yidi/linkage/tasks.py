"""Background tasks (django.tasks) of 三级联动, run by `yidi worker`."""

from django.tasks import task
from django.utils import timezone

from yidi.linkage.jobs import report_figures


@task()
def report_figures_task() -> str:
    """Once a day: the month's figures to the platform above."""
    return "，".join(f"{r.month}#{r.sequence}" for r in report_figures(today=timezone.localdate())) or "未配置上级平台"
