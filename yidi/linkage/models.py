from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from yidi.accounts.models import ApiClient, SecretField
from yidi.core.masking import PersonalKind
from yidi.core.personal import PersonalDataField
from yidi.linkage.domain import (
    ASSIGNMENT_KIND_LABELS,
    ASSIGNMENT_STATUS_LABELS,
    DIRECTION_LABELS,
    TRANSFER_STATUS_LABELS,
    AssignmentStatus,
    TransferStatus,
)
from yidi.webhooks.domain import check_url


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


_region_code = RegexValidator(r"^\d{2,12}$", "请填写行政区划代码（数字）")


class Peer(models.Model):
    """Another yidi instance this one exchanges matters with (三级联动): the platform above (上级平台: a city or
    province) or one below (下级平台: a county), configured by the system administrator.

    - `token` is what this instance presents to the peer (issued by the peer with `create_api_client`, scope
      `linkage:exchange`); encrypted at rest and never shown;
    - `api_client` is the client the peer uses to call this instance: an inbound request is accepted as coming
      from this peer only through it.
    """

    name = models.CharField("名称", max_length=80)
    direction = models.CharField("方向", max_length=10, choices=_choices(DIRECTION_LABELS))
    region_code = models.CharField("区划代码", max_length=12, validators=[_region_code],
                                   help_text="上级平台：市或省的区划代码（如 3306）；下级平台：县级 6 位代码")
    region_name = models.CharField("区划名称", max_length=60)
    base_url = models.URLField("平台地址", max_length=300, help_text="对方实例的根地址，如 https://shaoxing.example.gov.cn")
    token = SecretField("出站令牌")
    api_client = models.OneToOneField(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="linkage_peer",
        verbose_name="入站接口客户端", help_text="对方调用本平台时使用的接口客户端（权限范围 linkage:exchange）",
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_contact_at = models.DateTimeField("最近来讯时间", null=True, blank=True)

    class Meta:
        verbose_name = "联动平台"
        verbose_name_plural = "联动平台"
        ordering = ["direction", "region_code"]
        constraints = [models.UniqueConstraint(fields=["direction", "region_code"], name="linkage_peer_unique_region")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}：{self.name}"

    def clean(self) -> None:
        problem = check_url(self.base_url or "", debug=settings.DEBUG)
        if problem:
            raise ValidationError({"base_url": problem.replace("回调地址", "平台地址")})


class ReportedCase(models.Model):
    """The mirror of one matter of a platform below, as last reported (no personal data: no title, description,
    party or address). Replaced only by a report of a higher `version`."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="reported_cases", verbose_name="下级平台")
    code = models.CharField("事项编码", max_length=24)
    version = models.PositiveIntegerField("版本")
    status = models.CharField("状态", max_length=30)
    status_label = models.CharField("状态名称", max_length=20)
    request_type = models.CharField("诉求类型", max_length=20, blank=True)
    type_code = models.CharField("纠纷类型", max_length=60, blank=True)
    type_name = models.CharField("纠纷类型名称", max_length=60, blank=True)
    grade = models.CharField("风险等级", max_length=10, blank=True)
    region_code = models.CharField("发生地", max_length=12)
    region_name = models.CharField("发生地名称", max_length=60, blank=True)
    township_code = models.CharField("乡镇（街道）", max_length=9, blank=True)
    township_name = models.CharField("乡镇（街道）名称", max_length=60, blank=True)
    channel = models.CharField("来源渠道", max_length=40, blank=True)
    lead_unit_name = models.CharField("主办单位", max_length=80, blank=True)
    registered_at = models.DateTimeField("登记时间")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    concluded_at = models.DateTimeField("出结果时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    due_at = models.DateTimeField("当前期限", null=True, blank=True)
    changed_at = models.DateTimeField("最近变化时间")
    last_step = models.CharField("最近环节", max_length=40, blank=True)
    assignment = models.ForeignKey(
        "DownwardAssignment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name="来自本平台下派",
    )
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = "下级上报事项"
        verbose_name_plural = "下级上报事项"
        ordering = ["-registered_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["peer", "code"], name="linkage_reported_case_unique")]
        indexes = [
            # a platform's matters by status, newest first (`queries.list_reported_cases`)
            models.Index(fields=["peer", "status", "registered_at"], name="linkage_reported_peer_status"),
        ]

    def __str__(self) -> str:
        return self.code


class ReportedFigures(models.Model):
    """A month's figures of a platform below, as last reported (replaced only by a higher `sequence`)."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="reported_figures", verbose_name="下级平台")
    month = models.CharField("月份", max_length=7)
    sequence = models.PositiveBigIntegerField("序号")
    figures = models.JSONField("数据", default=dict)
    computed_at = models.DateTimeField("统计时间")
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = "下级月度数据"
        verbose_name_plural = "下级月度数据"
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["peer", "month"], name="linkage_reported_figures_unique")]


