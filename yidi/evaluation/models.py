from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from yidi.cases.domain import EVALUATION_LABELS, HANDLING_MODE_LABELS, OUTCOME_LABELS
from yidi.core.deadlines import DayUnit
from yidi.evaluation.domain import (
    AGREEMENT_FILTER,
    EVALUATION_METHOD_LABELS,
    LAWSUIT_LABELS,
    PERFORMANCE_LABELS,
    REVIEW_STATE_LABELS,
    SATISFACTION_LABELS,
    TRIGGER_LABELS,
    VISIT_METHOD_LABELS,
    VISIT_STATUS_LABELS,
    ReviewState,
    VisitStatus,
)


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class Evaluation(models.Model):
    """One evaluation of a matter's result (满意/基本满意/不满意), one per round (a reopening starts a new round).

    Written from the timeline's `evaluate` event, whatever wrote it (the portal, the staff form, a return visit).
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="evaluations",
                             verbose_name="事项", db_index=False)  # served by (case, round)
    round = models.PositiveSmallIntegerField("轮次")
    result = models.CharField("评价结果", max_length=30, choices=_choices(EVALUATION_LABELS))
    note = models.TextField("群众意见", blank=True)
    method = models.CharField("评价方式", max_length=20, choices=_choices(EVALUATION_METHOD_LABELS))
    person = models.ForeignKey("cases.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name="评价人")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
                                    verbose_name="记录人")
    recorded_at = models.DateTimeField("评价时间")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="主办单位", db_index=False)  # the lead unit evaluated
    event_seq = models.PositiveIntegerField("时间轴序号")
    review_state = models.CharField("处理情况", max_length=20, choices=_choices(REVIEW_STATE_LABELS), blank=True,
                                    default=ReviewState.NONE)
    review_note = models.CharField("处理说明", max_length=300, blank=True)
    reviewed_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "群众评价"
        verbose_name_plural = "群众评价"
        ordering = ["case_id", "round"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="evaluation_one_per_round")]
        indexes = [
            # The supervisor's list of dissatisfied evaluations, newest first, by review state.
            models.Index(fields=["result", "review_state", "recorded_at"], name="evaluation_dissatisfied"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 第{self.round}轮 {self.get_result_display()}"

    @property
    def on_behalf(self) -> bool:
        return self.method != "online"


OUTCOME_FILTER_CHOICES = [("", "不限"), (AGREEMENT_FILTER, "达成协议（书面或口头）"), *_choices(OUTCOME_LABELS)]


class ReturnVisitRule(models.Model):
    """When a matter's return visit (回访) falls due: admin-editable data (系统管理员). A matter gets the one rule
    `domain.select_rule` picks (lowest priority number, then the most specific)."""

    code = models.SlugField("代码", max_length=60, unique=True)
    name = models.CharField("名称", max_length=80)
    trigger = models.CharField("起算事件", max_length=20, choices=_choices(TRIGGER_LABELS))
    channel_group = models.SlugField("渠道类别", max_length=40, blank=True,
                                     help_text="留空为不限；如 hotline_12345（12345热线）、petition（信访）")
    handling_mode = models.CharField("办理方式", max_length=20, choices=_choices(HANDLING_MODE_LABELS), blank=True)
    outcome = models.CharField("办理结果", max_length=30, choices=OUTCOME_FILTER_CHOICES, blank=True)
    offset_days = models.PositiveSmallIntegerField("间隔天数", help_text="起算日（不计入）之后的天数")
    day_unit = models.CharField("计日方式", max_length=20, choices=[
        (DayUnit.WORKDAYS.value, "工作日"), (DayUnit.CALENDAR_DAYS.value, "自然日")])
    no_obligation_offset_days = models.PositiveSmallIntegerField(
        "无履行义务时间隔天数", default=7, help_text="仅“协议履行期限届满后”：协议未登记履行义务的，自协议生效起算")
    priority = models.PositiveSmallIntegerField("优先级", default=100, help_text="数字小者优先")
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "回访规则"
        verbose_name_plural = "回访规则"
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class ReturnVisit(models.Model):
    """A return visit (回访) of a matter: scheduled by rule (or as a follow-up of a visit that found risk), done
    by the responsible unit with the published record fields, or cancelled (a reopening)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="return_visits",
                             verbose_name="事项")
    rule = models.ForeignKey(ReturnVisitRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="回访规则")
    round = models.PositiveSmallIntegerField("轮次")
    due_on = models.DateField("应回访日期")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="责任单位", db_index=False)  # served by `return_visit_worklist`
    # The matter's region (a matter keeps its region from registration on), copied here so that a region's
    # worklist is read from this table's index alone, not by joining every matter of the region.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name="发生地",
                               db_index=False, editable=False)  # served by `return_visit_region_worklist`
    status = models.CharField("状态", max_length=20, choices=_choices(VISIT_STATUS_LABELS),
                              default=VisitStatus.SCHEDULED)
    scheduled_at = models.DateTimeField("安排时间")
    follow_up_of = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="follow_up", verbose_name="跟进的回访")
    done_at = models.DateTimeField("回访时间", null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name="回访人")
    method = models.CharField("回访方式", max_length=20, choices=_choices(VISIT_METHOD_LABELS), blank=True)
    performance = models.CharField("履行情况", max_length=20, choices=_choices(PERFORMANCE_LABELS), blank=True)
    satisfaction = models.CharField("满意度", max_length=30, choices=_choices(SATISFACTION_LABELS), blank=True)
    lawsuit = models.CharField("起诉、仲裁或信访", max_length=20, choices=_choices(LAWSUIT_LABELS), blank=True)
    lawsuit_note = models.CharField("起诉、仲裁或信访情况", max_length=300, blank=True)
    risk_remaining = models.BooleanField("存在风险隐患", default=False)
    risk_signs = models.TextField("风险迹象", blank=True)
    measures = models.TextField("采取措施", blank=True)
    summary = models.TextField("回访情况", blank=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)
    risk_disposed_at = models.DateTimeField("风险处置时间", null=True, blank=True)
    risk_disposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name="风险处置人")
    risk_disposal = models.TextField("风险处置措施", blank=True)

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["due_on", "id"]
        constraints = [
            # Scheduling by rule is idempotent: one visit per rule and round.
            models.UniqueConstraint(fields=["case", "rule", "round"], condition=Q(follow_up_of__isnull=True),
                                    name="return_visit_one_per_rule_round"),
        ]
        indexes = [
            # The unit's worklist: its scheduled visits by due date (and the done tab).
            models.Index(fields=["unit", "status", "due_on"], name="return_visit_worklist"),
            # Region-wide worklists and the grid worker's home page: the region's visits by status and due date.
            models.Index(fields=["region", "status", "due_on"], name="return_visit_region_worklist"),
            # A region-wide unit's own visits of matters outside its region (`queries.visit_scope`).
            models.Index(fields=["unit", "region"], name="return_visit_unit_region"),
            # A county-level worklist (its region holds every visit): by status and due date.
            models.Index(fields=["status", "due_on"], name="return_visit_due"),
            # The risk list: visits that found risk and wait for a dispatcher's disposal.
            models.Index(fields=["done_at"], condition=Q(risk_remaining=True, risk_disposed_at__isnull=True),
                         name="return_visit_open_risk"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 回访 {self.due_on}"

    @property
    def is_follow_up(self) -> bool:
        return self.follow_up_of_id is not None

    @property
    def url(self) -> str:
        return reverse("return_visit_record", args=[self.pk])
