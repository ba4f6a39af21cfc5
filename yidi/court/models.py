from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from yidi.accounts.models import ApiClient, SecretField
from yidi.court.domain import ANSWER_STATE_LABELS, MESSAGE_TYPE_LABELS
from yidi.webhooks.domain import check_url


class Court(models.Model):
    """A court the centre exchanges with (诉调对接), configured by the system administrator.

    - `name` is how staff name it on hand-offs and judicial-confirmation applications: a filing or an application
      to a court of exactly this name (active) is sent to it; one to any other court stays on paper;
    - `endpoint_url` receives our messages, signed with `secret` (HMAC-SHA256, encrypted at rest, never shown);
    - `api_client` is the court system's token for our API (referrals in, answers in); one client per court.
    """

    name = models.CharField("法院名称", max_length=80, unique=True,
                            help_text="与移送、司法确认申请中填写的法院名称完全一致，如“诸暨市人民法院”")
    code = models.CharField("法院代码", max_length=30, unique=True,
                            validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]{1,29}$", "只能使用小写字母、数字和“-”")])
    endpoint_url = models.URLField("接收地址", max_length=500, help_text="须为 https 地址；不能指向内网或云服务元数据地址")
    secret = SecretField("签名密钥")
    api_client = models.OneToOneField(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="court", verbose_name="法院接口客户端",
        help_text="法院系统调用本平台接口所用的客户端（权限范围 court:exchange）",
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "对接法院"
        verbose_name_plural = "对接法院"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = check_url(self.endpoint_url or "", debug=settings.DEBUG)
        if problem:
            raise ValidationError({"endpoint_url": problem.replace("回调地址", "接收地址")})


class CourtMessage(models.Model):
    """One message received from a court (a referral, an acceptance, a ruling), kept for the exchange log and
    for replays. Outbound messages are the outbox's (`yidi.integrations`, kind `court`).

    `summary` holds the message without personal data (parties' ID numbers, phones and addresses masked);
    `content_sha256` is the digest of the full content, to tell a replay from a conflicting message.
    """

    court = models.ForeignKey(Court, on_delete=models.PROTECT, related_name="messages", verbose_name="法院")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="court_messages",
                             verbose_name="事项")
    type = models.CharField("消息类型", max_length=30, choices=list(MESSAGE_TYPE_LABELS.items()))
    message_id = models.CharField("消息编号", max_length=120)
    court_case_number = models.CharField("法院案号", max_length=60, blank=True)
    in_reply_to = models.CharField("回复的消息", max_length=120, blank=True)
    content_sha256 = models.CharField(max_length=64)
    summary = models.JSONField("内容（已脱敏）", default=dict)
    state = models.CharField("处理情况", max_length=20, choices=list(ANSWER_STATE_LABELS.items()))
    note = models.CharField("说明", max_length=300, blank=True)
    response = models.JSONField("首次答复", default=dict)
    received_at = models.DateTimeField("接收时间")
    applied_at = models.DateTimeField("登记时间", null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="登记人")

    class Meta:
        verbose_name = "法院来文"
        verbose_name_plural = "法院来文"
        ordering = ["-received_at", "-id"]
        constraints = [
            # a court's message is handled once (replays answer from `response`)
            models.UniqueConstraint(fields=["court", "message_id"], name="court_message_once"),
            # a court's case number names one referral
            models.UniqueConstraint(fields=["court", "court_case_number"], condition=Q(type="referral"),
                                    name="court_referral_once"),
        ]
        indexes = [
            # the exchange log of a matter and the list of answers awaiting staff (`queries`)
            models.Index(fields=["case", "received_at"], name="court_message_case"),
            models.Index(fields=["state", "received_at"], name="court_message_state"),
        ]

    def __str__(self) -> str:
        return f"{self.court} · {self.get_type_display()} · {self.message_id}"
