from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "yidi.workflow"
    verbose_name = "期限与督办"
