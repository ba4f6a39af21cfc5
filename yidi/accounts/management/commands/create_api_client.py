from django.core.management.base import BaseCommand, CommandError

from yidi.accounts.actions import AccountError, do_create_api_client
from yidi.accounts.api_auth import dispatches
from yidi.accounts.models import ApiScope


class Command(BaseCommand):
    help = (
        "开设接口客户端：yidi manage create_api_client --name N --unit CODE --scopes cases:read reference:read。"
        "客户端以本单位窗口受理员和部门承办人的身份办理；持“交办”（cases:assign）权限的调度单位客户端在交办、办结、"
        "重办、加急、会商、审批延期时另以指挥调度员身份办理。"
    )

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
        if ApiScope.CASES_ASSIGN in client.scopes and dispatches(client.unit.kind):
            self.stdout.write("交办、办结、重办、加急、会商、审批延期时以指挥调度员身份办理")
        elif ApiScope.CASES_ASSIGN in client.scopes:
            self.stdout.write("该单位不是调度单位：“交办”（cases:assign）权限只用于申请、接收和拒收转办")
        self.stdout.write("令牌只显示这一次，请妥善保存（系统只保存其摘要）：")
        self.stdout.write(token)
