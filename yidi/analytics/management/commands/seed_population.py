"""`yidi manage seed_population`: the demo county's township populations (marked as demo estimates)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from yidi.analytics.models import RegionPopulation
from yidi.analytics.seed import seed_demo_population
from yidi.audit.actions import record
from yidi.regions.models import Region


class Command(BaseCommand):
    help = "写入演示县（诸暨市）各乡镇街道的常住人口（演示用估算值）"

    def handle(self, *args, **options):
        with transaction.atomic():
            created = seed_demo_population(Region, RegionPopulation)
            if created:
                record(actor=None, action="analytics.seed_population", object_type="region_population",
                       object_id="330681", data={"rows": created})
        self.stdout.write(f"已写入 {created} 条常住人口记录（演示用估算值）")
