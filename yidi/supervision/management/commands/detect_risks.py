from datetime import date

from django.core.management.base import BaseCommand, CommandError

from yidi.supervision.domain import AlertKind
from yidi.supervision.jobs import detect_risks


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期格式不正确：{value}（应为 YYYY-MM-DD）") from None


class Command(BaseCommand):
    help = "执行一次风险研判：激增、群体性苗头、重复来访、春节前季节性。可重复执行，不会重复预警。"

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="区划代码（默认：每个设有矛调中心的县）")
        parser.add_argument("--as-of", default="", help="研判截止日 YYYY-MM-DD（默认：今天）")
        parser.add_argument("--from", dest="first_on", default="", help="补跑起始日 YYYY-MM-DD（默认：仅截止日）")
        parser.add_argument("--kind", action="append", choices=[k.value for k in AlertKind if k != AlertKind.MANUAL],
                            help="只运行某类研判（可重复）")

    def handle(self, *args, **options):
        as_of = _day(options["as_of"]) if options["as_of"] else None
        first_on = _day(options["first_on"]) if options["first_on"] else None
        if as_of and first_on and first_on > as_of:
            raise CommandError("补跑起始日不能晚于研判截止日")
        result = detect_risks(region=options["region"], as_of=as_of, first_on=first_on,
                              kinds=tuple(options["kind"] or ()))
        self.stdout.write(str(result))
