"""Forms of the staff pages: parse and check input field by field (Chinese messages); rules live in actions."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from yidi.accounts.access import ActionDenied
from yidi.accounts.domain import HANDLING_LEVEL_LABELS
from yidi.accounts.models import Unit
from yidi.cases.domain import (
    COMPLEXITY_LABELS,
    DIVERSION_ROUTE_LABELS,
    EVALUATION_LABELS,
    GRADE_LABELS,
    HANDLING_MODE_LABELS,
    OUTCOME_LABELS,
    REQUEST_TYPE_LABELS,
    STATUS_LABELS,
    CaseDraft,
    IllegalTransition,
    PartyDraft,
    RequestType,
    RuleViolation,
)
from yidi.cases.models import AttachmentKind, Channel, PartyRole, PersonKind, UrgingLevel
from yidi.core.deadlines import PARTY_STAGES
from yidi.core.identifiers import is_valid_id_number, is_valid_phone
from yidi.core.models import TaxonomyLabel
from yidi.regions.domain import code_range
from yidi.regions.models import Region


def _choices(labels: dict, *, blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(key.value, label) for key, label in labels.items()]
    return [("", blank), *choices] if blank is not None else choices


def region_choices(prefix: str) -> list:
    """Townships and their villages under `prefix`, grouped by township, for one select box."""
    low, high = code_range(prefix)
    regions = list(
        Region.objects.filter(code__gte=low, code__lt=high, level__in=["township", "village"], is_active=True)
        .only("code", "short_name", "level", "parent_id")
        .order_by("code")
    )
    groups: dict[str, list] = {}
    names: dict[str, str] = {}
    for region in regions:
        if region.level == "township":
            names[region.code] = region.short_name
            groups[region.code] = [(region.code, f"{region.short_name}（全镇/街道）")]
        elif region.parent_id in groups:
            groups[region.parent_id].append((region.code, region.short_name))
    if not groups:
        region = Region.objects.filter(code=prefix).first()
        return [(prefix, region.short_name if region else prefix)]
    return [(names[code], options) for code, options in groups.items()]


def mediation_type_choices(*, blank: str = "请选择") -> list:
    labels = TaxonomyLabel.objects.filter(taxonomy__code="mediation_type", is_active=True).order_by("position")
    return [("", blank), *[(label.code, label.name) for label in labels]]


class CaseRegistrationForm(forms.Form):
    channel = forms.ChoiceField(label="来源渠道")
    request_type = forms.ChoiceField(label="诉求类型", choices=_choices(REQUEST_TYPE_LABELS, blank="请选择"))
    title = forms.CharField(label="事项标题", max_length=120, help_text="一句话概括，如“某村两户因排水沟发生邻里纠纷”")
    description = forms.CharField(
        label="事项描述", max_length=20000,
        widget=forms.Textarea(attrs={
            "rows": 6, "hx-post": "/cases/triage/", "hx-trigger": "input changed delay:600ms, load",
            "hx-target": "#triage-panel", "hx-include": "closest form", "hx-swap": "innerHTML",
        }),
        help_text="边输入边自动研判：下方显示建议的类型、风险等级和可能重复的事项",
    )
    region = forms.ChoiceField(label="发生地（乡镇街道/村社区）")
    address = forms.CharField(label="详细地点", max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        label="发生时间", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    people_involved = forms.IntegerField(
        label="涉及人数", required=False, validators=[MinValueValidator(0), MaxValueValidator(1_000_000)]
    )
    amount_involved = forms.DecimalField(
        label="涉及金额（元）", required=False, max_digits=14, decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
    )
    primary_type = forms.ChoiceField(label="纠纷类型", required=False)
    grade = forms.ChoiceField(label="风险等级", required=False, choices=_choices(GRADE_LABELS, blank="待研判"))
    complexity = forms.ChoiceField(
        label="复杂程度", required=False, choices=_choices(COMPLEXITY_LABELS, blank="待研判")
    )
    is_urgent = forms.BooleanField(label="加急", required=False)
    in_person = forms.BooleanField(label="当事人本人到场（计入来访）", required=False)
    external_ref = forms.CharField(label="外部编号（如12345工单号）", max_length=60, required=False)

    def __init__(self, *args, region_prefix: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "请选择")] + [
            (c.code, c.name) for c in Channel.objects.filter(is_active=True).order_by("position")
        ]
        self.fields["region"].choices = [("", "请选择"), *region_choices(region_prefix)]
        self.fields["primary_type"].choices = mediation_type_choices(blank="待研判")


class PartyForm(forms.Form):
    role = forms.ChoiceField(label="角色", choices=PartyRole.choices)
    kind = forms.ChoiceField(label="类型", choices=PersonKind.choices, initial=PersonKind.NATURAL)
    name = forms.CharField(label="姓名/名称", max_length=80)
    id_number = forms.CharField(label="身份证号码", max_length=18, required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    address = forms.CharField(label="住址", max_length=200, required=False)

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip().upper()
        if value and not is_valid_id_number(value):
            raise forms.ValidationError("身份证号码格式或校验位不正确")
        return value

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip().replace(" ", "")
        if value and not is_valid_phone(value):
            raise forms.ValidationError("联系电话格式不正确（手机号11位，座机请加区号）")
        return value


PartyFormSet = forms.formset_factory(PartyForm, extra=0, min_num=1, max_num=20, validate_max=True)


def build_draft(form: CaseRegistrationForm, parties: PartyFormSet) -> CaseDraft:
    data = form.cleaned_data
    return CaseDraft(
        channel_code=data["channel"],
        request_type=RequestType(data["request_type"]),
        title=data["title"],
        description=data["description"],
        region_code=data["region"],
        address=data["address"],
        occurred_at=data["occurred_at"],
        people_involved=data["people_involved"],
        amount_involved=data["amount_involved"],
        primary_type_code=data["primary_type"],
        grade=data["grade"],
        complexity=data["complexity"],
        is_urgent=data["is_urgent"],
        in_person=data["in_person"],
        external_ref=data["external_ref"],
        parties=tuple(
            PartyDraft(**{k: party[k] for k in ("role", "kind", "name", "id_number", "phone", "address")})
            for party in parties.cleaned_data
            if party and not party.get("DELETE")
        ),
    )


class CaseFilterForm(forms.Form):
    text = forms.CharField(label="关键词/编码", required=False)
    status = forms.MultipleChoiceField(label="状态", required=False, choices=_choices(STATUS_LABELS))
    primary_type = forms.ChoiceField(label="纠纷类型", required=False)
    grade = forms.ChoiceField(label="风险等级", required=False, choices=_choices(GRADE_LABELS, blank="全部"))
    region = forms.ChoiceField(label="地区", required=False)
    channel = forms.ChoiceField(label="来源渠道", required=False)
    request_type = forms.ChoiceField(
        label="诉求类型", required=False, choices=_choices(REQUEST_TYPE_LABELS, blank="全部")
    )
    registered_from = forms.DateField(label="登记日期从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    registered_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    deadline = forms.ChoiceField(
        label="期限", required=False,
        choices=[("", "全部"), ("overdue", "已超期"), ("warning", "临期（黄/红）"), ("green", "期限内")],
    )
    queue = forms.CharField(required=False, widget=forms.HiddenInput)
    lead_unit = forms.CharField(required=False, widget=forms.HiddenInput)
    open = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, region_prefix: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["primary_type"].choices = mediation_type_choices(blank="全部")
        low, high = code_range(region_prefix)
        townships = Region.objects.filter(code__gte=low, code__lt=high, level="township").order_by("code")
        self.fields["region"].choices = [("", "全部"), *[(r.code, r.short_name) for r in townships]]
        self.fields["channel"].choices = [("", "全部")] + [
            (c.code, c.name) for c in Channel.objects.filter(is_active=True).order_by("position")
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("registered_from"), data.get("registered_to")
        if start and end and start > end:
            self.add_error("registered_to", "结束日期不能早于开始日期")
        return data


# --- action forms ---------------------------------------------------------------------------------------

REASON_WIDGET = forms.Textarea(attrs={"rows": 2})


class CaseActionForm(forms.Form):
    """An action's form; `case` is the matter it acts on (some choices depend on it)."""

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        if case is not None:
            self.setup(case)

    def setup(self, case) -> None:
        pass


