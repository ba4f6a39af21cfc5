from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from yidi.backup.actions import do_restore_backup
from yidi.backup.domain import BackupError


class Command(BaseCommand):
    help = (
        "从备份文件恢复数据库与数据文件：先核对清单中每个文件的校验值，恢复后核对行数、审计日志链和个人信息解密。"
        "目标非空时须加 --force（原有数据先另存）。 / Restore a backup archive and verify the result."
    )

    # The model checks open the database, which on SQLite creates the file: a refused restore must leave nothing.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="备份文件（yidi-backup-….tar）")
        parser.add_argument("--force", action="store_true",
                            help="目标数据库或数据目录不是空的时也恢复（原有数据先另存到 DATA_DIR/restore-displaced-<时间>）")

    def handle(self, *args, archive, force=False, **options):
        try:
            report = do_restore_backup(archive, force=force)
        except BackupError as error:
            raise CommandError(f"未恢复：{error}") from None
        manifest = report.manifest
        created_at = timezone.localtime(parse_datetime(manifest["created_at"])).strftime("%Y-%m-%d %H:%M:%S")
        checked = sum(count for count, _ in report.decrypted.values())
        failed = sum(bad for _, bad in report.decrypted.values())
        audit = report.audit
        lines = [
            f"已恢复备份 {archive.name}（备份时间 {created_at}，一地 {manifest['yidi_version']}）",
            f"  数据库：{report.tables} 张表，共 {report.rows} 行；数据文件 {report.files} 个",
            f"  审计日志链：{'完好' if audit and audit.ok else '未通过'}，已校验 {audit.checked if audit else 0} 条",
            f"  个人信息解密抽查：{len(report.decrypted)} 个字段共 {checked} 个值，失败 {failed} 个",
            f"  数据库记录所指的文件：{report.file_references} 个",
            f"  用时 {report.seconds:.1f} 秒",
        ]
        if report.displaced:
            lines.append(f"  恢复前的数据库与文件已另存到：{report.displaced}")
        if report.pending_migrations:
            apps = "、".join(sorted(report.pending_migrations))
            lines.append(f"  备份早于本程序版本（{apps} 有未应用的迁移）：请接着运行 yidi manage migrate")
        if not report.ok:
            lines.append("校验未通过：")
            lines += [f"  - {problem}" for problem in report.problems]
            self.stdout.write("\n".join(lines))
            raise CommandError("恢复完成，但校验未通过（见上）：请勿投入使用，先查明原因")
        lines.append("校验通过：行数与备份清单一致，审计日志链完好，个人信息可以解密。")
        self.stdout.write("\n".join(lines))
