from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from yidi.accounts.domain import Role
from yidi.mediation.documents.domain import ACCEPTANCE_SOURCE_LABELS, DOCUMENT_KIND_LABELS
from yidi.mediation.domain import (
    AVAILABILITY_LABELS,
    CONFLICT_RELATION_LABELS,
    HANDOFF_KIND_LABELS,
    HANDOFF_STATUS_LABELS,
    INCOMING_KINDS,
    MEDIATION_STATUS_LABELS,
    MEDIATOR_GRADE_LABELS,
    OPEN_MEDIATION_STATUSES,
    ORGANISATION_TYPE_LABELS,
    PETITION_OPINION_LABELS,
    RETENTION_LABELS,
    Availability,
    HandOffKind,
    MediationStatus,
    retention_label,
    split_lines,
)


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


MEDIATION_TYPES = {"taxonomy__code": "mediation_type"}


class MediationRoom(models.Model):
    """A named mediation room (品牌调解室), hosted by a unit (a township centre, a committee, the room's own unit)."""

    name = models.CharField("名称", max_length=60, unique=True)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="mediation_rooms", verbose_name="所属单位"
    )
    lead_mediator = models.ForeignKey(
        "Mediator", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="领衔调解员"
    )
    specialties = models.ManyToManyField(
        "core.TaxonomyLabel", blank=True, related_name="+", limit_choices_to=MEDIATION_TYPES, verbose_name="擅长纠纷类型"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True, help_text="调解室的办公电话（不填个人手机）")
    introduction = models.TextField("简介", blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "品牌调解室"
        verbose_name_plural = "品牌调解室"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Mediator(models.Model):
    """A member of the mediator pool (调解专家库): the profile of an account holding the mediator role.

    Workload, success rate and the parties' average rating are not stored: `yidi.mediation.queries` counts
    them from the mediations.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mediator_profile", verbose_name="账号"
    )
    organisation_type = models.CharField("调解组织类型", max_length=20, choices=_choices(ORGANISATION_TYPE_LABELS))
    grade = models.CharField("等级", max_length=10, choices=_choices(MEDIATOR_GRADE_LABELS), blank=True)
    specialties = models.ManyToManyField(
        "core.TaxonomyLabel", blank=True, related_name="+", limit_choices_to=MEDIATION_TYPES, verbose_name="擅长纠纷类型"
    )
    region = models.ForeignKey(  # indexed: the directory and the matching read a county's code range
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="服务区域",
        help_text="县（市、区）、乡镇（街道）或村（社区）",
    )
    room = models.ForeignKey(
        MediationRoom, on_delete=models.SET_NULL, null=True, blank=True, related_name="mediators",
        verbose_name="所在品牌调解室",
    )
    languages = models.CharField("语言/方言", max_length=100, blank=True, help_text="多种以顿号分隔，如：普通话、诸暨话")
    availability = models.CharField(
        "接案状态", max_length=20, choices=_choices(AVAILABILITY_LABELS), default=Availability.AVAILABLE
    )
    capacity = models.PositiveSmallIntegerField("同时办理上限（件）", default=5)
    training_hours = models.PositiveSmallIntegerField("年度培训学时", default=0)
    complaints = models.PositiveSmallIntegerField("被投诉次数", default=0)
    introduction = models.TextField("个人简介", blank=True)
    is_active = models.BooleanField("在库", default=True)

    class Meta:
        verbose_name = "调解员"
        verbose_name_plural = "调解专家库"
        ordering = ["user__display_name", "id"]

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        if self.user_id and Role.MEDIATOR not in self.user.role_set:
            raise ValidationError({"user": "该账号没有“调解员”角色，请先在用户管理中授予"})

    @property
    def language_list(self) -> list[str]:
        return [item.strip() for item in self.languages.replace(",", "、").replace("，", "、").split("、") if item.strip()]


class ConflictOfInterest(models.Model):
    """A declared conflict of interest (利益冲突): the mediator may not mediate the matter, or any matter of the
    person (a relative, a colleague …). A recusal at a party's request is kept here too, for its matter."""

    mediator = models.ForeignKey(Mediator, on_delete=models.CASCADE, related_name="conflicts", verbose_name="调解员")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="事项"
    )
    person = models.ForeignKey(
        "cases.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="当事人"
    )
    relation = models.CharField("事由", max_length=20, choices=_choices(CONFLICT_RELATION_LABELS))
    note = models.CharField("说明", max_length=300, blank=True)
    declared_at = models.DateTimeField("申报时间")
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "利益冲突申报"
        verbose_name_plural = "利益冲突申报"
        ordering = ["declared_at", "id"]
        indexes = [models.Index(fields=["mediator", "case"], name="conflict_mediator_case")]  # designation check
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False) | Q(person__isnull=False), name="conflict_names_matter_or_person"
            )
        ]


