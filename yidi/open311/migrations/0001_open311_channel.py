"""The `open311` intake channel: requests posted to /open311/v2/ arrive through it. Its group is the online
channel's (`online`), so the same time limits apply."""

from django.db import migrations


def forwards(apps, schema_editor):
    Channel = apps.get_model("cases", "Channel")
    last = Channel.objects.order_by("-position").values_list("position", flat=True).first()
    Channel.objects.update_or_create(
        code="open311", defaults={"name": "Open311 接口", "group": "online", "position": (last or 0) + 1}
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_citizen_side_events")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
