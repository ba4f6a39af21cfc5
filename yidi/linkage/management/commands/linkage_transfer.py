from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yidi.accounts.access import ActionDenied, CaseNotFound
from yidi.cases.domain import IllegalTransition, RuleViolation
from yidi.linkage.actions import do_request_transfer
from yidi.linkage.domain import LinkageError


class Command(BaseCommand):
    requires_system_checks: list = []
    help = "申请跨区域移交（以某工作人员身份）：yidi manage linkage_transfer --case CODE --to 330602 --to-name 越城区 --reason … --user U"

    def add_arguments(self, parser):
        parser.add_argument("--case", required=True)
        parser.add_argument("--to", required=True, help="接收县（市、区）的 6 位区划代码")
        parser.add_argument("--to-name", required=True)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--user", required=True, help="申请人账号（登记员或调度员）")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"账号“{options['user']}”不存在或已停用")
        try:
            transfer = do_request_transfer(options["case"], actor=user, to_region_code=options["to"],
                                           to_region_name=options["to_name"], reason=options["reason"])
        except (LinkageError, ActionDenied, CaseNotFound, IllegalTransition, RuleViolation) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"事项 {transfer.case.code} 已不予受理，并报请上级平台移交{transfer.to_region_name}")
