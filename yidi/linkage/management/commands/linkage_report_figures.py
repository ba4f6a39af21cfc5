from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yidi.linkage.domain import LinkageError
from yidi.linkage.jobs import report_figures


class Command(BaseCommand):
    requires_system_checks: list = []
    help = "统计月度数据并上报上级平台（默认本月；每月前 5 天也补报上月）：yidi manage linkage_report_figures [--month 2026-03]"

    def add_arguments(self, parser):
        parser.add_argument("--month", default="", help="月份 YYYY-MM")

    def handle(self, *args, **options):
        try:
            reports = report_figures(options["month"] or None, today=timezone.localdate())
        except LinkageError as error:
            raise CommandError(str(error)) from None
        for report in reports:
            self.stdout.write(f"{report.month}：登记 {report.figures['registered']} 件（第 {report.sequence} 次统计）")
