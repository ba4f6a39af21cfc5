from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_seed_channels")]
    operations = [
        migrations.AddField(
            model_name="channel",
            name="group",
            field=models.SlugField(
                default="", help_text="时限规则按类别匹配：信访的来信、来访、网上、来电同属 petition", max_length=40,
                verbose_name="渠道类别",
            ),
            preserve_default=False,
        ),
    ]
