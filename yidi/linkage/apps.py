from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "yidi.linkage"
    verbose_name = "三级联动"
