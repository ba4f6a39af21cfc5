from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "yidi.supervision"
    verbose_name = "风险预警与专项治理"
