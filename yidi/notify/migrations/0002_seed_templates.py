"""The shipped notification texts: a text message and an in-site message for each moment the person is told of.
Templates an admin already has are left as they are."""

from django.db import migrations

TEMPLATES = {
    "accepted": (
        "您好，您反映的“{title}”已受理，事项编码{code}。我们将尽快办理，可凭编码在 {portal_url} 查询进度。",
        "您反映的事项已受理，我们将尽快安排办理。",
    ),
    "declined": (
        "您好，您反映的“{title}”（编码{code}）不予受理，理由：{reason}。建议您：{route}。如有疑问请联系{unit}{unit_phone}。",
        "您反映的事项不予受理，理由：{reason}。建议您：{route}。",
    ),
    "assigned": (
        "您好，您的事项（编码{code}）已交由{unit}办理{unit_phone}，请保持电话畅通。",
        "您的事项已交由{unit}办理。",
    ),
    "session_scheduled": (
        "您好，您的事项（编码{code}）已预约{mode}调解，时间：{when}，地点：{place}。请准时参加，如需改期请联系{unit}{unit_phone}。",
        "已预约{mode}调解，时间：{when}，地点：{place}。请准时参加。",
    ),
    "session_cancelled": (
        "您好，您的事项（编码{code}）原定{when}的调解已取消，原因：{reason}。我们将另行通知，如有疑问请联系{unit}{unit_phone}。",
        "原定{when}的调解已取消，原因：{reason}。我们将另行通知。",
    ),
    "agreement": (
        "您好，您的事项（编码{code}）已达成调解协议并生效，请按协议约定履行。如有疑问请联系{unit}{unit_phone}。",
        "调解协议已生效，请按协议约定履行。",
    ),
    "closed": (
        "您好，您反映的“{title}”（编码{code}）已办结，感谢您的理解与支持。",
        "您反映的事项已办结，感谢您的理解与支持。",
    ),
    "evaluation_request": (
        "您好，欢迎评价事项（编码{code}）的办理情况：请访问 {portal_url} 输入事项编码并验证手机号后评价。",
        "欢迎评价本事项的办理情况：请访问 {portal_url} 输入事项编码并验证手机号后评价。",
    ),
    "reopened": (
        "您好，您的事项（编码{code}）已重新办理，由{unit}负责{unit_phone}，我们将尽快与您联系。",
        "您的事项已重新办理，由{unit}负责。",
    ),
}


def seed(apps, schema_editor):
    NotificationTemplate = apps.get_model("notify", "NotificationTemplate")
    for key, (sms, site) in TEMPLATES.items():
        for channel, text in (("sms", sms), ("site", site)):
            NotificationTemplate.objects.get_or_create(key=key, channel=channel, defaults={"text": text})


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
