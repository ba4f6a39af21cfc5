"""Periodic audit jobs (django.tasks), scheduled by `yidi worker`."""

from django.tasks import task

from yidi.audit.actions import do_verify_chain, write_checkpoint


@task()
def write_checkpoint_task() -> str:
    return " ".join(f"chain{c.chain}={c.seq}" for c in write_checkpoint())


@task()
def verify_chain_task() -> str:
    result = do_verify_chain(actor=None)
    return f"ok={result.ok} checked={result.checked} chain={result.chain} first_bad={result.first_bad_seq}"
