from django.core.management.base import BaseCommand

from yidi.accounts.auth import do_disable_inactive_accounts, get_policy


class Command(BaseCommand):
    help = "停用长期未登录的账号（天数见 YIDI_INACTIVE_ACCOUNT_DAYS，默认 90 天），每个账号写一条审计记录。可重复执行。"

    def handle(self, *args, **options):
        days = get_policy().inactive_account_days
        if days <= 0:
            self.stdout.write("未启用自动停用（YIDI_INACTIVE_ACCOUNT_DAYS=0）。")
            return
        disabled = do_disable_inactive_accounts()
        if disabled:
            self.stdout.write(f"已停用 {len(disabled)} 个超过 {days} 天未登录的账号：{'、'.join(disabled)}")
        else:
            self.stdout.write(f"没有超过 {days} 天未登录的账号。")
