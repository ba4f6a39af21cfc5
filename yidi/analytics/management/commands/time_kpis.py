"""`yidi manage time_kpis --region 330681109 --period 2026`: time each KPI for one slice, beside the floor
(one plain SQL count of the slice's matters registered in the period). Read-only; for benchmarks."""

import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from yidi.analytics.domain import KPIS, parse_period
from yidi.analytics.engine import Slice, base_cases, compute


class Command(BaseCommand):
    help = "统计每项指标的计算耗时（与一条普通 SQL 计数对比）"

    def add_arguments(self, parser):
        parser.add_argument("--region", default="330681")
        parser.add_argument("--period", default="")
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, *args, region, period, repeat, **options):
        s = Slice(region, parse_period(period, today=timezone.localdate()))
        compute(["days_total"], s)  # build the working-day index outside the timings

        def best(run) -> float:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                run()
                times.append((time.perf_counter() - started) * 1000)
            return min(times)

        low_high = base_cases(s).filter(registered_at__gte=s.start_at).query
        floor = best(lambda: base_cases(s).filter(registered_at__gte=s.start_at).count())
        self.stdout.write(f"{connection.vendor} · {s.region_code} · {s.period.label} · floor {floor:.1f} ms "
                          f"({low_high.model.__name__} count)")
        for kpi in KPIS:
            elapsed = best(lambda code=kpi.code: compute([code], s))
            value = compute([kpi.code], s)[0]
            self.stdout.write(f"{kpi.name:12} {elapsed:8.1f} ms   {value.numerator}/{value.denominator} = {value.display}")
        self.stdout.write(f"{'全部指标':12} {best(lambda: compute([k.code for k in KPIS], s)):8.1f} ms")
