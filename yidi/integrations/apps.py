from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "yidi.integrations"
    verbose_name = "外部对接与发件箱"
