from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "yidi.notify"
    verbose_name = "通知与发件箱"
