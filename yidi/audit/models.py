from django.conf import settings
from django.db import models


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"


class AuditEvent(models.Model):
    """One row per change and per personal-data view: who, role, unit, when, from where, what, outcome, why.

    Rows are only ever inserted (`yidi.audit.record`); nothing in the application updates or deletes them.
    """

    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作人"
    )
    actor_username = models.CharField("账号", max_length=150, blank=True)
    actor_roles = models.CharField("角色", max_length=200, blank=True)
    actor_unit_code = models.CharField("单位", max_length=40, blank=True)
    source_ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    action = models.CharField("操作", max_length=60, db_index=True)
    object_type = models.CharField("对象类型", max_length=40)
    object_id = models.CharField("对象标识", max_length=40)
    fields = models.JSONField("涉及字段", default=list, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)
    reason = models.TextField("事由", blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]  # an object's history

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}:{self.object_id}"
