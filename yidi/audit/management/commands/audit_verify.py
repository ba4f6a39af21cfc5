import time

from django.core.management.base import BaseCommand, CommandError

from yidi.audit.actions import do_verify_chain


class Command(BaseCommand):
    help = (
        "校验审计日志链：逐条核对序号、前序校验码和校验码，并与链外检查点比对。完好时退出码 0；"
        "否则退出码 1，并指出第一条有问题的记录。 / Verify the audit hash chain; exit 1 naming the first broken row."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_seq", type=int, default=None, help="从第几条开始（默认第 1 条）")
        parser.add_argument("--to", dest="to_seq", type=int, default=None, help="到第几条为止（默认最后一条）")

    def handle(self, *args, from_seq=None, to_seq=None, **options):
        if (from_seq is not None and from_seq < 1) or (to_seq is not None and to_seq < (from_seq or 1)):
            raise CommandError("--from 须 ≥ 1，--to 须不小于 --from")
        started = time.monotonic()
        result = do_verify_chain(actor=None, from_seq=from_seq, to_seq=to_seq)
        seconds = time.monotonic() - started
        if not result.ok:
            chain = f"链 {result.chain} " if result.chain and result.chain != 1 else ""
            row = f"chain {result.chain}, row {result.first_bad_seq}" if chain else f"row {result.first_bad_seq}"
            where = f"{chain}第 {result.first_bad_seq} 条记录 ({row})" if result.first_bad_seq else "检查点文件"
            label = result.problem.label if result.problem else ""
            raise CommandError(
                f"审计日志链校验未通过 / audit chain BROKEN：{where}：{label}\n  {result.reason}\n"
                f"  此前已校验 {result.checked} 条 / {result.checked} rows checked before it"
            )
        span = f"第 {from_seq or 1}–{result.last_seq} 条" if result.checked else "无记录"
        self.stdout.write(
            f"审计日志链完好 / audit chain intact：已校验 {result.checked} 条（{span}），"
            f"核对检查点与链头 {result.anchors} 处，用时 {seconds:.2f} 秒\n"
            f"  {result.checked} rows checked, {result.anchors} checkpoint/head anchors matched, {seconds:.2f} s"
        )
