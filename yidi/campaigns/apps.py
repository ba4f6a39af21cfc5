from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "yidi.campaigns"
    verbose_name = "重点领域专项治理"
