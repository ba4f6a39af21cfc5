from django.conf import settings
from django.db import models
from django.db.models import Q

from yidi.accounts.domain import HANDLING_LEVEL_LABELS
from yidi.cases.domain import (
    COMPLEXITY_LABELS,
    DIVERSION_ROUTE_LABELS,
    EVALUATION_LABELS,
    EVENT_LABELS,
    GRADE_LABELS,
    HANDLING_MODE_LABELS,
    OUTCOME_LABELS,
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    CaseStatus,
)
from yidi.core.masking import PersonalKind
from yidi.core.personal import PersonalDataField
from yidi.regions.domain import code_range


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class Channel(models.Model):
    """How a matter reached the centre (窗口来访, 12345 热线 …). Data, extendable by admins."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    group = models.SlugField(
        "渠道类别", max_length=40, help_text="时限规则按类别匹配：信访的来信、来访、网上、来电同属 petition"
    )
    position = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "来源渠道"
        verbose_name_plural = "来源渠道"
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(models.QuerySet):
    def in_region(self, prefix: str) -> "CaseQuerySet":
        low, high = code_range(prefix)
        return self.filter(region_id__gte=low, region_id__lt=high)


class Case(models.Model):
    """The matter (一件事): one record per real-world dispute, whatever the number of reports."""

    code = models.CharField("事项编码", max_length=24, unique=True)
    status = models.CharField("状态", max_length=30, choices=_choices(STATUS_LABELS), default=CaseStatus.REGISTERED)
    # The reference-table keys below carry no index of their own: lists filter them within a region or date
    # range (served by the composite indexes), and every index is one more write on each deadline update.
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="+", verbose_name="来源渠道", db_index=False
    )
    request_type = models.CharField("诉求类型", max_length=20, choices=_choices(REQUEST_TYPE_LABELS))
    title = models.CharField("事项标题", max_length=120)
    description = models.TextField("事项描述")
    # No index of its own: region scoping is a code range, served by `case_region_registered`.
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="发生地", db_index=False
    )
    address = models.CharField("详细地点", max_length=200, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)
    people_involved = models.PositiveIntegerField("涉及人数", null=True, blank=True)
    amount_involved = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    primary_type = models.ForeignKey(
        "core.TaxonomyLabel", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="纠纷类型", db_index=False,
    )
    grade = models.CharField("风险等级", max_length=10, choices=_choices(GRADE_LABELS), blank=True)
    complexity = models.CharField("复杂程度", max_length=10, choices=_choices(COMPLEXITY_LABELS), blank=True)
    handling_level = models.CharField("处置层级", max_length=10, choices=_choices(HANDLING_LEVEL_LABELS), blank=True)
    is_urgent = models.BooleanField("加急", default=False)
    handling_mode = models.CharField(
        "办理方式", max_length=20, choices=_choices(HANDLING_MODE_LABELS), blank=True
    )
    diversion_route = models.CharField(
        "分流去向", max_length=30, choices=_choices(DIVERSION_ROUTE_LABELS), blank=True
    )
    outcome = models.CharField("办理结果", max_length=30, choices=_choices(OUTCOME_LABELS), blank=True)
    evaluation = models.CharField("群众评价", max_length=30, choices=_choices(EVALUATION_LABELS), blank=True)
    lead_unit = models.ForeignKey(  # indexed by `case_lead_unit_status`
        "accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="主办单位",
        db_index=False,
    )
    registering_unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="登记单位", db_index=False
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人"
    )
    registered_at = models.DateTimeField("登记时间")
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    concluded_at = models.DateTimeField("出结果时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    deadline_policy = models.CharField("时限规则", max_length=60, blank=True)
    # The soonest active stage deadline, its state, and when the sweeper must next look at this matter.
    due_at = models.DateTimeField("当前期限", null=True, blank=True)
    deadline_state = models.CharField("期限状态", max_length=10, blank=True)
    next_deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)  # the deadline sweep's claim
    # The deadline policy named by the routing rule the dispatcher followed (blank: the policy table decides).
    routed_policy = models.CharField("分派规则指定的时限规则", max_length=60, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "事项"
        verbose_name_plural = "事项"
        ordering = ["-registered_at", "-id"]
        indexes = [
            # Scoped lists: region code range, newest first.
            models.Index(fields=["region", "registered_at"], name="case_region_registered"),
            # Work queues and status filters.
            models.Index(fields=["status", "registered_at"], name="case_status_registered"),
            # A unit's current matters (inbox, scope by assignment).
            models.Index(fields=["lead_unit", "status"], name="case_lead_unit_status"),
            models.Index(fields=["registered_at"], name="case_registered"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_involved__isnull=True) | Q(amount_involved__gte=0), name="case_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def status_enum(self) -> CaseStatus:
        return CaseStatus(self.status)


class CaseLabel(models.Model):
    """The matter's label in one taxonomy, set by triage or by staff."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="labels")
    taxonomy = models.ForeignKey("core.Taxonomy", on_delete=models.PROTECT, related_name="+")
    label = models.ForeignKey("core.TaxonomyLabel", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=[("manual", "人工"), ("triage", "自动")], default="manual")
    confidence = models.FloatField(null=True, blank=True)
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "taxonomy"], name="case_label_one_per_taxonomy")]


