from django.conf import settings
from django.db import models
from django.db.models import Q

from yidi.audit.domain import GENESIS_MAC


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"


class AuditEvent(models.Model):
    """One row per change and per personal-data view: who, role, unit, when, from where, what, outcome, why.

    Rows are only ever inserted (`yidi.audit.actions.record`), each sealed into one of a few parallel hash
    chains (`chain`, so that concurrent writers need not wait for each other's commits): within a chain `seq`
    is gap-free, `prev_mac` is the previous row's `mac`, `mac` is an HMAC over the row (`audit.domain`) under
    the key `key_id`. Triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of this table.
    """

    chain = models.PositiveSmallIntegerField("链", default=1)
    seq = models.PositiveBigIntegerField("序号")  # gap-free within the chain; (chain, seq) is unique
    at = models.DateTimeField("时间", db_index=True)  # date-range search
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="操作人"
    )
    actor_username = models.CharField("账号", max_length=150, blank=True)
    actor_roles = models.CharField("角色", max_length=200, blank=True)
    actor_unit_code = models.CharField("单位", max_length=60, blank=True)
    source_ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    action = models.CharField("操作", max_length=60)  # search by action: `audit_action` (exact, no LIKE index)
    object_type = models.CharField("对象类型", max_length=40)
    object_id = models.CharField("对象标识", max_length=100)
    fields = models.JSONField("涉及字段", default=list, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS)
    reason = models.TextField("事由", blank=True)
    data = models.JSONField("详情", default=dict, blank=True)
    key_id = models.CharField("密钥编号", max_length=16)
    prev_mac = models.CharField("前序校验码", max_length=64)
    mac = models.CharField("校验码", max_length=64)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["at", "id"]
        constraints = [
            # the chain order and the verification batches
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
        ]
        indexes = [
            # equality and prefix search (`case.` …): pattern operators on PostgreSQL serve both
            models.Index(fields=["action"], name="audit_action_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),  # an object's history
            models.Index(fields=["actor_username", "at"], name="audit_actor"),  # an account's actions
        ]

    def __str__(self) -> str:
        return f"#{self.chain}-{self.seq} {self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The head of one chain (`id` is the chain's number): a writer locks a free head (SELECT … FOR UPDATE
    SKIP LOCKED on PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers), takes
    `last_seq + 1` and chains onto `last_mac`; the lock is held until the writer's transaction ends."""

    SINGLETON = 1  # the first chain: the only one SQLite uses
    MAX_CHAINS = 16

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON)
    last_seq = models.PositiveBigIntegerField("最新序号", default=0)
    last_mac = models.CharField("最新校验码", max_length=64, default=GENESIS_MAC)

    class Meta:
        verbose_name = "审计链头"
        verbose_name_plural = "审计链头"
        constraints = [
            models.CheckConstraint(condition=Q(id__gte=1, id__lte=16), name="audit_chain_head_number"),
        ]

    def __str__(self) -> str:
        return f"链 {self.id} #{self.last_seq} {self.last_mac[:12]}…"
