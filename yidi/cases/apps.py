from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "yidi.cases"
    verbose_name = "矛盾纠纷事项"
