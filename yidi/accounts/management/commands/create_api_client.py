from django.core.management.base import BaseCommand, CommandError

from yidi.accounts.actions import AccountError, do_create_api_client
from yidi.accounts.models import ApiScope


class Command(BaseCommand):
    help = "开设接口客户端：yidi manage create_api_client --name N --unit CODE --scopes cases:read reference:read"

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="客户端名称（小写字母、数字和“-”）")
        parser.add_argument("--unit", required=True, help="代表的单位代码")
        parser.add_argument(
            "--scopes", nargs="+", required=True, choices=ApiScope.values,
            help="权限范围：" + "，".join(f"{value}={label}" for value, label in ApiScope.choices),
        )

    def handle(self, *args, **options):
        try:
            client, token = do_create_api_client(name=options["name"], unit_code=options["unit"], scopes=options["scopes"])
        except AccountError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"已开设接口客户端 {client.name}（{client.unit.name}；{' '.join(client.scopes)}）")
        self.stdout.write("令牌只显示这一次，请妥善保存（系统只保存其摘要）：")
        self.stdout.write(token)
