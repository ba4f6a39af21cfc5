from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from yidi.privacy.domain import EXPORT_STATUS_LABELS, RECORD_TYPE_LABELS, RecordType


class RetentionRule(models.Model):
    """How long one kind of record keeps its personal data (保管期限), counted from the record type's start.

    Data, not code: the periods are a local decision (docs/privacy.md, "Retention"). Changes are audited.
    """

    record_type = models.CharField(
        "记录类型", max_length=40, unique=True, choices=[(t.value, label) for t, (label, _) in RECORD_TYPE_LABELS.items()]
    )
    retention_years = models.PositiveSmallIntegerField(
        "保存年限", validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    basis = models.TextField("依据", blank=True, help_text="本地档案管理规定或决定的文号、条款")
    is_active = models.BooleanField("启用", default=True, help_text="停用后，此类记录到期也不做匿名化处理")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "保存期限规则"
        verbose_name_plural = "保存期限规则"
        ordering = ["record_type"]
        constraints = [models.CheckConstraint(condition=Q(retention_years__gte=1), name="retention_at_least_a_year")]

    def __str__(self) -> str:
        return f"{self.get_record_type_display()}：{self.retention_years} 年"

    @property
    def record_type_enum(self) -> RecordType:
        return RecordType(self.record_type)


class Anonymisation(models.Model):
    """A matter whose personal data was anonymised after its retention period; one row per matter, ever."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name="事项")
    record_type = models.CharField("记录类型", max_length=40)
    retention_years = models.PositiveSmallIntegerField("保存年限")
    retention_started_at = models.DateTimeField("起算时间")
    anonymised_at = models.DateTimeField("匿名化时间")
    persons_anonymised = models.PositiveIntegerField("匿名化的当事人档案", default=0)
    persons_detached = models.PositiveIntegerField("另建匿名档案的当事人", default=0)
    attachments_removed = models.PositiveIntegerField("删除的附件", default=0)

    class Meta:
        verbose_name = "匿名化记录"
        verbose_name_plural = "匿名化记录"
        ordering = ["-anonymised_at", "-id"]


class ExportRequest(models.Model):
    """A request to export the full personal data of the parties of a set of matters (frozen at request time).

    A second person in the region approves it; it then expires and may be downloaded a limited number of times.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    requester_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="申请单位"
    )
    # The requester unit's region: approvers whose unit region contains it may see and decide the request.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    requested_at = models.DateTimeField("申请时间")
    reason = models.TextField("导出理由")
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    filter_summary = models.CharField("导出范围", max_length=500)
    case_ids = models.JSONField("事项", default=list)
    case_count = models.PositiveIntegerField("事项数")
    party_count = models.PositiveIntegerField("当事人数")
    status = models.CharField(
        "状态", max_length=10, default="pending",
        choices=[(s.value, label) for s, label in EXPORT_STATUS_LABELS.items()],
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_reason = models.TextField("审批意见", blank=True)
    expires_at = models.DateTimeField("有效期至", null=True, blank=True)
    max_downloads = models.PositiveSmallIntegerField("可下载次数", default=0)
    download_count = models.PositiveSmallIntegerField("已下载次数", default=0)
    last_downloaded_at = models.DateTimeField("最近下载时间", null=True, blank=True)

    class Meta:
        verbose_name = "个人信息导出申请"
        verbose_name_plural = "个人信息导出申请"
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "requested_at"], name="export_requester"),  # my requests
            models.Index(fields=["status", "region"], name="export_status_region"),  # pending approvals by region
        ]
        constraints = [
            # Defence in depth for "the requester never approves their own request".
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")), name="export_not_self_decided"
            ),
            models.CheckConstraint(condition=Q(download_count__lte=F("max_downloads")), name="export_download_limit"),
        ]

    def __str__(self) -> str:
        return f"导出申请 #{self.pk}"
