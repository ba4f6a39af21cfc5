"""The routing rules as admin-editable rows, and their change history.

A row stores a rule exactly in its JSON form (`data/default_rules.json`): `when` and `then` are the JSON
objects of one entry, `code` is its `id` and `position` its `order`. `to_domain()` parses it with the one
parser, `domain.rule_from_dict`. Write rows through `yidi.routing.actions`, which keep the history, the
audit log and the in-process cache of `queries.active_rules()` right.
"""

from django.conf import settings
from django.db import models

from yidi.routing.domain import RoutingRule as DomainRule
from yidi.routing.domain import rule_from_dict


class RevisionOperation(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"


class RoutingRule(models.Model):
    """One row of the routing decision table (分派规则)."""

    code = models.SlugField("规则代码", max_length=60, unique=True)
    position = models.IntegerField("顺序", help_text="从小到大依次尝试，第一条满足条件的规则生效")
    name = models.CharField("名称", max_length=120, blank=True)
    is_active = models.BooleanField("启用", default=True)
    when = models.JSONField("条件", default=dict, blank=True)
    then = models.JSONField("处理")
    # With the row count and the newest revision id, the version that `queries.active_rules()` checks.
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "分派规则"
        verbose_name_plural = "分派规则"
        ordering = ["position", "code"]  # evaluation order; the table is small, so no index

    def __str__(self) -> str:
        return f"{self.code}「{self.name}」" if self.name else self.code

    def as_dict(self) -> dict:
        """The rule in its JSON form, as in `data/default_rules.json` (also the revision snapshot)."""
        return {
            "id": self.code,
            "order": self.position,
            "name": self.name,
            "active": self.is_active,
            "when": self.when,
            "then": self.then,
        }

    def to_domain(self) -> DomainRule:
        """The pure rule; raises `domain.RuleFormatError` if the stored JSON is wrong."""
        return rule_from_dict(self.as_dict())


class RoutingRuleRevision(models.Model):
    """The change history of the routing rules: every create, change and delete, with who and when."""

    rule_code = models.CharField("规则代码", max_length=60)  # not a foreign key: deleted rules keep history
    operation = models.CharField("操作", max_length=10, choices=RevisionOperation.choices)
    snapshot = models.JSONField("内容")
    changed_at = models.DateTimeField("时间")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )

    class Meta:
        verbose_name = "分派规则变更记录"
        verbose_name_plural = "分派规则变更记录"
        ordering = ["-id"]
        indexes = [models.Index(fields=["rule_code", "id"], name="routing_revision_rule")]  # a rule's history

    def __str__(self) -> str:
        return f"{self.rule_code} {self.get_operation_display()} {self.changed_at:%Y-%m-%d %H:%M}"
