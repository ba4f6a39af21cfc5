from django.conf import settings
from django.db import models
from django.db.models import Q

from yidi.supervision.domain import (
    ACTION_LABELS,
    KIND_LABELS,
    OPEN_STATUSES,
    SEVERITY_LABELS,
    STATUS_LABELS,
    AlertKind,
    AlertStatus,
    Severity,
)


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class DetectionRule(models.Model):
    """The thresholds of one detector, as data (admin-editable; defaults seeded by migration 0002).

    The meaning of the generic columns per kind:
    - spike: `baseline_periods` weeks of baseline; `p_value` and `min_count` (matters in the week);
      severity measure = observed ÷ expected;
    - cluster: `window_days` window; `min_count` distinct complainants; severity measure = complainants;
    - repeat: `window_days` window; `min_count` contacts by one person; severity measure = contacts;
    - seasonal: `window_days` = length of the pre-festival season; `baseline_periods` earlier years;
      `p_value`, `min_count`; `dispute_type_code` the type watched (劳动争议: wage arrears); measure = ratio.
    """

    kind = models.CharField("预警类型", max_length=20, choices=_choices(KIND_LABELS), unique=True)
    is_active = models.BooleanField("启用", default=True)
    baseline_periods = models.PositiveSmallIntegerField(
        "基线期数", default=8, help_text="激增：前若干周作为基线；季节性：往年若干年作为基线"
    )
    window_days = models.PositiveSmallIntegerField(
        "时间窗（天）", default=14, help_text="群体性苗头与重复来访的时间窗；季节性为春节前的天数"
    )
    min_count = models.PositiveIntegerField(
        "最少数量", default=5, help_text="激增/季节性：最少件数；群体性：最少不同反映人数；重复来访：最少反映次数"
    )
    p_value = models.FloatField("显著性阈值 p", default=0.01, help_text="单侧泊松检验的 p 值低于此值才预警")
    orange_at = models.FloatField("橙色阈值", default=3, help_text="严重程度指标达到此值定为橙色")
    red_at = models.FloatField("红色阈值", default=5, help_text="严重程度指标达到此值定为红色")
    dispute_type_code = models.SlugField(
        "纠纷类型代码", max_length=40, blank=True, help_text="季节性规则关注的纠纷类型（人民调解分类代码，如 labour）"
    )
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "预警规则"
        verbose_name_plural = "预警规则"
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(condition=Q(p_value__gt=0, p_value__lt=1), name="detection_rule_p_in_range"),
            models.CheckConstraint(condition=Q(red_at__gte=models.F("orange_at")), name="detection_rule_red_above"),
            models.CheckConstraint(condition=Q(baseline_periods__gte=1), name="detection_rule_baseline_positive"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="detection_rule_window_positive"),
        ]

    def __str__(self) -> str:
        return KIND_LABELS[AlertKind(self.kind)]