class PersonKind(models.TextChoices):
    NATURAL = "natural", "自然人"
    ORGANISATION = "organisation", "法人或其他组织"


class Person(models.Model):
    """The person index: the same person across matters is one row (matched by ID hash, or name + phone)."""

    kind = models.CharField("类型", max_length=20, choices=PersonKind.choices, default=PersonKind.NATURAL)
    name = models.CharField("姓名/名称", max_length=80)
    id_number = PersonalDataField("证件号码", kind=PersonalKind.ID_NUMBER)
    phone = PersonalDataField("联系电话", kind=PersonalKind.PHONE)
    address = PersonalDataField("住址", kind=PersonalKind.ADDRESS)
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)  # person index look-up
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)  # repeat-caller look-up
    name_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)  # index without ID number
    created_at = models.DateTimeField("建档时间")

    class Meta:
        verbose_name = "当事人档案"
        verbose_name_plural = "当事人档案"

    def __str__(self) -> str:
        return self.name


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "申请人"
    RESPONDENT = "respondent", "被申请人"
    THIRD_PARTY = "third_party", "第三人"
    AGENT = "agent", "代理人"


class CaseParty(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="case_parties")
    role = models.CharField("角色", max_length=20, choices=PartyRole.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Contact(models.Model):
    """One report of the matter (who, when, through which channel). Merging matters never drops one."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name="渠道")
    contacted_at = models.DateTimeField("反映时间")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="contacts")
    summary = models.TextField("反映内容", blank=True)
    external_ref = models.CharField("外部编号", max_length=60, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["contacted_at", "id"]
        indexes = [models.Index(fields=["external_ref"], name="contact_external_ref")]  # hotline ticket look-up


class Visit(models.Model):
    """An in-person visit the person had to make, and where: the honest measure of 最多跑一地."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visits")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    place = models.CharField("地点", max_length=120)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    visited_at = models.DateTimeField("来访时间")
    purpose = models.CharField("事由", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["visited_at", "id"]


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"cases/{instance.case.code}/{instance.sha256[:16]}-{filename}"


class AttachmentKind(models.TextChoices):
    """What a file is, for the case file (卷宗): the catalogue places and requires items by kind."""

    EVIDENCE = "evidence", "证据材料"
    IDENTITY = "identity", "当事人身份证明"
    POWER_OF_ATTORNEY = "power_of_attorney", "授权委托书"
    OTHER = "other", "其他材料"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("材料类型", max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.EVIDENCE)
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_at = models.DateTimeField("上传时间")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["uploaded_at", "id"]


class AssignmentRole(models.TextChoices):
    LEAD = "lead", "主办"
    CO = "co", "协办"


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "待签收"
    SIGNED = "signed", "已签收"
    RETURNED = "returned", "已回退"
    ENDED = "ended", "已结束"


ACTIVE_ASSIGNMENT = Q(status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED])