def units_serving(region_code: str) -> list[tuple[str, str]]:
    """Active units whose region contains the matter's place: the only ones it may be assigned to."""
    prefixes = [region_code[:n] for n in (2, 4, 6, 9, 12, 15) if n <= len(region_code)]
    units = Unit.objects.filter(region_id__in=prefixes, is_active=True).select_related("region")
    return [(u.code, f"{u.name}（{u.region.short_name}）") for u in units.order_by("-region_id", "kind", "code")]


def running_stage_choices(case, *, paused: bool | None = None) -> list[tuple[str, str]]:
    """The unit's running clocks (the parties' periods are neither paused nor extended)."""
    from yidi.cases.models import STAGE_LABELS

    clocks = case.deadlines.filter(met_at=None, cancelled_at=None).exclude(stage__in=PARTY_STAGES).order_by("id")
    return [(d.stage, STAGE_LABELS.get(d.stage, d.stage)) for d in clocks if paused is None or d.is_paused == paused]


class EmptyForm(CaseActionForm):
    pass


class ReasonForm(CaseActionForm):
    reason = forms.CharField(label="理由", widget=REASON_WIDGET, max_length=2000)


class DeclineForm(ReasonForm):
    route_told = forms.CharField(
        label="已告知的解决途径", max_length=500, help_text="如：属劳动仲裁受理范围，已告知向市劳动人事争议仲裁委申请"
    )


