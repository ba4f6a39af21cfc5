"""Background tasks (django.tasks) of the outbox, run by `yidi worker`."""

from django.tasks import task

from yidi.integrations.jobs import deliver_due


@task()
def deliver_message_task(message_id: int) -> str:
    """Deliver one message right after the transaction that wrote it committed."""
    return str(deliver_due(ids=[message_id]))


@task()
def deliver_outbox_task() -> str:
    """The periodic drain: every due message (retries, and any whose immediate task was lost)."""
    return str(deliver_due())