class Mediation(models.Model):
    """The mediation of a matter (one open at a time): who mediates, the other party's answer, the outcome."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="mediations", verbose_name="事项")
    status = models.CharField(
        "调解状态", max_length=20, choices=_choices(MEDIATION_STATUS_LABELS), default=MediationStatus.PREPARING
    )
    number = models.CharField("卷号（协议编号）", max_length=40, unique=True)
    committee = models.CharField("人民调解委员会", max_length=80)
    source = models.CharField("案件来源", max_length=20, choices=_choices(ACCEPTANCE_SOURCE_LABELS))
    requests = models.TextField("申请事项", blank=True, help_text="每行一项")
    applied_on = models.DateField("申请日期", null=True, blank=True)
    opened_at = models.DateTimeField("受理时间")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notified_party = models.ForeignKey(
        "cases.CaseParty", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="被通知当事人"
    )
    notified_at = models.DateTimeField("通知时间", null=True, blank=True)
    notice_method = models.CharField("通知方式", max_length=40, blank=True)
    consented_at = models.DateTimeField("同意调解时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_reason = models.TextField("结束原因", blank=True)
    routes_told = models.TextField("已告知的其他途径", blank=True)
    refused_by = models.ForeignKey(
        "cases.CaseParty", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="拒绝调解的当事人"
    )

    class Meta:
        verbose_name = "调解"
        verbose_name_plural = "调解"
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status__in=sorted(OPEN_MEDIATION_STATUSES)), name="one_open_mediation"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def status_enum(self) -> MediationStatus:
        return MediationStatus(self.status)

    @property
    def request_list(self) -> tuple[str, ...]:
        return split_lines(self.requests)


class DesignationSource(models.TextChoices):
    COMMITTEE = "committee", "调解组织指定"
    PARTIES = "parties", "当事人选定"


class Designation(models.Model):
    """A mediator designated on a mediation (人民调解法 Art 19: designated by the committee or chosen by the
    parties). Ended by recusal (回避). A mediator from a unit not assigned to the matter gets a co-unit
    assignment (`assignment`) so that they can read it while designated."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="designations")
    mediator = models.ForeignKey(Mediator, on_delete=models.PROTECT, related_name="designations", verbose_name="调解员")
    is_lead = models.BooleanField("主调解员", default=False)
    source = models.CharField("产生方式", max_length=20, choices=DesignationSource.choices)
    designated_at = models.DateTimeField("指定时间")
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(
        "cases.Assignment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField("回避时间", null=True, blank=True)
    end_reason = models.TextField("回避理由", blank=True)

    class Meta:
        ordering = ["designated_at", "id"]
        indexes = [models.Index(fields=["mediator", "ended_at"], name="designation_mediator_active")]  # workload
        constraints = [
            models.UniqueConstraint(
                fields=["mediation", "mediator"], condition=Q(ended_at__isnull=True), name="one_active_designation"
            )
        ]


class PartyDetail(models.Model):
    """What the mediation documents print about a party beyond the matter's record (性别、民族、年龄、职业 …).

    Sex and age are read from a resident ID number when these are blank."""

    party = models.OneToOneField("cases.CaseParty", on_delete=models.CASCADE, related_name="mediation_detail")
    sex = models.CharField("性别", max_length=2, blank=True, choices=[("男", "男"), ("女", "女")])
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    age = models.PositiveSmallIntegerField("年龄", null=True, blank=True)
    occupation = models.CharField("职业", max_length=40, blank=True)
    work_unit = models.CharField("工作单位", max_length=80, blank=True)
    representative = models.CharField("法定代表人（负责人）", max_length=40, blank=True)
    updated_at = models.DateTimeField("更新时间")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")


class RightsNoticeDelivery(models.Model):
    """权利义务告知: the rights-and-duties notice delivered to a party (人民调解法 Arts 23–24)."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="rights_notices")
    party = models.ForeignKey("cases.CaseParty", on_delete=models.CASCADE, related_name="+")
    delivered_on = models.DateField("告知日期")
    method = models.CharField("告知方式", max_length=40)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["delivered_on", "id"]
        constraints = [models.UniqueConstraint(fields=["mediation", "party"], name="one_notice_per_party")]


class SessionKind(models.TextChoices):
    JOINT = "joint", "面对面调解"
    SEPARATE = "separate", "背对背调解"


class SessionMode(models.TextChoices):
    ON_SITE = "on_site", "现场"
    ONLINE = "online", "线上"


class MediationSession(models.Model):
    """One mediation session and its record (调解笔录)."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField("次序")
    kind = models.CharField("形式", max_length=10, choices=SessionKind.choices)
    mode = models.CharField("方式", max_length=10, choices=SessionMode.choices)
    place = models.CharField("地点", max_length=120)
    started_at = models.DateTimeField("开始时间")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    party_ids = models.JSONField("到场当事人", default=list)  # CaseParty ids
    attendees = models.CharField("其他参加人员", max_length=300, blank=True)
    recorder = models.CharField("记录人", max_length=40)
    statements = models.JSONField("笔录", default=list)  # [{"speaker": …, "text": …}, …]
    result = models.TextField("本次调解结果")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["mediation", "number"], name="session_number_unique")]


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "已预约"
    HELD = "held", "已举行"
    CANCELLED = "cancelled", "已取消"