class AssignForm(CaseActionForm):
    lead_unit = forms.ChoiceField(label="主办单位")
    co_units = forms.MultipleChoiceField(label="协办单位", required=False)
    handling_level = forms.ChoiceField(
        label="处置层级", required=False, choices=_choices(HANDLING_LEVEL_LABELS, blank="不变")
    )
    note = forms.CharField(label="交办意见", required=False, max_length=300, widget=REASON_WIDGET)
    override_reason = forms.CharField(
        label="调整理由", required=False, max_length=500, help_text="主办单位与分派规则建议不同时必填"
    )

    def setup(self, case) -> None:
        choices = units_serving(case.region_id)
        self.fields["lead_unit"].choices = [("", "请选择"), *choices]
        self.fields["co_units"].choices = choices
        suggestion = case.routings.filter(is_override=False).order_by("-decided_at", "-id").first()
        self.suggestion = suggestion
        if suggestion is not None and suggestion.matched:
            self.fields["lead_unit"].initial = suggestion.lead_unit_code
            self.fields["co_units"].initial = suggestion.co_unit_codes
            self.fields["handling_level"].initial = suggestion.handling_level


class StartHandlingForm(CaseActionForm):
    mode = forms.ChoiceField(label="办理方式", choices=_choices(HANDLING_MODE_LABELS))


class DivertForm(ReasonForm):
    route = forms.ChoiceField(label="分流去向", choices=_choices(DIVERSION_ROUTE_LABELS))


class ConcludeForm(CaseActionForm):
    outcome = forms.ChoiceField(label="办理结果", choices=_choices(OUTCOME_LABELS))
    summary = forms.CharField(label="结果摘要", required=False, max_length=2000, widget=REASON_WIDGET)


class ReturnVisitForm(CaseActionForm):
    summary = forms.CharField(label="回访情况", max_length=2000, widget=REASON_WIDGET)


