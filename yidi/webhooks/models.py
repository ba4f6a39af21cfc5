from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from yidi.accounts.models import SecretField
from yidi.webhooks.domain import EVENT_TYPE_LABELS, check_url


class WebhookSubscription(models.Model):
    """An external system told about matters by signed HTTPS POSTs (回调订阅), configured by the system
    administrator. Deliveries go through the outbox (`yidi.integrations`), kind `webhook`.

    `secret` signs every delivery (HMAC-SHA256, `yidi.webhooks.signing`); it is encrypted at rest and never shown.
    """

    name = models.CharField("名称", max_length=60)
    url = models.URLField("回调地址", max_length=500, help_text="须为 https 地址；不能指向内网或云服务元数据地址")
    secret = SecretField("签名密钥")
    event_types = models.JSONField("事件类型", default=list, blank=True)
    region_scope = models.CharField(
        "区域范围", max_length=15, validators=[RegexValidator(r"^\d{2,15}$", "请填写行政区划代码（数字）")],
        help_text="行政区划代码前缀：只推送发生地在此区划内的事项，如 330681（诸暨市）",
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "回调订阅"
        verbose_name_plural = "回调订阅"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = check_url(self.url or "", debug=settings.DEBUG)
        if problem:
            raise ValidationError({"url": problem})
        unknown = [value for value in self.event_types or [] if value not in EVENT_TYPE_LABELS]
        if not isinstance(self.event_types, list) or unknown or not self.event_types:
            raise ValidationError({"event_types": "请从列出的事件类型中选择至少一项"})
