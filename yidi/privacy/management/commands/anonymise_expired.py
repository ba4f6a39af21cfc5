from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from yidi.privacy.jobs import anonymise_expired


class Command(BaseCommand):
    help = "对超过保存期限的事项做个人信息匿名化处理。默认只试运行（列出将处理的事项），加 --commit 才真正执行。"

    def add_arguments(self, parser):
        parser.add_argument("--commit", action="store_true", help="真正执行匿名化（不可撤销）")

    def handle(self, *args, commit=False, **options):
        report = anonymise_expired(dry_run=not commit)
        for item in report.found:
            self.stdout.write(
                f"{item.code}  {item.record_type.label}  自{item.record_type.start_label}"
                f"（{timezone.localtime(item.retention_started_at):%Y-%m-%d}）起保存 {item.retention_years} 年，已到期"
            )
        self.stdout.write(str(report))
        if report.failures:
            raise CommandError(f"{report.failures} 件事项匿名化失败，详见日志；下次运行会重试")
