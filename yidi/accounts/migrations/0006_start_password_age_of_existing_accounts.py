"""Accounts that already have a password start its age now, so upgrading does not force every user to change
their password at once. Accounts without a usable password keep `password_changed_at` empty."""

from django.db import migrations
from django.utils import timezone

UNUSABLE_PASSWORD_PREFIX = "!"


def start_password_age(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(password_changed_at__isnull=True).exclude(password="").exclude(
        password__startswith=UNUSABLE_PASSWORD_PREFIX
    ).update(password_changed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_add_login_hardening"),
    ]

    operations = [
        migrations.RunPython(start_password_age, migrations.RunPython.noop),
    ]
