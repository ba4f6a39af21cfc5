from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yidi.core"
    verbose_name = "基础数据"
