from django.conf import settings
from django.db import models
from django.db.models import Q

from yidi.campaigns.domain import LINK_SOURCE_LABELS, STATUS_LABELS, CampaignRule, CampaignStatus, LinkSource
from yidi.regions.domain import code_range


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class Campaign(models.Model):
    """A special campaign (重点领域专项治理): dispute types × regions × period, led by one unit with member units."""

    name = models.CharField("专项名称", max_length=80)
    description = models.TextField("工作要求", blank=True)
    # The region of the unit that owns the campaign: its managers are the leaders, supervisors and dispatchers
    # of a unit whose region contains this one. The campaign's regions lie within it.
    scope_region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+",
                                     verbose_name="所属辖区")
    dispute_types = models.ManyToManyField("core.TaxonomyLabel", related_name="+", verbose_name="纠纷类型")
    regions = models.ManyToManyField("regions.Region", related_name="+", verbose_name="治理区域")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    lead_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+",
                                  verbose_name="牵头单位")
    member_units = models.ManyToManyField("accounts.Unit", related_name="+", blank=True, verbose_name="成员单位")
    status = models.CharField("状态", max_length=10, choices=_choices(STATUS_LABELS), default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    created_at = models.DateTimeField("创建时间")
    activated_at = models.DateTimeField("启动时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "专项治理"
        verbose_name_plural = "专项治理"
        ordering = ["-starts_on", "-id"]
        # The registration listener reads the active campaigns on every registration and reclassification.
        indexes = [models.Index(fields=["status"], name="campaign_status")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def status_enum(self) -> CampaignStatus:
        return CampaignStatus(self.status)

    def rule(self) -> CampaignRule:
        return CampaignRule(
            type_ids=frozenset(self.dispute_types.values_list("pk", flat=True)),
            region_codes=tuple(sorted(self.regions.values_list("code", flat=True))),
            starts_on=self.starts_on, ends_on=self.ends_on,
        )

    def region_filter(self, prefix: str = "") -> Q:
        """Matters located in one of the campaign's regions (code ranges; `prefix` names the case relation)."""
        condition = Q(pk__in=[])
        for code in self.regions.values_list("code", flat=True):
            low, high = code_range(code)
            condition |= Q(**{f"{prefix}region_id__gte": low, f"{prefix}region_id__lt": high})
        return condition


class CampaignMatter(models.Model):
    """A matter's membership of a campaign: how it came in (rule or by hand, who, when) and, if a person took it
    out, who, when and why. A removed row stays: it is what keeps the rule from adding the matter again."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    source = models.CharField("纳入方式", max_length=10, choices=_choices(LINK_SOURCE_LABELS))
    linked_at = models.DateTimeField("纳入时间")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="纳入人")
    link_reason = models.CharField("纳入说明", max_length=300, blank=True, db_default="")
    removed_at = models.DateTimeField("移出时间", null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="移出人")
    removal_reason = models.CharField("移出理由", max_length=300, blank=True, db_default="")

    class Meta:
        verbose_name = "专项事项"
        verbose_name_plural = "专项事项"
        ordering = ["-linked_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "case"], name="campaign_matter_unique")]
        # The campaign's current matters (figures, list): campaign + not removed.
        indexes = [models.Index(fields=["campaign", "removed_at"], name="campaign_matter_current")]

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def source_label(self) -> str:
        return LINK_SOURCE_LABELS[LinkSource(self.source)]
