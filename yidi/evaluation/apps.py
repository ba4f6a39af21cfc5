from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "yidi.evaluation"
    verbose_name = "评价与回访"
