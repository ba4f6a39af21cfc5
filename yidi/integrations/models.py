from django.db import models
from django.db.models import Q

from yidi.core.masking import PersonalKind
from yidi.core.personal import PersonalDataField
from yidi.integrations.domain import KIND_LABELS, MESSAGE_STATUS_LABELS, MessageStatus, mask_destination


class OutboxMessage(models.Model):
    """One outbound message (短信、邮件、回调 …), written in the transaction of the step that caused it and delivered
    afterwards by `yidi.integrations.jobs` (transactional outbox: a step that rolls back sends nothing).

    `subject_type` + `subject_id` name what the message is about (e.g. "case", "330681-2026-000123") without a
    foreign key, so that any app can use the outbox; `template` is the key of the text's template, if any.
    """

    kind = models.CharField("类型", max_length=20)
    destination = PersonalDataField("收件地址", kind=PersonalKind.PHONE)  # a phone, an e-mail address, a URL …
    subject = models.CharField("标题", max_length=120, blank=True)  # e-mail only
    text = models.TextField("内容", blank=True)
    payload = models.JSONField("数据", default=dict, blank=True)
    subject_type = models.CharField("关联对象类型", max_length=30, blank=True)
    subject_id = models.CharField("关联对象", max_length=60, blank=True)
    template = models.CharField("模板", max_length=40, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=120, unique=True)
    status = models.CharField(
        "状态", max_length=10, choices=[(k.value, v) for k, v in MESSAGE_STATUS_LABELS.items()],
        default=MessageStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间")
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间")
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "发件箱消息"
        verbose_name_plural = "发件箱"
        ordering = ["-created_at", "-id"]
        indexes = [
            # the delivery claim: pending rows whose next attempt is due, oldest first (`jobs._claim`)
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="outbox_due"),
            # a matter's messages for staff (`yidi.notify.queries.outbox_for_case`)
            models.Index(fields=["subject_type", "subject_id", "created_at"], name="outbox_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label} → {self.masked_destination}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def masked_destination(self) -> str:
        return mask_destination(self.kind, self.destination)


class OutboxAttempt(models.Model):
    """One delivery attempt of a message, successful or not (the log behind `attempts` and `last_error`)."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField("时间")
    ok = models.BooleanField("成功")
    error = models.TextField("错误", blank=True)
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", default=0)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["at", "id"]
