from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "yidi.privacy"
    verbose_name = "个人信息保护"
