"""`yidi manage implementation_report --region 330681 --from 2026-01-01 --to 2026-03-31 [--format pdf] [--output F]`:
write the implementation report (落实情况报告) for oversight bodies; a thin wrapper of `yidi.analytics.report`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yidi.analytics.report import FORMATS, ReportError, do_generate_report


class Command(BaseCommand):
    help = "生成矛调工作实施情况报告（.docx 或 PDF）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--region", default="", help="区划代码（县或乡镇），如 330681")
        parser.add_argument("--from", dest="starts_on", default="", help="开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="ends_on", default="", help="结束日期 YYYY-MM-DD（含当天）")
        parser.add_argument("--format", dest="fmt", default="docx", help="docx（默认）或 pdf")
        parser.add_argument("--output", default="", help="输出文件；默认按区划和期间命名，写在当前目录")

    def handle(self, *args, region: str, starts_on: str, ends_on: str, fmt: str, output: str, **options) -> None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise CommandError(f"格式“{fmt[:10]}”不支持，只能是 docx 或 pdf")
        try:
            content, _content_type, filename = do_generate_report(
                actor=None, region_code=region, starts_on=starts_on, ends_on=ends_on, fmt=fmt, via="command")
        except ReportError as error:
            raise CommandError(str(error)) from None
        target = Path(output) if output else Path(filename)
        if target.is_dir():
            target = target / filename
        try:
            target.write_bytes(content)
        except OSError as error:
            raise CommandError(f"无法写入文件 {target}：{error.strerror}") from None
        self.stdout.write(f"已生成 {target}（{len(content)} 字节）")
