"""The `yidi` command: `yidi demo`, `yidi serve`, `yidi worker`, `yidi manage …`, `yidi triage …`,
`yidi import hotline …`."""

import argparse
import os
import sys

DEMO_COUNTY = "330681"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yidi.settings")
    import django

    django.setup()


def _call(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yidi.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yidi manage", *argv])
    return 0


def serve(host: str, port: int, threads: int, workers: int = 1) -> int:
    """Serve the site: one process with `threads` threads (waitress), or with `workers` > 1 that many processes
    forked from one (gunicorn, threads each): a process holding a database lock must not wait for the GIL of
    a busy process (docs/decisions/0002-prefork-server.md)."""
    _setup_django()
    _call("collectstatic", "--noinput", "--verbosity", "0")
    if workers > 1:
        return _serve_prefork(host, port, threads, workers)
    from waitress import serve as waitress_serve

    from yidi.wsgi import application  # after collectstatic: WhiteNoise indexes the files at start

    _warm_up()
    print(f"yidi 已启动：http://{host}:{port}/  （Ctrl+C 停止）", flush=True)
    waitress_serve(application, host=host, port=port, threads=threads, ident="yidi")
    return 0


def _warm_up() -> None:
    """Read the triage engine's models, word lists and place names before the first request, not during it (it
    would wait a second or more), then close the database connections this opened (each server thread or worker
    opens its own)."""
    from django.conf import settings
    from django.db import connections

    from yidi.cases.actions import triage_context
    from yidi.core import clock
    from yidi.triage.engine import analyse

    analyse("预热", context=triage_context(settings.COUNTY_CODE, now=clock.now()))  # the models registration uses
    connections.close_all()


def _serve_prefork(host: str, port: int, threads: int, workers: int) -> int:
    """gunicorn with `workers` processes of `threads` threads (gthread, keep-alive). The application is loaded
    once before the fork (its code and the triage models shared), with no database connection open."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                "preload_app": True, "keepalive": 5, "graceful_timeout": 10, "timeout": 120,
                "proc_name": "yidi", "accesslog": None,
            }
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self):
            from yidi.wsgi import application  # after collectstatic: WhiteNoise indexes the files at start

            _warm_up()  # read once here and shared by the workers
            return application

    print(f"yidi 已启动：http://{host}:{port}/  （{workers} 个进程 × {threads} 线程，Ctrl+C 停止）", flush=True)
    Server().run()
    return 0


def demo(host: str, port: int, threads: int) -> int:
    """Migrate the embedded database, load the demo county, seed it (once) and serve it."""
    os.environ.setdefault("YIDI_ALLOW_INSECURE_KEY", "1")
    os.environ.setdefault("YIDI_SECURE_COOKIES", "0")
    os.environ.setdefault("YIDI_CENTRE_NAME", "诸暨市社会矛盾纠纷调处化解中心")
    # The citizen portal (/p/) registers for the demo centre and links back to this server. There is no SMS
    # gateway: the verification code is shown on the page, and messages go out at once in the web process
    # (the demo runs no worker for queued tasks).
    os.environ.setdefault("YIDI_PORTAL_UNIT", "centre")
    os.environ.setdefault("YIDI_PUBLIC_BASE_URL", f"http://{host}:{port}")  # a phone on the LAN: set it to this machine's address
    os.environ.setdefault("YIDI_DEMO_SHOW_CODES", "1")
    os.environ.setdefault("YIDI_TASK_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
    _setup_django()
    print("准备数据库……", flush=True)
    _call("migrate", "--noinput", "--verbosity", "0")
    _call("load_regions", "--county", DEMO_COUNTY)
    _call("seed_demo", "--commit")
    _call("sweep_deadlines")
    _start_demo_sweeper()
    return serve(host, port, threads)


def _start_demo_sweeper() -> None:
    """The demo has no separate worker: in the server process, deliver the outbox about every 5 seconds and sweep
    deadlines every minute."""
    import threading
    import time

    stop = threading.Event()

    def loop():
        from django.db import close_old_connections

        from yidi.integrations.jobs import deliver_due
        from yidi.workflow.jobs import sweep_deadlines

        last_sweep = time.monotonic()
        while not stop.wait(DEMO_DELIVER_EVERY_SECONDS):
            try:
                deliver_due()
            except Exception as error:
                print(f"消息发送失败，稍后重试：{error}", file=sys.stderr, flush=True)
            finally:
                close_old_connections()
            if time.monotonic() - last_sweep < SWEEP_EVERY_SECONDS:
                continue
            last_sweep = time.monotonic()
            try:
                sweep_deadlines()
            except Exception as error:
                print(f"期限巡检失败，稍后重试：{error}", file=sys.stderr, flush=True)
            finally:
                close_old_connections()

    threading.Thread(target=loop, name="demo-sweeper", daemon=True).start()


SWEEP_EVERY_SECONDS = 60
DEMO_DELIVER_EVERY_SECONDS = 5
OUTBOX_DRAIN_EVERY_SECONDS = 15


def _periodic_tasks():
    """(task, every how many seconds): the outbox drain every 15 seconds (retries; new messages go out at once
    through their own task), the deadline sweep each minute, an audit checkpoint every ten minutes, a full
    audit-chain verification, the disabling of long-unused accounts, the risk detection and the monthly figures
    report to the platform above each day."""
    from yidi.accounts.tasks import disable_inactive_accounts_task
    from yidi.analytics.tasks import refresh_rollup_task
    from yidi.audit.tasks import verify_chain_task, write_checkpoint_task
    from yidi.core.tasks import ensure_partitions_task
    from yidi.integrations.tasks import deliver_outbox_task
    from yidi.linkage.tasks import report_figures_task
    from yidi.privacy.tasks import anonymise_expired_task
    from yidi.supervision.tasks import detect_risks_task
    from yidi.workflow.tasks import sweep_deadlines_task

    return [
        (deliver_outbox_task, OUTBOX_DRAIN_EVERY_SECONDS),
        (sweep_deadlines_task, SWEEP_EVERY_SECONDS),
        (refresh_rollup_task, 600),  # the cockpit's daily counts (`yidi.analytics.rollup`)
        (write_checkpoint_task, 600),
        (verify_chain_task, 86400),
        (anonymise_expired_task, 86400),
        (disable_inactive_accounts_task, 86400),
        (ensure_partitions_task, 86400),  # next months' partitions, where tables are partitioned (PostgreSQL)
        (detect_risks_task, 86400),  # early warning over yesterday's matters (`yidi.supervision`)
        (report_figures_task, 86400),  # the month's figures to the platform above, if one is configured
    ]


STALE_RUNNING_SECONDS = 3600


def _worker_id() -> str:
    """This worker's id in the task table (unique in the pool, as django-tasks-db asks): its machine and process,
    so that a worker on the same machine can tell that the one which claimed a task has died."""
    import socket

    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def _is_dead_worker(worker_ids: list[str]) -> bool:
    """Whether the worker that claimed a task last ran on this machine and its process is gone (killed, crashed).
    A worker on another machine, or of unknown id, is taken to be alive."""
    host, _, pid = (worker_ids[-1] if worker_ids else "").rpartition(":")
    if not pid.isdigit() or int(pid) == os.getpid() or host != _worker_id().rpartition(":")[0]:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def _waiting(results, task) -> bool:
    """Whether `task` is already queued or running. A row left RUNNING by a worker that died (SIGKILL, power cut;
    django-tasks-db never takes such a row back) must not hold the periodic task back: it does not count when
    its worker ran on this machine and is gone, nor, wherever it ran, after an hour."""
    from datetime import timedelta

    from django.utils import timezone

    if results.objects.filter(status="READY", task_path=task.module_path).exists():
        return True
    running = results.objects.filter(
        status="RUNNING", task_path=task.module_path,
        started_at__gte=timezone.now() - timedelta(seconds=STALE_RUNNING_SECONDS),
    ).values_list("worker_ids", flat=True)
    return any(not _is_dead_worker(worker_ids) for worker_ids in running)


REDIS_BACKEND_PREFIX = "django_tasks_redis."


def _on_redis() -> bool:
    """Whether the task backend is Redis (`YIDI_TASK_BACKEND=django_tasks_redis.RedisTaskBackend`, docs/scaling.md)."""
    from django.conf import settings

    return settings.TASKS["default"]["BACKEND"].startswith(REDIS_BACKEND_PREFIX)


def _waiting_in_redis(task) -> bool:
    """Whether `task` is already queued in Redis (a task a dead worker left running is taken back by the Redis
    worker itself after its claim interval)."""
    from django.tasks import task_backends

    _, ready = task_backends["default"].get_all_tasks(status="READY", task_path=task.module_path, limit=1)
    return ready > 0


def _is_waiting(task) -> bool:
    if _on_redis():
        return _waiting_in_redis(task)
    from django_tasks_db.models import DBTaskResult

    return _waiting(DBTaskResult, task)


def _schedule(stop) -> None:
    """Enqueue each periodic task when it is due, unless one is already waiting (every task is idempotent)."""
    import time

    from django.db import close_old_connections

    schedule = [(task, every, float("-inf")) for task, every in _periodic_tasks()]  # each runs once at start
    while not stop.wait(5):
        now = time.monotonic()
        for index, (task, every, last) in enumerate(schedule):
            if now - last < every:
                continue
            try:
                if not _is_waiting(task):
                    task.enqueue()
                schedule[index] = (task, every, now)
            except Exception as error:  # the database may be restarting: try again at the next tick
                print(f"后台任务排程失败，稍后重试：{error}", file=sys.stderr, flush=True)
            finally:
                close_old_connections()


def worker() -> int:
    """Run background tasks (from the database, or from Redis when that is the backend), and enqueue the periodic
    ones when they are due."""
    import threading

    _setup_django()
    stop = threading.Event()
    scheduler = threading.Thread(target=_schedule, args=(stop,), name="scheduler", daemon=True)
    scheduler.start()
    try:
        if _on_redis():  # the command's class directly: django_tasks_redis need not be an installed app
            from django.core.management import call_command
            from django_tasks_redis.management.commands.run_redis_tasks import Command as RunRedisTasks

            call_command(RunRedisTasks(), "--continuous")
        else:
            _call("db_worker", "--worker-id", _worker_id())
    finally:
        stop.set()
    return 0


def audit(argv: list[str]) -> int:
    """`yidi audit verify [--from SEQ] [--to SEQ]` and `yidi audit checkpoint`."""
    parser = argparse.ArgumentParser(prog="yidi audit", description="审计日志：校验哈希链、写入检查点")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="校验审计日志链；完好时退出码为 0，否则指出第一条有问题的记录")
    verify.add_argument("--from", dest="from_seq", type=int, default=None)
    verify.add_argument("--to", dest="to_seq", type=int, default=None)
    commands.add_parser("checkpoint", help="把当前链尾签名写入数据库之外的检查点文件")
    args = parser.parse_args(argv)
    _setup_django()
    from django.core.management import CommandError

    try:
        if args.command == "verify":
            _call("audit_verify", *_seq_options(args))
        else:
            _call("audit_checkpoint")
    except CommandError as error:
        print(error, file=sys.stderr)
        return getattr(error, "returncode", 1) or 1
    return 0


def _seq_options(args) -> list[str]:
    options = []
    if args.from_seq is not None:
        options += ["--from", str(args.from_seq)]
    if args.to_seq is not None:
        options += ["--to", str(args.to_seq)]
    return options


class _ProgressBar:
    """A text progress bar on stderr, redrawn at every whole percent."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if not total else done * 100 // total
        if percent == self.shown:
            return
        self.shown = percent
        filled = self.WIDTH * percent // 100
        self.stream.write(f"\r导入进度 [{'#' * filled}{'.' * (self.WIDTH - filled)}] {percent:3d}%  {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def import_(argv: list[str]) -> int:
    """`yidi import hotline FILE [--mapping F] [--rejects F] [--as USERNAME]`: 0 when the file was processed
    (even with rejected rows), 2 when the file (or the mapping, or the account) cannot be used."""
    parser = argparse.ArgumentParser(prog="yidi import", description="批量导入")
    kinds = parser.add_subparsers(dest="kind", required=True)
    hotline = kinds.add_parser("hotline", help="导入12345热线工单（.xlsx 或 .csv）")
    hotline.add_argument("file", help="12345工单导出文件（.xlsx，或 UTF-8/GBK 编码的 .csv）")
    hotline.add_argument("--mapping", help="列名映射文件（YAML，也接受 JSON）：columns（列名: 字段）和 request_types"
                                           "（诉求类型: 代码），示例见 yidi/hotline/mapping.example.yaml")
    hotline.add_argument("--rejects", help="未导入行清单的保存位置（默认：与导入文件同目录的 <文件名>.rejects.csv）")
    hotline.add_argument("--as", dest="username", help="导入人账号（登记员或调度员）；默认为县级矛调中心第一个在用的调度员")
    args = parser.parse_args(argv)
    _setup_django()
    from pathlib import Path

    from yidi.hotline import actions
    from yidi.hotline.domain import FileError, MappingError
    from yidi.hotline.files import load_mapping_file

    try:
        mapping = load_mapping_file(Path(args.mapping).read_text(encoding="utf-8")) if args.mapping else None
        actor = actions.find_importer(args.username) if args.username else actions.default_importer()
        print(f"导入人：{actor}（{actor.get_username()}，{actor.unit.name}）", file=sys.stderr)
        result = actions.do_import_hotline(args.file, actor=actor, mapping=mapping, progress=_ProgressBar(sys.stderr),
                                           rejects_path=args.rejects)
    except (FileError, MappingError, actions.ImportDenied) as error:
        print(f"\n未导入：{error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"\n未导入：无法读取映射文件：{error.strerror}", file=sys.stderr)
        return 2
    run = result.run
    print(f"导入完成：共 {run.total} 行，新登记 {run.imported} 件，已导入过跳过 {run.skipped} 行，未导入 {run.rejected} 行"
          f"（导入记录 #{run.pk}，用时 {result.seconds:.1f} 秒）")
    if result.rejects_path:
        print(f"未导入的行及原因见：{result.rejects_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "manage":
        return manage(argv[1:])
    if argv and argv[0] == "audit":
        return audit(argv[1:])
    if argv and argv[0] == "import":
        return import_(argv[1:])
    if argv and argv[0] == "triage":
        from yidi.triage.cli import main as triage_main

        return triage_main(argv[1:])
    parser = argparse.ArgumentParser(prog="yidi", description="一地：矛调中心一体化平台")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("demo", "载入演示县并启动服务"), ("serve", "启动网页服务")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
        sub.add_argument("--threads", type=int, default=8, help="每个进程的线程数")
    commands.choices["serve"].add_argument(
        "--workers", type=int, default=1,
        help="进程数（默认 1；大于 1 时用多进程服务器 gunicorn，一般取 CPU 核数，每个进程 --threads 个线程）")
    commands.add_parser("worker", help="运行后台任务（期限巡检等）")
    commands.add_parser("manage", help="Django 管理命令，如 yidi manage create_user …")
    commands.add_parser("triage", help="分类分级模型：train / evaluate / analyse / install")
    commands.add_parser("audit", help="审计日志：verify（校验）/ checkpoint（写检查点）")
    commands.add_parser("import", help="批量导入：hotline（12345工单）")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.host, args.port, args.threads)
    if args.command == "serve":
        return serve(args.host, args.port, args.threads, max(1, args.workers))
    return worker()


if __name__ == "__main__":
    sys.exit(main())
