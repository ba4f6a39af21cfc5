"""Background tasks (django.tasks) of `yidi.core`, run by `yidi worker`."""

from django.tasks import task

from yidi.core.partitions import DEFAULT_MONTHS_AHEAD, ensure_future_partitions


@task()
def ensure_partitions_task() -> str:
    """Daily: the partitions of this month and the next three exist for every partitioned table (PostgreSQL)."""
    created = ensure_future_partitions(months_ahead=DEFAULT_MONTHS_AHEAD)
    return "；".join(f"{table}: {'、'.join(names)}" for table, names in created.items()) or "无需新建分区"
