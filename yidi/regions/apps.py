from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "yidi.regions"
    verbose_name = "行政区划"
