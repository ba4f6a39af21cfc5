"""Default detection thresholds and the Spring Festival dates 2015–2035 (data; editable in the admin)."""

from datetime import date

from django.db import migrations

RULES = [
    # kind, baseline_periods, window_days, min_count, p_value, orange_at, red_at, dispute_type_code, note
    ("spike", 8, 7, 5, 0.001, 3, 5, "", "按纠纷类型×乡镇×周，本周件数对前8周均值做单侧泊松检验"),
    ("cluster", 1, 14, 5, 0.01, 10, 30, "", "14天内不少于5名不同反映人指向同一被申请人或同一地点（信访工作条例第20条：5人）"),
    ("repeat", 1, 30, 3, 0.01, 5, 8, "", "同一当事人30天内反映不少于3次"),
    ("seasonal", 3, 42, 10, 0.01, 2, 3, "labour", "春节前42天劳动争议（欠薪）对往年同期做单侧泊松检验"),
]

FESTIVALS = {
    2015: date(2015, 2, 19), 2016: date(2016, 2, 8), 2017: date(2017, 1, 28), 2018: date(2018, 2, 16),
    2019: date(2019, 2, 5), 2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1),
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
    2031: date(2031, 1, 23), 2032: date(2032, 2, 11), 2033: date(2033, 1, 31), 2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}


def seed(apps, schema_editor):
    rule_model = apps.get_model("supervision", "DetectionRule")
    festival_model = apps.get_model("supervision", "SpringFestival")
    for kind, baseline, window, minimum, p_value, orange, red, type_code, note in RULES:
        rule_model.objects.update_or_create(kind=kind, defaults={
            "baseline_periods": baseline, "window_days": window, "min_count": minimum, "p_value": p_value,
            "orange_at": orange, "red_at": red, "dispute_type_code": type_code, "note": note,
        })
    for year, festival_on in FESTIVALS.items():
        festival_model.objects.update_or_create(year=year, defaults={"festival_on": festival_on})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