class DownwardAssignment(models.Model):
    """A matter this platform sends down to a platform below: assigned here (上级交办) or forwarded from another
    county (跨区域移交). `content` (title, description, parties …) is personal data: encrypted, sent only to the
    receiving county, never shown unmasked on the linkage pages."""

    kind = models.CharField("类型", max_length=12, choices=_choices(ASSIGNMENT_KIND_LABELS))
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, null=True, blank=True, related_name="assignments",
                             verbose_name="接收平台")
    to_region_code = models.CharField("接收区划", max_length=12)
    content = PersonalDataField("事项内容", kind=PersonalKind.ADDRESS)  # JSON text, see `actions.assignment_content`
    note = models.TextField("交办要求", blank=True)
    status = models.CharField("状态", max_length=10, choices=_choices(ASSIGNMENT_STATUS_LABELS),
                              default=AssignmentStatus.SENT)
    case_code = models.CharField("接收方事项编码", max_length=24, blank=True)
    source_peer = models.ForeignKey(Peer, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name="移出平台")
    source_code = models.CharField("移出方事项编码", max_length=24, blank=True)
    problem = models.CharField("问题", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="交办人")
    created_at = models.DateTimeField("下派时间")
    received_at = models.DateTimeField("接收时间", null=True, blank=True)

    class Meta:
        verbose_name = "下派事项"
        verbose_name_plural = "下派事项"
        ordering = ["-created_at", "-id"]
        constraints = [
            # one forwarding per transferred matter (a repeated request finds the first)
            models.UniqueConstraint(fields=["source_peer", "source_code"], condition=~models.Q(source_code=""),
                                    name="linkage_assignment_unique_source"),
        ]


class ReceivedAssignment(models.Model):
    """A matter received from the platform above and registered here (上级交办 or a transfer from another
    county); one per (peer, reference), so a repeated delivery registers nothing."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="received", verbose_name="上级平台")
    reference = models.CharField("上级编号", max_length=40)
    kind = models.CharField("类型", max_length=12, choices=_choices(ASSIGNMENT_KIND_LABELS))
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="linkage_origin",
                                verbose_name="事项")
    note = models.TextField("交办要求", blank=True)
    source_region_code = models.CharField("移出区划", max_length=12, blank=True)
    source_region_name = models.CharField("移出区划名称", max_length=60, blank=True)
    source_code = models.CharField("移出方事项编码", max_length=24, blank=True)
    received_at = models.DateTimeField("接收时间")

    class Meta:
        verbose_name = "上级交办事项"
        verbose_name_plural = "上级交办事项"
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["peer", "reference"], name="linkage_received_unique")]


class TransferRequest(models.Model):
    """A cross-region transfer (跨区域移交) this county asked the platform above for: the matter was declined
    here with the route told, and the answer says under which code the other county registered it."""

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="transfer_requests",
                             verbose_name="上级平台")
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="linkage_transfer",
                                verbose_name="事项")
    to_region_code = models.CharField("移交至区划", max_length=12)
    to_region_name = models.CharField("移交至", max_length=60)
    reason = models.TextField("理由")
    status = models.CharField("状态", max_length=10, choices=_choices(TRANSFER_STATUS_LABELS),
                              default=TransferStatus.REQUESTED)
    destination_code = models.CharField("对方事项编码", max_length=24, blank=True)
    answer = models.CharField("上级答复", max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="申请人")
    requested_at = models.DateTimeField("申请时间")
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)

    class Meta:
        verbose_name = "跨区域移交申请"
        verbose_name_plural = "跨区域移交申请"
        ordering = ["-requested_at"]


class FiguresReport(models.Model):
    """The month's figures as this county last computed and sent them up (`sequence` grows with each run)."""

    month = models.CharField("月份", max_length=7, unique=True)
    sequence = models.PositiveBigIntegerField("序号", default=0)
    figures = models.JSONField("数据", default=dict)
    computed_at = models.DateTimeField("统计时间")

    class Meta:
        verbose_name = "月度数据上报"
        verbose_name_plural = "月度数据上报"
        ordering = ["-month"]
