"""The `yidi` command: `yidi demo`, `yidi serve`, `yidi worker`, `yidi manage …`, `yidi triage …`."""

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


def serve(host: str, port: int, threads: int) -> int:
    _setup_django()
    from waitress import serve as waitress_serve

    _call("collectstatic", "--noinput", "--verbosity", "0")
    from yidi.wsgi import application  # after collectstatic: WhiteNoise indexes the files at start

    print(f"yidi 已启动：http://{host}:{port}/  （Ctrl+C 停止）", flush=True)
    waitress_serve(application, host=host, port=port, threads=threads, ident="yidi")
    return 0


def demo(host: str, port: int, threads: int) -> int:
    """Migrate the embedded database, load the demo county, seed it (once) and serve it."""
    os.environ.setdefault("YIDI_ALLOW_INSECURE_KEY", "1")
    os.environ.setdefault("YIDI_SECURE_COOKIES", "0")
    os.environ.setdefault("YIDI_CENTRE_NAME", "诸暨市社会矛盾纠纷调处化解中心")
    _setup_django()
    print("准备数据库……", flush=True)
    _call("migrate", "--noinput", "--verbosity", "0")
    _call("load_regions", "--county", DEMO_COUNTY)
    _call("seed_demo", "--commit")
    _call("sweep_deadlines")
    _start_demo_sweeper()
    return serve(host, port, threads)


def _start_demo_sweeper() -> None:
    """The demo has no separate worker: sweep deadlines in the server process every minute."""
    import threading

    stop = threading.Event()

    def loop():
        from django.db import close_old_connections

        from yidi.workflow.jobs import sweep_deadlines

        while not stop.wait(SWEEP_EVERY_SECONDS):
            try:
                sweep_deadlines()
            except Exception as error:
                print(f"期限巡检失败，稍后重试：{error}", file=sys.stderr, flush=True)
            finally:
                close_old_connections()

    threading.Thread(target=loop, name="demo-sweeper", daemon=True).start()


SWEEP_EVERY_SECONDS = 60


def _schedule_sweeps(stop) -> None:
    """Enqueue the deadline sweep every minute unless one is already waiting (the sweep is idempotent)."""
    from django.db import close_old_connections
    from django_tasks_db.models import DBTaskResult

    from yidi.workflow.tasks import sweep_deadlines_task

    path = sweep_deadlines_task.module_path
    while not stop.wait(SWEEP_EVERY_SECONDS):
        try:
            if not DBTaskResult.objects.filter(task_path=path, status__in=["READY", "RUNNING"]).exists():
                sweep_deadlines_task.enqueue()
        except Exception as error:  # the database may be restarting: try again next minute
            print(f"期限巡检排程失败，稍后重试：{error}", file=sys.stderr, flush=True)
        finally:
            close_old_connections()


def worker() -> int:
    """Run background tasks, and enqueue the deadline sweep every minute."""
    import threading

    _setup_django()
    from yidi.workflow.tasks import sweep_deadlines_task

    sweep_deadlines_task.enqueue()
    stop = threading.Event()
    scheduler = threading.Thread(target=_schedule_sweeps, args=(stop,), name="sweep-scheduler", daemon=True)
    scheduler.start()
    try:
        _call("db_worker")
    finally:
        stop.set()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "manage":
        return manage(argv[1:])
    if argv and argv[0] == "triage":
        from yidi.triage.cli import main as triage_main

        return triage_main(argv[1:])
    parser = argparse.ArgumentParser(prog="yidi", description="一地：矛调中心一体化平台")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("demo", "载入演示县并启动服务"), ("serve", "启动网页服务")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
        sub.add_argument("--threads", type=int, default=8)
    commands.add_parser("worker", help="运行后台任务（期限巡检等）")
    commands.add_parser("manage", help="Django 管理命令，如 yidi manage create_user …")
    commands.add_parser("triage", help="分类分级模型：train / evaluate / analyse / install")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args.host, args.port, args.threads)
    if args.command == "serve":
        return serve(args.host, args.port, args.threads)
    return worker()


if __name__ == "__main__":
    sys.exit(main())
