from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yidi.accounts.auth import totp_code, totp_step
from yidi.accounts.models import TwoFactorDevice
from yidi.cases.demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "演示环境：显示演示账号当前的两步验证码（只对使用公开演示密钥的账号有效）。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        device = TwoFactorDevice.objects.filter(user__username=options["username"]).first()
        if device is None or device.secret != DEMO_TOTP_SECRET:
            raise CommandError("该账号没有使用演示密钥，无法显示验证码")
        self.stdout.write(totp_code(DEMO_TOTP_SECRET, totp_step(timezone.now())))
