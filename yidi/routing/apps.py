from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "yidi.routing"
    verbose_name = "分派规则"