class Assignment(models.Model):
    """A unit's part in a matter (交办): lead (主办) or co-unit (协办), while active it grants access."""

    Role = AssignmentRole
    Status = AssignmentStatus

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField("分工", max_length=10, choices=AssignmentRole.choices)
    status = models.CharField("状态", max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING)
    assigned_at = models.DateTimeField("交办时间")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField("签收时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    note = models.CharField("交办意见", max_length=300, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        indexes = [models.Index(fields=["unit", "status"], name="assignment_unit_status")]  # inbox, access
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(role="lead") & ACTIVE_ASSIGNMENT, name="one_active_lead_assignment"
            ),
            models.UniqueConstraint(
                fields=["case", "unit"], condition=ACTIVE_ASSIGNMENT, name="one_active_assignment_per_unit"
            ),
        ]


class CaseEvent(models.Model):
    """The matter's timeline (全程留痕): one row per action, with who, when and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)  # (case, seq)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=40, choices=[(key, label) for key, label in EVENT_LABELS.items()])
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor_name = models.CharField(max_length=60)
    actor_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]

    @property
    def label(self) -> str:
        return self.get_action_display()

    @property
    def unit_name(self) -> str:
        return self.actor_unit.name if self.actor_unit_id else ""

    @property
    def detail(self) -> str:
        """The event's data as one Chinese sentence for the timeline."""
        return describe_event_data(self.data)


_DATA_LABELS = {
    "lead_unit_name": ("主办单位", None),
    "co_unit_names": ("协办单位", None),
    "returned_by_name": ("回退单位", None),
    "route_told": ("已告知途径", None),
    "mode": ("办理方式", HANDLING_MODE_LABELS),
    "route": ("分流去向", DIVERSION_ROUTE_LABELS),
    "outcome": ("办理结果", OUTCOME_LABELS),
    "evaluation": ("评价", EVALUATION_LABELS),
    "override_reason": ("调整理由", None),
    "place": ("地点", None),
    "name": ("文件", None),
    "mediator_names": ("调解员", None),
    "source_name": ("产生方式", None),
    "party_name": ("当事人", None),
    # raw codes from the evaluation (`yidi.evaluation`); other apps write the method in words
    "method": ("方式", {"online": "群众网上评价", "phone": "电话代为评价", "window": "窗口代为评价",
                      "return_visit": "回访时评价"}),
    "obligation": ("义务", None),
    "signed": ("已签署", None),
    "result": ("结果", None),
    "court": ("法院", None),
    "ruling_name": ("裁定", None),
    "number": ("文号", None),
    "score": ("评分", None),
    "document": ("文书", None),
    "when": ("时间", None),
    "session_mode": ("调解方式", {"on_site": "到场调解", "online": "线上调解"}),
    "recipient": ("发送至", None),
}


def describe_event_data(data: dict) -> str:
    parts = []
    for key, (label, names) in _DATA_LABELS.items():
        value = data.get(key)
        if not value:
            continue
        if isinstance(value, list):
            value = "、".join(value)
        elif names is not None:
            value = {getattr(k, "value", k): v for k, v in names.items()}.get(value, value)
        parts.append(f"{label}：{value}")
    return "；".join(parts)


DEADLINE_STATE_LABELS = {"green": "正常", "yellow": "临期", "red": "即将超期", "overdue": "已超期"}
STAGE_LABELS = {
    "assign": "交办", "sign": "签收", "objection": "异议", "notice": "书面告知", "handle": "办理", "verify": "验证回访",
    "party_response": "对方答复", "judicial_confirmation": "申请司法确认",
    "review_request": "请求复查", "review": "复查答复", "recheck_request": "请求复核", "recheck": "复核答复",
}


