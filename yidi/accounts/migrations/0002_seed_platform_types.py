"""Seed the township platform types (基层治理四平台); the 2021 Zhejiang cut is added inactive."""

from django.db import migrations

PLATFORM_TYPES = [
    ("comprehensive_governance", "综治工作", True),
    ("market_supervision", "市场监管", True),
    ("comprehensive_enforcement", "综合执法", True),
    ("public_convenience", "便民服务", True),
    ("supervision_enforcement", "监管执法", False),
    ("emergency_management", "应急管理", False),
    ("public_service", "公共服务", False),
]


def seed(apps, schema_editor):
    PlatformType = apps.get_model("accounts", "PlatformType")
    for position, (code, name, active) in enumerate(PLATFORM_TYPES):
        PlatformType.objects.update_or_create(
            code=code, defaults={"name": name, "position": position, "is_active": active}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