class Appointment(models.Model):
    """A booked mediation session (预约调解): when, where, on site or online; the applicants are told by text
    message (`yidi.notify`, from the `schedule_session` event). Cancelled with a reason, never deleted."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="appointments")
    starts_at = models.DateTimeField("调解时间")
    place = models.CharField("地点", max_length=120, blank=True)
    mode = models.CharField("方式", max_length=10, choices=SessionMode.choices)
    online_room = models.CharField("在线调解室", max_length=200, blank=True, help_text="在线调解室链接或会议号")
    note = models.CharField("备注", max_length=300, blank=True)
    status = models.CharField("状态", max_length=10, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.SCHEDULED)
    created_at = models.DateTimeField("预约时间")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField("取消原因", max_length=300, blank=True)

    class Meta:
        verbose_name = "调解预约"
        verbose_name_plural = "调解预约"
        ordering = ["starts_at", "id"]
        # a mediation's upcoming appointments (`queries.upcoming_appointments`)
        indexes = [models.Index(fields=["mediation", "status", "starts_at"], name="appointment_upcoming")]

    def __str__(self) -> str:
        return f"{self.mediation.number} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class AgreementForm(models.TextChoices):
    WRITTEN = "written", "书面协议"
    ORAL = "oral", "口头协议"


class Agreement(models.Model):
    """The agreement (调解协议): written (effective once every party, the mediators and the committee's seal have
    signed) or oral (effective when reached, its content recorded by the mediator)."""

    mediation = models.OneToOneField(Mediation, on_delete=models.CASCADE, related_name="agreement")
    form = models.CharField("形式", max_length=10, choices=AgreementForm.choices)
    facts = models.TextField("纠纷主要事实")
    disputed_issues = models.TextField("争议事项")
    responsibility = models.TextField("各方当事人的责任", blank=True)
    terms = models.TextField("协议内容", help_text="每行一项")
    performance_manner = models.CharField("履行方式", max_length=300)
    performance_place = models.CharField("履行地点", max_length=200)
    performance_period = models.CharField("履行期限", max_length=200)
    drafted_at = models.DateTimeField("拟定时间")
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    effective_at = models.DateTimeField("生效时间", null=True, blank=True)

    @property
    def term_list(self) -> tuple[str, ...]:
        return split_lines(self.terms)


class AgreementSignature(models.Model):
    """One required signature or seal on a written agreement (`yidi.mediation.domain.required_signers`)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    signer_key = models.CharField(max_length=40)  # "party:<id>", "mediator:<id>", "seal"
    signed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agreement", "signer_key"], name="one_signature_per_signer")]


