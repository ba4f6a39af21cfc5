from django.db import models


class Taxonomy(models.Model):
    """A versioned classification code list (人民调解 types, 12345 categories, …)."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    version = models.CharField("版本", max_length=20)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "分类体系"
        verbose_name_plural = "分类体系"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.version}）"


class TaxonomyLabel(models.Model):
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="labels", verbose_name="分类体系")
    code = models.SlugField("代码", max_length=40)
    name = models.CharField("名称", max_length=60)
    position = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "分类标签"
        verbose_name_plural = "分类标签"
        ordering = ["taxonomy_id", "position"]
        constraints = [models.UniqueConstraint(fields=["taxonomy", "code"], name="label_code_unique_in_taxonomy")]

    def __str__(self) -> str:
        return self.name


class LabelMapping(models.Model):
    """The mapping table between parallel code lists: a label in one list suggests a label in another."""

    source = models.ForeignKey(TaxonomyLabel, on_delete=models.CASCADE, related_name="+", verbose_name="源标签")
    target = models.ForeignKey(TaxonomyLabel, on_delete=models.CASCADE, related_name="+", verbose_name="对应标签")

    class Meta:
        verbose_name = "分类对照"
        verbose_name_plural = "分类对照"
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="label_mapping_unique")]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class CodeSequence(models.Model):
    """The last number handed out for one code prefix and year (一案一码), incremented under a row lock."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="code_sequence_unique")]


class WorkCalendarDay(models.Model):
    """A date that breaks the weekday rule: a holiday on a weekday, or a make-up working weekend (调休).

    Rows with an empty `unit_code` form the national calendar; rows with a unit's code are that unit's own
    overrides (特色日历). A year counts as covered when the national calendar has at least one row in it.
    """

    HOLIDAY = "holiday"
    WORKDAY = "workday"

    day = models.DateField("日期")
    kind = models.CharField("类型", max_length=10, choices=[(HOLIDAY, "放假"), (WORKDAY, "调休上班")])
    name = models.CharField("名称", max_length=80, blank=True)
    source = models.CharField("来源", max_length=80, blank=True)
    unit_code = models.CharField("单位代码", max_length=60, blank=True, help_text="留空为全国日历；填写单位代码为该单位的特色日历")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "工作日历"
        verbose_name_plural = "工作日历"
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["day", "unit_code"], name="calendar_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()} {self.name}"


class DeadlinePolicyRecord(models.Model):
    """A time-limit policy (admin-editable copy of `core/data/default_policies.json`).

    Blank matching keys match any matter; the most specific policy wins (`yidi.core.deadlines.select_policy`).
    `stages` holds the stage list in the JSON file's shape and is validated by the pure parser.
    """

    code = models.SlugField("代码", max_length=60, unique=True)
    name = models.CharField("名称", max_length=80)
    channel_group = models.SlugField("渠道类别", max_length=40, blank=True)
    request_type = models.CharField("诉求类型", max_length=30, blank=True)
    level = models.CharField("处置层级", max_length=10, blank=True)
    dispute_type = models.CharField("纠纷类型", max_length=40, blank=True)
    stages = models.JSONField("各阶段时限")
    diversion = models.CharField("到期引导途径", max_length=80, blank=True)
    basis = models.TextField("依据", blank=True)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "时限规则"
        verbose_name_plural = "时限规则"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class EscalationRuleRecord(models.Model):
    """One rung of the 督办 ladder: at this deadline state (and days overdue), apply this effect."""

    code = models.SlugField("代码", max_length=60, unique=True)
    state = models.CharField("触发状态", max_length=10, choices=[
        ("yellow", "黄色预警"), ("red", "红色预警"), ("overdue", "已逾期")])
    effect = models.CharField("处置", max_length=20, choices=[
        ("warn", "预警提醒"), ("urge_normal", "普通督办"), ("urge_yellow", "黄牌督办"), ("urge_red", "红牌督办"),
        ("escalate", "提级上报"), ("offer_diversion", "引导至其他法定途径")])
    stage = models.CharField(
        "阶段", max_length=30, blank=True, help_text="留空适用于各办理阶段（对方答复、申请司法确认等当事人期间除外）"
    )
    min_overdue_days = models.PositiveSmallIntegerField("逾期天数下限", default=0)
    policy_codes = models.JSONField("适用时限规则", default=list, blank=True, help_text="留空适用于所有时限规则")
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "督办规则"
        verbose_name_plural = "督办规则"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
