from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "yidi.analytics"
    verbose_name = "统计分析与考核"