class SpringFestival(models.Model):
    """The date of the Spring Festival (正月初一) in each year, for the seasonal rule. Data, seeded 2015–2035."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    festival_on = models.DateField("春节日期")

    class Meta:
        verbose_name = "春节日期"
        verbose_name_plural = "春节日期"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}年春节 {self.festival_on}"


OPEN_ALERT = Q(status__in=[status.value for status in OPEN_STATUSES])


class Alert(models.Model):
    """A risk alert (风险预警): what was seen, how severe, who owns it, the matters inside, and where it stands."""

    kind = models.CharField("类型", max_length=20, choices=_choices(KIND_LABELS))
    status = models.CharField("状态", max_length=20, choices=_choices(STATUS_LABELS), default=AlertStatus.NEW)
    severity = models.CharField("等级", max_length=10, choices=_choices(SEVERITY_LABELS), default=Severity.YELLOW)
    severity_rule = models.CharField("定级依据", max_length=300, blank=True)
    title = models.CharField("标题", max_length=160)
    reason = models.TextField("预警理由")
    fingerprint = models.CharField(max_length=120)  # the same situation seen again (deduplication)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="区域",
                               db_index=False)  # indexed by `alert_region_detected`
    dispute_type = models.ForeignKey(
        "core.TaxonomyLabel", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="纠纷类型"
    )
    owner_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="责任单位"
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="责任人",
    )
    cases = models.ManyToManyField("cases.Case", through="AlertCase", related_name="+", verbose_name="关联事项")
    measures = models.JSONField("检验数据", default=dict, blank=True)
    period_start_on = models.DateField("观测起始日", null=True, blank=True)
    period_end_on = models.DateField("观测截止日", null=True, blank=True)
    detected_at = models.DateTimeField("发现时间")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="上报人")  # None: detection
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "风险预警"
        verbose_name_plural = "风险预警"
        ordering = ["-detected_at", "-id"]
        indexes = [
            # The scoped list: region code range, newest first.
            models.Index(fields=["region", "detected_at"], name="alert_region_detected"),
            # Status tabs and counts per status.
            models.Index(fields=["status", "detected_at"], name="alert_status_detected"),
        ]
        constraints = [
            # Deduplication: one open alert per situation; a detection run adds matters to it instead.
            models.UniqueConstraint(fields=["fingerprint"], condition=OPEN_ALERT, name="one_open_alert_per_fingerprint"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_enum(self) -> AlertStatus:
        return AlertStatus(self.status)

    @property
    def is_command_eligible(self) -> bool:
        """The command view is for red alerts and group incidents."""
        return self.severity == Severity.RED or self.kind == AlertKind.CLUSTER


class AlertCase(models.Model):
    """A matter inside an alert, and when it was added (by the first detection or a later run)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="alert_cases")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField("加入时间")

    class Meta:
        ordering = ["added_at", "id"]
        indexes = [models.Index(fields=["case"], name="alert_case_case")]  # a matter's alerts; dedup of clusters
        constraints = [models.UniqueConstraint(fields=["alert", "case"], name="alert_case_unique")]


class AlertEvent(models.Model):
    """The alert's own timeline: one row per step, with who, when and the note."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events", db_index=False)  # (alert, seq)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=30, choices=_choices(ACTION_LABELS))
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor_name = models.CharField(max_length=60)
    actor_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, null=True, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["alert_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["alert", "seq"], name="alert_event_seq_unique")]

    @property
    def label(self) -> str:
        return self.get_action_display()

    @property
    def unit_name(self) -> str:
        return self.actor_unit.name if self.actor_unit_id else ""

    @property
    def reason(self) -> str:  # the timeline component shows `reason`
        return self.note

    @property
    def detail(self) -> str:
        parts = []
        if self.data.get("severity_label"):
            parts.append(f"等级：{self.data['severity_label']}")
        if self.data.get("owner_unit_name"):
            parts.append(f"责任单位：{self.data['owner_unit_name']}")
        if self.data.get("owner_user_name"):
            parts.append(f"责任人：{self.data['owner_user_name']}")
        if self.data.get("added"):
            parts.append(f"新增事项：{self.data['added']} 件")
        if self.data.get("task"):
            parts.append(f"任务：{self.data['task']}")
        if self.data.get("unit_name"):
            parts.append(f"承办单位：{self.data['unit_name']}")
        if self.data.get("case_codes"):
            parts.append("同时批示事项：" + "、".join(self.data["case_codes"]))
        return "；".join(parts)


class TaskStatus(models.TextChoices):
    OPEN = "open", "办理中"
    DONE = "done", "已完成"


class CommandTask(models.Model):
    """A task given to a unit from the command view: an action with a deadline and an owner unit."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="tasks")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="承办单位",
                             db_index=False)  # indexed by `command_task_unit_status`
    action = models.CharField("任务内容", max_length=300)
    due_at = models.DateTimeField("完成期限")
    status = models.CharField("状态", max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assigned_at = models.DateTimeField("下达时间")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    result = models.TextField("完成情况", blank=True)

    class Meta:
        verbose_name = "指挥任务"
        verbose_name_plural = "指挥任务"
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["unit", "status"], name="command_task_unit_status")]  # 我的指挥任务

    def is_overdue(self, now) -> bool:
        if self.status == TaskStatus.DONE:
            return self.done_at is not None and self.done_at > self.due_at
        return now > self.due_at


class CommandInstruction(models.Model):
    """A leader's instruction (领导批示) given at command level, optionally also written on some matters."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="instructions")
    text = models.TextField("批示内容")
    case_codes = models.JSONField("同时批示的事项", default=list, blank=True)
    given_at = models.DateTimeField("批示时间")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["given_at", "id"]
