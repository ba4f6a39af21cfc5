"""Seed data: the default assessment scheme (考核办法) and the demo county's township populations.

The populations of 诸暨市 (330681) below are **plausible demo estimates** (they sum to about 1.22 million, the
order of the city's 2020 census figure), not published statistics: every row is stored with `is_estimate=True`
and says so in its source. Replace them with the statistics bureau's figures in the admin.
"""

from decimal import Decimal

DEMO_POPULATION_SOURCE = "演示用估算值（非统计部门公布数据），请按统计年鉴更新"
# township code → resident population (demo estimate)
DEMO_TOWNSHIP_POPULATION = {
    "330681001": 118000, "330681002": 86000, "330681003": 92000, "330681004": 74000, "330681005": 81000,
    "330681102": 42000, "330681103": 53000, "330681104": 98000, "330681106": 61000, "330681108": 57000,
    "330681109": 67000, "330681110": 33000, "330681111": 21000, "330681112": 30000, "330681115": 56000,
    "330681116": 24000, "330681117": 41000, "330681119": 47000, "330681120": 26000, "330681121": 18000,
    "330681122": 39000, "330681124": 35000, "330681201": 19000,
}
DEMO_YEARS = (2024, 2025, 2026)

DEFAULT_SCHEME = {
    "code": "default", "name": "矛调中心年度考核（默认办法）", "minimum_volume": 10,
    "basis": "参照 china-rules §4：大川信访考核（及时受理率×5、按期办结率×10、满意率×10、参评率×5、重复信访每件扣1分）、"
             "连云港12345考核（及时签收率）；权重与扣分可由系统管理员调整。",
}
DEFAULT_WEIGHTS = [
    ("accept_timely", "10"), ("sign_timely", "10"), ("handle_on_time", "20"), ("resolution", "15"),
    ("satisfaction", "15"), ("evaluation_participation", "10"), ("first_time_resolution", "10"), ("one_place", "10"),
]
DEFAULT_DEDUCTIONS = [
    ("overdue_matter", "1", "10"), ("late_sign", "0.5", "5"), ("verified_complaint", "1", "10"),
    ("red_urging", "2", "10"), ("repeat_contact", "1", "10"),
]


def seed_default_scheme(scheme_model, weight_model, deduction_model) -> None:
    """Create the default scheme if it does not exist (models passed in, so a migration can use it)."""
    scheme, created = scheme_model.objects.get_or_create(code=DEFAULT_SCHEME["code"], defaults={
        key: value for key, value in DEFAULT_SCHEME.items() if key != "code"})
    if not created:
        return
    for position, (kpi_code, points) in enumerate(DEFAULT_WEIGHTS):
        weight_model.objects.create(scheme=scheme, kpi_code=kpi_code, points=Decimal(points), position=position)
    for kind, points, cap in DEFAULT_DEDUCTIONS:
        deduction_model.objects.create(scheme=scheme, kind=kind, points_per_item=Decimal(points), cap=Decimal(cap))


def seed_demo_population(region_model, population_model) -> int:
    """The demo townships' populations for the demo years, for the townships that exist; idempotent."""
    existing = set(region_model.objects.filter(code__in=DEMO_TOWNSHIP_POPULATION).values_list("code", flat=True))
    created = 0
    for code in sorted(existing):
        for offset, year in enumerate(DEMO_YEARS):
            people = round(DEMO_TOWNSHIP_POPULATION[code] * (1 + Decimal("0.004") * offset))
            _row, was_created = population_model.objects.get_or_create(
                region_id=code, year=year,
                defaults={"resident_population": people, "source": DEMO_POPULATION_SOURCE, "is_estimate": True})
            created += was_created
    return created