class RulingResult(models.TextChoices):
    CONFIRMED = "confirmed", "确认调解协议有效"
    REJECTED = "rejected", "驳回申请"


class JudicialConfirmation(models.Model):
    """The parties' joint application to a court to confirm the agreement (司法确认), and what the court did."""

    agreement = models.OneToOneField(Agreement, on_delete=models.CASCADE, related_name="judicial_confirmation")
    court = models.CharField("受理法院", max_length=80)
    applied_on = models.DateField("申请日期")
    window_due_at = models.DateTimeField("申请期限")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accepted_on = models.DateField("法院受理日期", null=True, blank=True)
    number = models.CharField("案号（调确字）", max_length=60, blank=True)
    ruling = models.CharField("裁定结果", max_length=10, choices=RulingResult.choices, blank=True)
    ruled_on = models.DateField("裁定日期", null=True, blank=True)
    ruling_note = models.TextField("裁定说明", blank=True)
    routes_told = models.TextField("已告知的途径", blank=True)


class Obligation(models.Model):
    """One obligation of the agreement (who owes what by when), whose performance the committee follows up."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="obligations")
    obligor = models.ForeignKey("cases.CaseParty", on_delete=models.PROTECT, related_name="+", verbose_name="履行义务人")
    obligee = models.ForeignKey(
        "cases.CaseParty", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="权利人"
    )
    description = models.CharField("义务内容", max_length=300)
    amount = models.DecimalField("金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    due_on = models.DateField("履行期限")
    performed_on = models.DateField("履行完毕日期", null=True, blank=True)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["due_on", "id"]


class PerformanceRecord(models.Model):
    """A performance of an obligation, complete or partial, with its receipt (收条、转账凭证) if any."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="records")
    performed_on = models.DateField("履行日期")
    amount = models.DecimalField("金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.CharField("履行情况", max_length=300)
    is_complete = models.BooleanField("已全部履行")
    receipt = models.ForeignKey("cases.Attachment", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["performed_on", "id"]


class PerformanceUrging(models.Model):
    """督促履行 of an overdue obligation, with the litigation route told to the other party (人民调解法 Art 32;
    人民调解工作若干规定 Art 39)."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="urgings")
    note = models.TextField("督促情况")
    route_told = models.TextField("告知对方当事人的途径")
    urged_at = models.DateTimeField()
    urged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["urged_at", "id"]


class MediatorRating(models.Model):
    """A party's rating of a mediator after the mediation (1–5), taken by staff on the party's behalf."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="ratings")
    mediator = models.ForeignKey(Mediator, on_delete=models.PROTECT, related_name="ratings")
    party = models.ForeignKey("cases.CaseParty", on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField("评分")
    comment = models.CharField("意见", max_length=300, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mediation", "mediator", "party"], name="one_rating_per_party"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_between_1_and_5"),
        ]


def document_path(instance: "GeneratedDocument", filename: str) -> str:
    return f"mediation/{instance.mediation.case.code}/{filename}"


class GeneratedDocument(models.Model):
    """A generated mediation document: the .docx and the PDF of one version, with their digests. A new
    generation is a new version; earlier ones stay (history)."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("文书", max_length=30, choices=_choices(DOCUMENT_KIND_LABELS))
    session = models.ForeignKey(MediationSession, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=40)  # the kind, or "session_record-<n>" for one session's record
    version = models.PositiveSmallIntegerField("版本")
    docx_file = models.FileField(upload_to=document_path, max_length=300)
    docx_sha256 = models.CharField(max_length=64)
    pdf_file = models.FileField(upload_to=document_path, max_length=300)
    pdf_sha256 = models.CharField(max_length=64)
    personal_fields = models.JSONField(default=list)  # the personal data printed in full: id_number, phone …
    generated_at = models.DateTimeField("生成时间")
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["mediation", "key", "version"], name="document_version_unique")]

    @property
    def title(self) -> str:
        label = DOCUMENT_KIND_LABELS.get(self.kind, self.kind)
        return f"{label}（第{self.session.number}次）" if self.session_id else label


def handoff_path(instance: "HandOff", filename: str) -> str:
    return f"mediation/{instance.case.code}/handoffs/{filename}"


class HandOff(models.Model):
    """One hand-off of a matter (诉调、仲调、访调对接): out to a court, arbitration, 行政复议, the 信访 procedure or
    纪检监察 (the matter is diverted and waits for the outcome), or in from a court (委派 / 委托调解). The package
    sent is kept with its digest; the receiving body's answer comes back as receipt, then outcome.

    The 信访 fields follow the procedure: 处理意见书 (outcome), then 复查 and 复核 requests and opinions."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="handoffs", verbose_name="事项")
    kind = models.CharField("对接类型", max_length=30, choices=_choices(HANDOFF_KIND_LABELS))
    status = models.CharField("状态", max_length=20, choices=_choices(HANDOFF_STATUS_LABELS))
    receiver = models.CharField("接收（委派）机关", max_length=80)
    reason = models.TextField("移送理由", blank=True)
    is_receiver_entitled = models.BooleanField("接收机关有权获取完整身份信息", default=False)
    sent_at = models.DateTimeField("移送时间")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    package_file = models.FileField(upload_to=handoff_path, max_length=300, blank=True)
    package_sha256 = models.CharField(max_length=64, blank=True)
    received_on = models.DateField("接收日期", null=True, blank=True)
    reference_number = models.CharField("对方文号（案号）", max_length=60, blank=True)
    decision = models.CharField("处理结果", max_length=200, blank=True)
    opinion = models.CharField("处理意见", max_length=20, blank=True, choices=_choices(PETITION_OPINION_LABELS))
    decided_on = models.DateField("结果日期", null=True, blank=True)
    outcome_note = models.TextField("结果说明", blank=True)
    review_requested_on = models.DateField("请求复查日期", null=True, blank=True)
    review_opinion = models.CharField("复查意见", max_length=20, blank=True, choices=_choices(PETITION_OPINION_LABELS))
    review_answered_on = models.DateField("复查意见日期", null=True, blank=True)
    recheck_requested_on = models.DateField("请求复核日期", null=True, blank=True)
    recheck_opinion = models.CharField("复核意见", max_length=20, blank=True, choices=_choices(PETITION_OPINION_LABELS))
    recheck_answered_on = models.DateField("复核意见日期", null=True, blank=True)

    class Meta:
        verbose_name = "对接移送"
        verbose_name_plural = "对接移送"
        ordering = ["sent_at", "id"]
        # the 信访 repeat check: finished 复核 of the same person and type
        indexes = [models.Index(fields=["kind", "recheck_answered_on"], name="handoff_final_petition")]

    @property
    def kind_enum(self) -> HandOffKind:
        return HandOffKind(self.kind)

    @property
    def is_incoming(self) -> bool:
        return self.kind_enum in INCOMING_KINDS


COMPLEXITY_CHOICES = [("simple", "简单"), ("complex", "复杂"), ("difficult", "疑难")]


class SubsidyRate(models.Model):
    """以案定补: the subsidy per successfully mediated case by difficulty (the matter's complexity). The amounts are
    a local decision (县司法局 / 财政 rules); the seeded ones are placeholders for the admin to set."""

    complexity = models.CharField("难易程度", max_length=10, choices=COMPLEXITY_CHOICES, unique=True)
    amount = models.DecimalField("每案补贴（元）", max_digits=10, decimal_places=2)
    note = models.CharField("依据", max_length=200, blank=True, help_text="本地以案定补办法的文号或说明")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "以案定补标准"
        verbose_name_plural = "以案定补标准"
        ordering = ["amount"]

    def __str__(self) -> str:
        return f"{self.get_complexity_display()}：{self.amount} 元"


class SubsidyEntry(models.Model):
    """One mediator's share of the subsidy for one successful mediation (written or oral agreement); the
    case's amount is split equally between its designated mediators."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="subsidy_entries")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    mediator = models.ForeignKey(Mediator, on_delete=models.PROTECT, related_name="subsidy_entries")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="所在单位")
    complexity = models.CharField("难易程度", max_length=10, choices=COMPLEXITY_CHOICES)
    case_amount = models.DecimalField("每案补贴（元）", max_digits=10, decimal_places=2)
    mediator_count = models.PositiveSmallIntegerField("调解员人数")
    amount = models.DecimalField("本人金额（元）", max_digits=10, decimal_places=2)
    earned_on = models.DateField("结案日期")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["earned_on", "id"]
        constraints = [models.UniqueConstraint(fields=["mediation", "mediator"], name="one_subsidy_per_mediator")]
        indexes = [models.Index(fields=["earned_on"], name="subsidy_month")]  # the monthly statements


class ArchiveRetention(models.Model):
    """保管期限 by dispute type (a local decision; 人民调解法 sets none): 永久, 长期, 短期 or a number of years.
    A type without a setting gets `DEFAULT_RETENTION`."""

    dispute_type = models.OneToOneField(
        "core.TaxonomyLabel", on_delete=models.CASCADE, related_name="+", limit_choices_to=MEDIATION_TYPES,
        verbose_name="纠纷类型",
    )
    period = models.CharField("保管期限", max_length=10, choices=_choices(RETENTION_LABELS))
    years = models.PositiveSmallIntegerField("年限", null=True, blank=True, help_text="保管期限为“按年限”时填写")

    class Meta:
        verbose_name = "卷宗保管期限"
        verbose_name_plural = "卷宗保管期限"
        constraints = [models.CheckConstraint(
            condition=~Q(period="years") | Q(years__gte=1), name="retention_years_when_by_years")]

    def __str__(self) -> str:
        return f"{self.dispute_type}：{retention_label(self.period, self.years)}"


def archive_path(instance: "CaseArchive", filename: str) -> str:
    return f"mediation/{instance.case.code}/archive/{filename}"


class CaseArchive(models.Model):
    """The matter's 卷宗: the catalogue as assembled (items present, waived with a reason), one PDF in the order
    of the 卷内目录 and a zip of the originals, with their digests and the retention period."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="archive")
    file_number = models.CharField("卷号", max_length=40)
    retention = models.CharField("保管期限", max_length=20)
    items = models.JSONField("卷内目录", default=list)  # [{"key", "title", "required", "count", "waiver"}]
    pdf_file = models.FileField(upload_to=archive_path, max_length=300)
    pdf_sha256 = models.CharField(max_length=64)
    zip_file = models.FileField(upload_to=archive_path, max_length=300)
    zip_sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField("立卷日期")
    archived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "卷宗"
        verbose_name_plural = "卷宗"
