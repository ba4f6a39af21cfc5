from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yidi.backup.actions import backup_dir, do_create_backup
from yidi.backup.domain import BackupError, format_size

VENDORS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class Command(BaseCommand):
    help = (
        "备份数据库、附件与生成的文书、审计检查点等数据文件，连同清单（校验值、行数、审计链头）写成一个 .tar 文件。"
        "不含 SECRET_KEY 与各类密钥，请另行保管（docs/backup.md）。 / Back up the database and data files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=None,
                            help=f"备份写入的目录（默认 {backup_dir()}，即 YIDI_BACKUP_DIR）")
        parser.add_argument("--keep", type=int, default=None,
                            help="备份成功后，目录中只保留最新的 N 份备份，更早的删除（默认不删除）")

    def handle(self, *args, output=None, keep=None, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep 须为不小于 1 的整数")
        try:
            result = do_create_backup(output_dir=output, keep=keep)
        except BackupError as error:
            raise CommandError(f"备份失败：{error}") from None
        manifest = result.manifest
        files = [name for name in manifest["files"] if name.startswith("files/")]
        database = manifest["database"]
        heads = "，".join(f"链 {head['chain']} 至第 {head['last_seq']} 条" for head in manifest["audit"]["heads"]) or "无"
        lines = [
            f"备份完成：{result.path}",
            f"  大小 {format_size(result.size)}，用时 {result.seconds:.1f} 秒",
            f"  数据库：{VENDORS.get(database['vendor'], database['vendor'])}（{database['engine_version']}），{len(manifest['row_counts'])} 张表，"
            f"共 {sum(manifest['row_counts'].values())} 行",
            f"  数据文件：{len(files)} 个（附件与文书、审计检查点及数据目录中的其他文件）",
            f"  审计链头：{heads}",
            f"  加密密钥编号：{manifest['field_encryption']['active_key_id']}（密钥本身不在备份中，请另行保管）",
        ]
        if result.deleted:
            lines.append(f"  按保留份数删除了较早的备份 {len(result.deleted)} 份：{'、'.join(result.deleted)}")
        self.stdout.write("\n".join(lines))
