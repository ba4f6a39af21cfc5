from django.db import migrations, models

import yidi.audit.domain


class Migration(migrations.Migration):
    """Schema for the hash chain; the seq column becomes required and unique in 0004, once 0003 has
    sealed the rows that already exist."""

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="actor_unit_code",
            field=models.CharField(blank=True, max_length=60, verbose_name="单位"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="object_id",
            field=models.CharField(max_length=100, verbose_name="对象标识"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(null=True, verbose_name="序号"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", max_length=16, verbose_name="密钥编号"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_mac",
            field=models.CharField(default="", max_length=64, verbose_name="前序校验码"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(default="", max_length=64, verbose_name="校验码"),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["seq"], "verbose_name": "审计记录", "verbose_name_plural": "审计记录"},
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor_username", "at"], name="audit_actor"),
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_seq", models.PositiveBigIntegerField(default=0, verbose_name="最新序号")),
                (
                    "last_mac",
                    models.CharField(default=yidi.audit.domain.GENESIS_MAC, max_length=64, verbose_name="最新校验码"),
                ),
            ],
            options={
                "verbose_name": "审计链头",
                "verbose_name_plural": "审计链头",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="audit_chain_head_single_row")
                ],
            },
        ),
    ]
