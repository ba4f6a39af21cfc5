from django.db import models
from django.db.models import Q

from yidi.analytics.domain import KPIS


class RegionPopulation(models.Model):
    """The resident population (常住人口) of a region in a year: the denominator of 万人成讼率."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="行政区划")
    year = models.PositiveSmallIntegerField("年度")
    resident_population = models.PositiveIntegerField("常住人口（人）")
    source = models.CharField("数据来源", max_length=200, help_text="如：统计年鉴；演示数据须注明“演示用估算值”")
    is_estimate = models.BooleanField("估算值", default=False, help_text="演示或估算的数字，不是统计部门公布的数据")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "常住人口"
        verbose_name_plural = "常住人口"
        ordering = ["year", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="region_population_one_per_year"),
            models.CheckConstraint(condition=Q(resident_population__gt=0), name="region_population_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}年 {self.resident_population}人"


class WorkdayOrdinal(models.Model):
    """A derived index of the national working calendar: `ordinal` counts the working days up to and including
    `day`. The working days between two dates are the difference of their ordinals (start day not counted), so
    averages and "within N working days" are plain SQL. Rebuilt from `yidi.core.worktime` by
    `yidi.analytics.workdays.ensure_index` whenever the calendar changes; never edited by hand."""

    day = models.DateField(primary_key=True)
    ordinal = models.PositiveIntegerField()

    class Meta:
        verbose_name = "工作日序号"
        verbose_name_plural = "工作日序号"


KPI_CHOICES = [(kpi.code, kpi.name) for kpi in KPIS]


class AssessmentScheme(models.Model):
    """An assessment scheme (考核办法): KPI weights and deductions, as data. The active one scores the rankings."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=80)
    minimum_volume = models.PositiveIntegerField(
        "最低样本量（件）", default=10, help_text="本期事项少于此数的单位列为“样本不足，不参与排名”")
    is_active = models.BooleanField("启用", default=True, help_text="排名使用启用中代码最小的一套办法")
    basis = models.TextField("依据", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "考核办法"
        verbose_name_plural = "考核办法"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AssessmentWeight(models.Model):
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="weights",
                               verbose_name="考核办法")
    kpi_code = models.CharField("指标", max_length=40, choices=KPI_CHOICES)
    points = models.DecimalField("分值", max_digits=6, decimal_places=2, help_text="得分 = 指标率 × 分值")
    position = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "考核指标权重"
        verbose_name_plural = "考核指标权重"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kpi_code"], name="assessment_weight_one_per_kpi"),
            models.CheckConstraint(condition=Q(points__gt=0), name="assessment_weight_positive"),
        ]


class DeductionKind(models.TextChoices):
    OVERDUE_MATTER = "overdue_matter", "超期办结事项（件）"
    LATE_SIGN = "late_sign", "超时签收事项（件）"
    VERIFIED_COMPLAINT = "verified_complaint", "群众不满意经核实重办（件）"
    RED_URGING = "red_urging", "红牌督办（次）"
    REPEAT_CONTACT = "repeat_contact", "重复来访/来电事项（件）"


class AssessmentDeduction(models.Model):
    scheme = models.ForeignKey(AssessmentScheme, on_delete=models.CASCADE, related_name="deductions",
                               verbose_name="考核办法")
    kind = models.CharField("扣分项", max_length=30, choices=DeductionKind.choices)
    points_per_item = models.DecimalField("每件扣分", max_digits=6, decimal_places=2)
    cap = models.DecimalField("最多扣分", max_digits=6, decimal_places=2, null=True, blank=True,
                              help_text="留空为不设上限")

    class Meta:
        verbose_name = "考核扣分项"
        verbose_name_plural = "考核扣分项"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "kind"], name="assessment_deduction_one_per_kind"),
            models.CheckConstraint(condition=Q(points_per_item__gt=0), name="assessment_deduction_positive"),
        ]


class DailyCount(models.Model):
    """The daily rollup (日汇总) behind the county overview: how many matters were registered, concluded (with a
    result), concluded as resolved and closed on one Shanghai day, per township × dispute type × channel. Each
    count is on its own day (a matter registered on the 3rd and closed on the 9th counts on both rows). Derived
    data: rebuilt and refreshed by `yidi.analytics.rollup` only, never edited; days after `RollupState.through_on`
    are computed live from the matters."""

    day = models.DateField()
    area = models.CharField(max_length=12)  # the township code (first 9 digits) of the matter's region, or shorter
    type_id = models.IntegerField(null=True)  # Case.primary_type_id (a TaxonomyLabel), null for 待分类
    channel_id = models.IntegerField()  # Case.channel_id
    registered = models.PositiveIntegerField(default=0)
    concluded = models.PositiveIntegerField(default=0)  # concluded in the day with an outcome (化解率's denominator)
    resolved = models.PositiveIntegerField(default=0)  # of which resolved (化解率's numerator)
    closed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "每日汇总"
        verbose_name_plural = "每日汇总"
        indexes = [models.Index(fields=["day", "area"], name="daily_count_day_area")]  # a period's rows of a county


class RollupState(models.Model):
    """Where the daily rollup stands (one row): every day up to `through_on` is in `DailyCount`, and every change
    to matters up to `changes_seen_at` (their `updated_at`) is in it."""

    through_on = models.DateField(null=True)
    changes_seen_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "日汇总状态"
        verbose_name_plural = "日汇总状态"
