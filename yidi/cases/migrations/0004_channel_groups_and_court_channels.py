"""Give every channel its group, and split court referrals by procedure (their time limits differ)."""

from django.db import migrations

GROUPS = {
    "petition_letter": "petition",
    "petition_visit": "petition",
    "petition_online": "petition",
    "petition_call": "petition",
}
COURT = [
    ("court_pre_filing", "法院诉前委派调解"),
    ("court_entrusted_ordinary", "法院委托调解（普通程序）"),
    ("court_entrusted_simplified", "法院委托调解（简易程序）"),
]


def forwards(apps, schema_editor):
    Channel = apps.get_model("cases", "Channel")
    court = Channel.objects.filter(code="court_referral").first()
    position = court.position if court else 5
    for offset, (code, name) in enumerate(COURT):
        if court is not None and offset == 0:
            court.code, court.name = code, name
            court.save(update_fields=["code", "name"])
            continue
        Channel.objects.update_or_create(code=code, defaults={"name": name, "position": position})
    for channel in Channel.objects.all():
        channel.group = GROUPS.get(channel.code, channel.code)
        channel.save(update_fields=["group"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_channel_group")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