class EvaluateForm(CaseActionForm):
    evaluation = forms.ChoiceField(label="群众评价", choices=_choices(EVALUATION_LABELS))
    method = forms.ChoiceField(label="评价方式", choices=[("phone", "电话代为评价"), ("window", "窗口代为评价")])
    note = forms.CharField(label="群众意见", required=False, max_length=2000, widget=REASON_WIDGET)


class NoteForm(CaseActionForm):
    note = forms.CharField(label="备注", required=False, max_length=2000, widget=REASON_WIDGET)


class TransferForm(ReasonForm):
    to_unit = forms.ChoiceField(label="转给单位")

    def setup(self, case) -> None:
        self.fields["to_unit"].choices = [("", "请选择")] + [
            (code, name) for code, name in units_serving(case.region_id) if code != getattr(case.lead_unit, "code", "")
        ]


class ConsultationForm(CaseActionForm):
    units = forms.MultipleChoiceField(label="参加单位")
    minutes = forms.CharField(label="会商纪要", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    decisions = forms.CharField(label="研判意见", max_length=2000, widget=REASON_WIDGET)

    def setup(self, case) -> None:
        self.fields["units"].choices = units_serving(case.region_id)


class InstructionForm(CaseActionForm):
    instruction = forms.CharField(label="批示内容", max_length=2000, widget=REASON_WIDGET)


class UrgentForm(CaseActionForm):
    reason = forms.CharField(label="加急理由", required=False, max_length=500)


class UrgeForm(ReasonForm):
    level = forms.ChoiceField(label="督办级别", choices=UrgingLevel.choices)


class ExtensionForm(ReasonForm):
    stage = forms.ChoiceField(label="阶段")
    days = forms.IntegerField(label="延期天数", validators=[MinValueValidator(1), MaxValueValidator(365)])

    def setup(self, case) -> None:
        self.fields["stage"].choices = running_stage_choices(case, paused=False)


class DecideExtensionForm(CaseActionForm):
    approve = forms.TypedChoiceField(
        label="审批意见", choices=[("yes", "同意"), ("no", "不同意")], coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="说明", required=False, max_length=1000, widget=REASON_WIDGET)


class PauseForm(ReasonForm):
    stage = forms.ChoiceField(label="阶段")

    def setup(self, case) -> None:
        self.fields["stage"].choices = running_stage_choices(case, paused=False)


class ResumeForm(CaseActionForm):
    stage = forms.ChoiceField(label="阶段")

    def setup(self, case) -> None:
        self.fields["stage"].choices = running_stage_choices(case, paused=True)


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label="渠道")
    summary = forms.CharField(label="反映内容", widget=REASON_WIDGET, max_length=5000)
    external_ref = forms.CharField(label="外部编号", required=False, max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [
            (c.code, c.name) for c in Channel.objects.filter(is_active=True).order_by("position")
        ]


class VisitForm(forms.Form):
    place = forms.CharField(label="来访地点", max_length=120)
    purpose = forms.CharField(label="事由", required=False, max_length=200)


class AttachmentForm(forms.Form):
    file = forms.FileField(label="附件")
    kind = forms.ChoiceField(label="材料类型", choices=AttachmentKind.choices, initial=AttachmentKind.EVIDENCE, required=False)
    description = forms.CharField(label="说明", required=False, max_length=200)


# What an action refuses with after its input was accepted: the lifecycle, a business rule, the actor's rights.
# (`InvalidInput` is a `RuleViolation` tied to a field: views catch it first, to put it beside that field.)
ACTION_REFUSALS = (IllegalTransition, RuleViolation, ActionDenied)


def show_refusal(form, error: Exception) -> int:
    """Put a refused action's message at the top of `form`; the status to answer with (403 rights, 409 else)."""
    form.add_error(None, str(error))
    return 403 if isinstance(error, ActionDenied) else 409
