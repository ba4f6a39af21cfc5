"""Periodic account jobs (django.tasks), scheduled daily by `yidi worker`."""

from django.tasks import task

from yidi.accounts.actions import purge_idempotency_records
from yidi.accounts.auth import do_disable_inactive_accounts, purge_login_counters


@task()
def disable_inactive_accounts_task() -> str:
    disabled = do_disable_inactive_accounts()
    purged = purge_login_counters()
    answers = purge_idempotency_records()
    return f"停用长期未登录账号 {len(disabled)} 个，清理过期登录计数 {purged} 条、过期接口幂等记录 {answers} 条"
