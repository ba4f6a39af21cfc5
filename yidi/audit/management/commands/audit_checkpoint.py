from django.core.management.base import BaseCommand
from django.utils import timezone

from yidi.audit.actions import checkpoint_dir, write_checkpoint


class Command(BaseCommand):
    help = "写入审计日志链检查点（最新序号与校验码，已签名）到数据库之外的检查点文件，供定期任务调用。"

    def handle(self, *args, **options):
        checkpoints = write_checkpoint()
        for checkpoint in checkpoints:
            chain = f"链 {checkpoint.chain} " if len(checkpoints) > 1 else ""
            self.stdout.write(
                f"已写入检查点 / checkpoint written：{chain}第 {checkpoint.seq} 条，校验码 {checkpoint.mac[:16]}…，"
                f"密钥编号 {checkpoint.key_id}，{timezone.localtime(checkpoint.at):%Y-%m-%d %H:%M:%S}，"
                f"文件夹 {checkpoint_dir()}"
            )
