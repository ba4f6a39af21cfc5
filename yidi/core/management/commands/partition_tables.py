"""`manage.py partition_tables`: convert the timeline, the audit log and the contacts into monthly partitions on
PostgreSQL, and create the coming months' partitions (the steps: `yidi.core.partitions`; docs/scaling.md)."""

from django.core.management.base import BaseCommand, CommandError

from yidi.core import partitions


class Command(BaseCommand):
    help = ("把事件（cases_caseevent）、审计（audit_auditevent）、反映记录（cases_contact）转换为按月分区表"
            "（仅 PostgreSQL），并建好未来几个月的分区。已是分区表的只补建分区。--dry-run 只列出将执行的语句。")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只列出步骤和语句，不改动数据库")
        parser.add_argument("--months-ahead", type=int, default=partitions.DEFAULT_MONTHS_AHEAD,
                            help=f"预建本月之后几个月的分区（默认 {partitions.DEFAULT_MONTHS_AHEAD}）")
        parser.add_argument("--table", action="append", choices=sorted(partitions.SPECS),
                            help="只处理这张表（可重复；默认三张都处理）")
        parser.add_argument("--batch-size", type=int, default=partitions.DEFAULT_BATCH_SIZE,
                            help=f"每批复制的行数（默认 {partitions.DEFAULT_BATCH_SIZE}）")
        parser.add_argument("--drop-old", action="store_true",
                            help="转换成功后删除原表（默认保留为 <表名>__unpartitioned，核对后自行删除）")

    def handle(self, *args, **options):
        if options["months_ahead"] < 0 or options["months_ahead"] > 24:
            raise CommandError("--months-ahead 必须在 0 到 24 之间")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size 必须大于 0")
        dry_run = options["dry_run"]
        for table in options["table"] or list(partitions.SPECS):
            try:
                result = partitions.convert_table(
                    partitions.SPECS[table], months_ahead=options["months_ahead"], batch_size=options["batch_size"],
                    dry_run=dry_run, drop_old=options["drop_old"], progress=self.stdout.write)
            except partitions.PartitionError as error:
                raise CommandError(str(error)) from None
            if dry_run:
                self.stdout.write(f"== {table}：{result.rows} 行，{len(result.months)} 个月份分区 + 默认分区（演练）")
                for step in result.steps:
                    self.stdout.write(f"  {step}")
            elif result.done:
                self.stdout.write(self.style.SUCCESS(
                    f"{table}：已转换为 {len(result.months)} 个月份分区 + 默认分区，{result.rows} 行，"
                    f"用时 {result.seconds:.1f} 秒（其中写入等待 {result.locked_seconds:.1f} 秒）"))
            else:
                self.stdout.write("；".join(result.steps))
        if dry_run:
            return
        created = partitions.ensure_future_partitions(months_ahead=options["months_ahead"])
        for table, names in created.items():
            made = [name for name in names if not name.startswith("!")]
            blocked = [name[1:] for name in names if name.startswith("!")]
            if made:
                self.stdout.write(f"{table}：新建分区 {'、'.join(made)}")
            if blocked:
                self.stderr.write(f"{table}：默认分区中已有这些月份的行，未建分区，请核对：{'、'.join(blocked)}")
