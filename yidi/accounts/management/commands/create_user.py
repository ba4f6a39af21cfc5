import getpass

from django.core.management.base import BaseCommand, CommandError

from yidi.accounts.actions import AccountError, do_create_user
from yidi.accounts.domain import ROLE_LABELS, Role


class Command(BaseCommand):
    help = "开设账号：yidi manage create_user --username U --role ROLE --unit CODE [--password P]"

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--role", action="append", required=True, choices=[r.value for r in Role],
            help="角色，可多次指定：" + "，".join(f"{r.value}={label}" for r, label in ROLE_LABELS.items()),
        )
        parser.add_argument("--unit", default="", help="所属单位代码（工作人员必填）")
        parser.add_argument("--name", default="", help="姓名")
        parser.add_argument("--password", default=None, help="不指定则交互输入")

    def handle(self, *args, **options):
        password = options["password"]
        if password is None:
            password = getpass.getpass("密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致")
        try:
            user = do_create_user(
                username=options["username"], password=password, roles=options["role"],
                unit_code=options["unit"], display_name=options["name"],
            )
        except AccountError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"已开设账号 {user.username}（{'、'.join(user.role_labels)}）")
