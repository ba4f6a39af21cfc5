from django.core.management.base import BaseCommand, CommandError

from yidi.core.crypto import get_field_cipher
from yidi.core.personal import do_rotate_field_keys


class Command(BaseCommand):
    help = (
        "用当前密钥（FIELD_ENCRYPTION_KEYS 的第一个）和当前算法（FIELD_CIPHER）重新加密全部个人信息字段，"
        "并加密遗留的明文。可重复执行；--dry-run 只统计不写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只统计，不写入")
        parser.add_argument("--batch-size", type=int, default=500, help="每批行数（默认 500）")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size 必须大于 0")
        cipher = get_field_cipher()
        dry_run = options["dry_run"]
        self.stdout.write(
            f"当前算法 {cipher.provider}，当前密钥 {cipher.keys.active_key_id()}{'（演练，不写入）' if dry_run else ''}"
        )
        reports = do_rotate_field_keys(batch_size=options["batch_size"], dry_run=dry_run)
        for report in reports:
            line = (
                f"{report.label}: 非空 {report.values}，已是当前密钥 {report.current}，"
                f"旧密钥或旧算法 {report.stale}，明文 {report.clear_text}"
            )
            if not dry_run:
                line += f"，已重新加密 {report.rewritten}"
            self.stdout.write(line)
        failed = [(report.label, pk) for report in reports for pk in report.failed_ids]
        total = sum(report.rewritten if not dry_run else report.pending for report in reports)
        self.stdout.write(f"{'待处理' if dry_run else '合计重新加密'} {total} 个值")
        if failed:
            shown = "、".join(f"{label}#{pk}" for label, pk in failed[:20])
            raise CommandError(
                f"{len(failed)} 个值无法解密（密钥环中缺少其密钥或数据被篡改），未改动：{shown}"
            )
