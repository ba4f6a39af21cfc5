from django.apps import AppConfig


class GridConfig(AppConfig):
    name = "yidi.grid"
    verbose_name = "网格员移动端"
