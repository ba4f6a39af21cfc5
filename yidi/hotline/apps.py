from django.apps import AppConfig


class HotlineConfig(AppConfig):
    name = "yidi.hotline"
    verbose_name = "12345热线导入"
