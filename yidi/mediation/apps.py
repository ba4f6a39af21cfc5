from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "yidi.mediation"
    verbose_name = "人民调解"
