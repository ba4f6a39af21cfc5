from django.core.management.base import BaseCommand, CommandError

from yidi.regions.domain import REGION_LEVEL_LABELS, RegionLevel
from yidi.regions.loader import DivisionDataError, load_county


class Command(BaseCommand):
    help = "载入一个县（市、区）的行政区划（省、市、县、乡镇街道，浙江省含村社区）。可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--county", action="append", required=True, help="6 位县级区划代码，可多次指定")

    def handle(self, *args, **options):
        for county in options["county"]:
            try:
                counts = load_county(county)
            except DivisionDataError as error:
                raise CommandError(str(error)) from None
            summary = "，".join(f"{REGION_LEVEL_LABELS[RegionLevel(k)]} {v}" for k, v in counts.items())
            self.stdout.write(f"{county}: {summary}")
