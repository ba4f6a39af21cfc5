from django.core.management.base import BaseCommand, CommandError

from yidi.accounts.actions import AccountError, do_revoke_api_client


class Command(BaseCommand):
    help = "吊销接口客户端的令牌：yidi manage revoke_api_client --name N"

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)

    def handle(self, *args, **options):
        try:
            client = do_revoke_api_client(options["name"])
        except AccountError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"已吊销接口客户端 {client.name} 的令牌（{client.token_prefix}…）")
