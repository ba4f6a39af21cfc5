"""Seed the intake channels (SPEC §3); admins may add more."""

from django.db import migrations

CHANNELS = [
    ("walk_in", "窗口来访"),
    ("phone", "来电"),
    ("online", "网上/移动端自助"),
    ("hotline_12345", "12345热线"),
    ("grid_report", "网格员上报"),
    ("court_referral", "法院诉前委派/委托"),
    ("petition_letter", "信访来信"),
    ("petition_visit", "信访来访"),
    ("petition_online", "网上信访"),
    ("petition_call", "信访来电"),
    ("police_110", "110非警务警情"),
    ("department_transfer", "部门移送"),
    ("proactive_screening", "主动排查"),
    ("higher_assignment", "上级交办"),
]


def seed(apps, schema_editor):
    Channel = apps.get_model("cases", "Channel")
    for position, (code, name) in enumerate(CHANNELS):
        Channel.objects.update_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
