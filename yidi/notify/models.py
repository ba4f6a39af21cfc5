from django.core.exceptions import ValidationError
from django.db import models

from yidi.notify.domain import CHANNEL_LABELS, PLACEHOLDER_HELP, TEMPLATE_LABELS, check_template_text


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class NotificationTemplate(models.Model):
    """The text of one notification on one channel (data: seeded, edited by the system administrator)."""

    key = models.CharField("通知", max_length=40, choices=_choices(TEMPLATE_LABELS))
    channel = models.CharField("渠道", max_length=10, choices=_choices(CHANNEL_LABELS))
    text = models.TextField("内容", help_text=PLACEHOLDER_HELP)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "通知模板"
        verbose_name_plural = "通知模板"
        ordering = ["key", "channel"]
        constraints = [models.UniqueConstraint(fields=["key", "channel"], name="one_template_per_key_channel")]

    def __str__(self) -> str:
        return f"{self.get_key_display()}（{self.get_channel_display()}）"

    def clean(self) -> None:
        problem = check_template_text(self.text)
        if problem:
            raise ValidationError({"text": problem})


class SiteMessage(models.Model):
    """An in-site message about a matter (站内消息), shown to the person on the portal's tracking page."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="site_messages")
    person = models.ForeignKey("cases.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    template = models.CharField("通知", max_length=40)
    text = models.TextField("内容")
    created_at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        # the portal's tracking page: one matter's messages, newest first (`queries.messages_for_case`)
        indexes = [models.Index(fields=["case", "-created_at"], name="site_message_case")]
