from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "yidi.audit"
    verbose_name = "审计日志"