class CaseDeadline(models.Model):
    """One running clock of a matter (a stage of its time-limit policy), from start to met or cancelled."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    stage = models.CharField("阶段", max_length=30, choices=list(STAGE_LABELS.items()))
    policy_code = models.CharField("时限规则", max_length=60)
    day_unit = models.CharField("计时单位", max_length=20)
    limit_days = models.PositiveSmallIntegerField("时限")
    started_at = models.DateTimeField("起算时间")
    due_at = models.DateTimeField("期限")
    yellow_at = models.DateTimeField()
    red_at = models.DateTimeField()
    extension_days = models.PositiveSmallIntegerField("已延期天数", default=0)
    pauses = models.JSONField("暂停记录", default=list, blank=True)  # [[start ISO, end ISO or null], …]
    state = models.CharField("状态", max_length=10, default="green", choices=list(DEADLINE_STATE_LABELS.items()))
    applied = models.JSONField("已执行的督办", default=list, blank=True)  # effect codes, each applied once
    met_at = models.DateTimeField("完成时间", null=True, blank=True)
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "stage"], condition=Q(met_at__isnull=True, cancelled_at__isnull=True),
                name="one_running_clock_per_stage",
            )
        ]

    @property
    def is_running(self) -> bool:
        return self.met_at is None and self.cancelled_at is None

    @property
    def is_paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


class UrgingLevel(models.TextChoices):
    NORMAL = "normal", "普通督办"
    YELLOW = "yellow", "黄牌督办"
    RED = "red", "红牌督办"


class Urging(models.Model):
    """A 督办 issued on a matter, by the deadline sweep (automatic) or by a supervisor."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="urgings")
    level = models.CharField("级别", max_length=10, choices=UrgingLevel.choices)
    stage = models.CharField("阶段", max_length=30, blank=True)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, null=True, related_name="+",
                             verbose_name="被督办单位")
    reason = models.TextField("督办事由")
    issued_at = models.DateTimeField("督办时间")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["issued_at"], name="urging_issued")]  # the 督办 list


class RequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已同意"
    REFUSED = "refused", "已拒绝"


class ExtensionRequest(models.Model):
    """延期: asked by the lead unit before the deadline passes, decided by a dispatcher or leader."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extension_requests")
    deadline = models.ForeignKey(CaseDeadline, on_delete=models.CASCADE, related_name="extension_requests")
    days = models.PositiveSmallIntegerField("延期天数")
    reason = models.TextField("理由")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["deadline"], condition=Q(status="pending"), name="one_pending_extension")
        ]


class Transfer(models.Model):
    """转办: the lead unit hands the matter to another unit, which must accept it (首办责任 until then)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="incoming_transfers")
    reason = models.TextField("转办理由")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["to_unit", "status"], name="transfer_inbox")]  # receiving unit's view
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"), name="one_pending_transfer")
        ]


class Consultation(models.Model):
    """会商研判: units convened on a matter, with minutes and decisions."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consultations")
    held_at = models.DateTimeField("会商时间")
    unit_names = models.JSONField("参加单位", default=list)
    minutes = models.TextField("会商纪要")
    decisions = models.TextField("研判意见")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["held_at", "id"]


class RoutingRecord(models.Model):
    """A routing decision for a matter: the rule that fired and why, or the dispatcher's override and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="routings")
    decided_at = models.DateTimeField()
    rule_code = models.CharField(max_length=60, blank=True)
    matched = models.BooleanField()
    handling_level = models.CharField(max_length=10, blank=True)
    lead_unit_code = models.CharField(max_length=60, blank=True)
    co_unit_codes = models.JSONField(default=list, blank=True)
    policy_code = models.CharField(max_length=60, blank=True)  # the rule's deadline policy, if it names one
    reasons = models.JSONField(default=list, blank=True)
    is_override = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["decided_at", "id"]


class TriageFeedback(models.Model):
    """A clerk's decision on a triage suggestion: confirmed (same label) or corrected, with who and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="triage_feedback")
    taxonomy = models.CharField(max_length=40)
    suggested_label = models.CharField(max_length=40, blank=True)
    suggested_confidence = models.FloatField(null=True)
    chosen_label = models.CharField(max_length=40)
    model_version = models.CharField(max_length=80, blank=True)
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["taxonomy", "decided_at"], name="feedback_taxonomy")]  # retraining

    @property
    def is_correction(self) -> bool:
        return self.suggested_label != self.chosen_label


class CaseTextKey(models.Model):
    """Locality-sensitive keys of a matter's description: matters sharing a key are candidate duplicates."""

    key = models.CharField(max_length=40, db_index=True)  # the duplicate look-up
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "case"], name="case_text_key_unique")]
