import sys

from django.core.management.base import BaseCommand, CommandError

from yidi.linkage.actions import do_save_peer
from yidi.linkage.domain import LinkageError, PeerDirection


class Command(BaseCommand):
    requires_system_checks: list = []
    help = ("配置联动平台（可重复执行，按方向和区划代码更新）：yidi manage linkage_peer --direction above "
            "--region 3306 --name 绍兴市 --url https://… --token-stdin --client CLIENT")

    def add_arguments(self, parser):
        parser.add_argument("--direction", required=True, choices=[d.value for d in PeerDirection],
                            help="above=上级平台，below=下级平台")
        parser.add_argument("--region", required=True, help="对方的区划代码（上级：市或省；下级：6 位县级代码）")
        parser.add_argument("--name", required=True, help="对方名称，如 绍兴市")
        parser.add_argument("--url", required=True, help="对方实例的根地址")
        parser.add_argument("--token", default="", help="对方为本平台开设的接口令牌（建议用 --token-stdin）")
        parser.add_argument("--token-stdin", action="store_true", help="从标准输入读取令牌")
        parser.add_argument("--client", default="", help="对方调用本平台所用的接口客户端名称（linkage:exchange）")
        parser.add_argument("--inactive", action="store_true", help="停用")

    def handle(self, *args, **options):
        token = sys.stdin.readline().strip() if options["token_stdin"] else options["token"]
        try:
            peer, created = do_save_peer(
                direction=options["direction"], region_code=options["region"], name=options["name"],
                base_url=options["url"], token=token, client_name=options["client"],
                is_active=not options["inactive"],
            )
        except LinkageError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{'已添加' if created else '已更新'}{peer}（{peer.region_code}，{peer.base_url}）")
