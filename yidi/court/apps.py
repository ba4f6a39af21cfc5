from django.apps import AppConfig


class CourtConfig(AppConfig):
    name = "yidi.court"
    verbose_name = "诉调对接"
