from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "yidi.portal"
    verbose_name = "群众端"
