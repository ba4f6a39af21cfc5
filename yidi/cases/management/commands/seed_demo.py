import contextlib
from datetime import date, datetime

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from yidi.accounts.models import User
from yidi.cases import demo
from yidi.cases.builders import DEFAULT_PASSWORD
from yidi.cases.models import Case


class DryRun(Exception):
    pass


def set_aside_audit_checkpoints():
    """After a deliberate reset the old checkpoints describe a log that no longer exists: keep them aside."""
    from yidi.audit.actions import CHECKPOINT_FILE, checkpoint_dir

    current = checkpoint_dir() / CHECKPOINT_FILE
    if not current.exists():
        return None
    target = current.with_name(f"{CHECKPOINT_FILE}.before-reset-{timezone.now():%Y%m%d%H%M%S}")
    current.rename(target)
    return target


def _texts_muted():
    """The seed is history: its people get in-site messages but no text message (`yidi.notify`, above `cases`)."""
    if apps.is_installed("yidi.notify"):
        from yidi.notify.actions import texts_muted

        return texts_muted()
    return contextlib.nullcontext()


class Command(BaseCommand):
    help = "生成演示县（诸暨市）的单位、账号和一年的事项。默认只演练不写入，加 --commit 才写入；可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--commit", action="store_true", help="写入数据库（默认演练后回滚）")
        parser.add_argument("--reset", action="store_true", help="先清空数据库中的全部数据")
        parser.add_argument("--matters", type=int, default=2000, help="事项数（默认 2000）")
        parser.add_argument("--seed", type=int, default=20261128, help="随机种子（相同种子、相同截止日期结果相同）")
        parser.add_argument("--until", type=date.fromisoformat, default=None, help="截止日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **options):
        if options["matters"] < 0:
            raise CommandError("--matters 不能为负数")
        if options["reset"]:
            if not options["commit"]:
                raise CommandError("--reset 需要与 --commit 一起使用")
            call_command("flush", "--noinput", verbosity=0)
            moved = set_aside_audit_checkpoints()
            if moved:
                self.stdout.write(f"审计日志已清空，原检查点文件已移至 {moved}")
            demo.reseed_reference_data()
            call_command("load_regions", "--county", demo.COUNTY, verbosity=0)
        if options["commit"] and User.objects.filter(username="registrar").exists() and Case.objects.exists():
            self.stdout.write("演示数据已存在，跳过生成（需要重建请加 --reset）。")
            self._print_accounts()
            return
        until = options["until"] or timezone.localdate()
        try:
            with transaction.atomic(), _texts_muted():
                counts = demo.build_organisation()
                seeder = demo.Seeder(seed=options["seed"], until=until, matters=options["matters"])
                mediators = demo.build_mediators(seeder.rng)
                started = datetime.now()
                total = seeder.run(progress=lambda n: self.stdout.write(f"  已生成 {n} 件事项……"))
                self.stdout.write(
                    f"单位 {counts['units']} 个（{counts['townships']} 个乡镇街道），调解员 {len(mediators)} 名，"
                    f"事项 {total} 件，用时 {(datetime.now() - started).seconds} 秒"
                )
                if apps.is_installed("yidi.mediation"):  # the app above `cases` seeds its own part
                    from yidi.mediation import demo as mediation_demo

                    built = mediation_demo.build(until=until)
                    self.stdout.write(
                        f"调解：专家库 {built['mediators']} 名调解员、品牌调解室 {built['rooms']} 个、"
                        f"各调解环节的演示事项 {built['matters']} 件（账号 mediator）"
                    )
                if apps.is_installed("yidi.evaluation"):
                    from yidi.evaluation import demo as evaluation_demo

                    visits = evaluation_demo.build(until=until)
                    self.stdout.write(f"回访：已登记到期回访 {visits['recorded']} 次，其中发现风险 {visits['risky']} 次")
                if apps.is_installed("yidi.analytics"):  # resident populations for 万人成讼率 (demo estimates)
                    from yidi.analytics.models import RegionPopulation
                    from yidi.analytics.seed import seed_demo_population
                    from yidi.regions.models import Region

                    seed_demo_population(Region, RegionPopulation)
                if apps.is_installed("yidi.supervision"):
                    from yidi.supervision import demo as supervision_demo

                    alert = supervision_demo.seed_wage_arrears_cluster(until=until)
                    if alert is not None:
                        self.stdout.write(f"风险预警：春节前欠薪聚集 12 件，已生成预警“{alert.title}”")
                if not options["commit"]:
                    raise DryRun
        except DryRun:
            self.stdout.write("演练完成，未写入（加 --commit 写入）。")
            return
        self._print_accounts()

    def _print_accounts(self):
        self.stdout.write(f"\n演示账号（密码均为 {DEFAULT_PASSWORD}）：")
        self.stdout.write(
            "  领导、督查和三员账号须两步验证：验证码用 `yidi manage demo_code 账号` 查看，"
            f"或把密钥 {demo.DEMO_TOTP_SECRET} 加入手机验证器"
        )
        for username, _, _, name, what in demo.DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<11} {name}  {what}")
