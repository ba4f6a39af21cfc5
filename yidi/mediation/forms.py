"""Forms of the mediation pages: parse and check input field by field (Chinese messages); rules live in actions."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from yidi.cases.models import AttachmentKind, PartyRole
from yidi.core.forms import DateInput, DateTimeLocalInput
from yidi.core.models import TaxonomyLabel
from yidi.mediation import queries
from yidi.mediation.documents.domain import ACCEPTANCE_SOURCE_LABELS
from yidi.mediation.domain import (
    AVAILABILITY_LABELS,
    CONFLICT_RELATION_LABELS,
    INCOMING_KINDS,
    ORGANISATION_TYPE_LABELS,
    OUTGOING_KINDS,
    PETITION_OPINION_LABELS,
    PETITION_STEP_LABELS,
    ConflictRelation,
    HandOffKind,
    ObligationState,
)
from yidi.mediation.models import (
    DesignationSource,
    MediationRoom,
    RulingResult,
    SessionKind,
    SessionMode,
)
from yidi.regions.domain import code_range
from yidi.regions.models import Region

TEXT = forms.Textarea(attrs={"rows": 3})
OUTGOING_KIND_ORDER = [kind for kind in HandOffKind if kind in OUTGOING_KINDS]
INCOMING_KIND_ORDER = [kind for kind in HandOffKind if kind in INCOMING_KINDS]
SHORT_TEXT = forms.Textarea(attrs={"rows": 2})
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _choices(labels: dict, *, blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(key.value, label) for key, label in labels.items()]
    return [("", blank), *choices] if blank is not None else choices


class MediationForm(forms.Form):
    """A mediation action's form; `case` and `mediation` are what it acts on (some choices depend on them)."""

    def __init__(self, *args, case=None, mediation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case, self.mediation = case, mediation
        if case is not None:
            self.setup(case, mediation)

    def setup(self, case, mediation) -> None:
        pass

    def party_choices(self, *, parties_only: bool = True) -> list[tuple[int, str]]:
        return [(p.pk, f"{p.person.name}（{p.get_role_display()}）")
                for p in queries.case_parties(self.case, parties_only=parties_only)]

    def designated_choices(self) -> list[tuple[int, str]]:
        return [(d.mediator_id, str(d.mediator)) for d in queries.active_designations(self.mediation)]


class EmptyForm(MediationForm):
    pass


class OpenForm(MediationForm):
    source = forms.ChoiceField(label="案件来源", choices=_choices(ACCEPTANCE_SOURCE_LABELS), initial="application")
    requests = forms.CharField(label="申请事项", required=False, max_length=2000, widget=TEXT,
                               help_text="当事人申请的，每行一项，如：请求被申请人恢复排水沟原状")
    applied_on = forms.DateField(label="申请日期", required=False, widget=DateInput)
    committee = forms.CharField(label="人民调解委员会", max_length=80, help_text="调解文书上的调解组织名称")

    def setup(self, case, mediation) -> None:
        self.fields["committee"].initial = queries.default_committee(case)
        self.fields["applied_on"].initial = timezone.localdate()


class DesignateForm(MediationForm):
    mediators = forms.TypedMultipleChoiceField(label="调解员", coerce=int, widget=forms.CheckboxSelectMultiple,
                                               help_text="可选择一名或多名，第一名为主调解员")
    source = forms.ChoiceField(label="产生方式", choices=DesignationSource.choices, initial=DesignationSource.COMMITTEE,
                               widget=forms.RadioSelect)
    note = forms.CharField(label="说明", required=False, max_length=500, widget=SHORT_TEXT)

    def setup(self, case, mediation) -> None:
        designated = {d.mediator_id for d in queries.active_designations(mediation)}
        self.fields["mediators"].choices = [
            (m.pk, f"{m}（{m.room.name if m.room_id else m.user.unit.name}）")
            for m in queries.pool(case.region_id[:6]) if m.pk not in designated
        ]


class RecuseForm(MediationForm):
    mediator = forms.TypedChoiceField(label="回避的调解员", coerce=int)
    relation = forms.ChoiceField(label="回避事由", choices=_choices(CONFLICT_RELATION_LABELS),
                                 initial=ConflictRelation.PARTY_REQUEST)
    party = forms.TypedChoiceField(label="相关当事人", coerce=int, required=False, empty_value=None,
                                   help_text="当事人申请回避或与某一当事人有利害关系的，选择该当事人")
    reason = forms.CharField(label="回避理由", max_length=500, widget=SHORT_TEXT)

    def setup(self, case, mediation) -> None:
        self.fields["mediator"].choices = self.designated_choices()
        self.fields["party"].choices = [("", "（不涉及具体当事人）"), *self.party_choices()]


class ConflictForm(MediationForm):
    mediator = forms.TypedChoiceField(label="调解员", coerce=int)
    relation = forms.ChoiceField(label="利益冲突事由", choices=[
        (key.value, label) for key, label in CONFLICT_RELATION_LABELS.items() if key != ConflictRelation.PARTY_REQUEST
    ])
    party = forms.TypedChoiceField(label="相关当事人", coerce=int, required=False, empty_value=None)
    note = forms.CharField(label="说明", required=False, max_length=300)

    def setup(self, case, mediation) -> None:
        designated = {d.mediator_id for d in queries.active_designations(mediation)}
        self.fields["mediator"].choices = [
            (m.pk, str(m)) for m in queries.pool(case.region_id[:6]) if m.pk not in designated
        ]
        self.fields["party"].choices = [("", "（与本事项整体存在利害关系）"), *self.party_choices()]


class PartyDetailForm(MediationForm):
    party = forms.TypedChoiceField(label="当事人", coerce=int)
    sex = forms.ChoiceField(label="性别", required=False, choices=[("", "按身份证号码"), ("男", "男"), ("女", "女")])
    ethnicity = forms.CharField(label="民族", required=False, max_length=20)
    age = forms.IntegerField(label="年龄", required=False, validators=[MinValueValidator(1), MaxValueValidator(149)],
                             help_text="不填则按身份证号码计算")
    occupation = forms.CharField(label="职业", required=False, max_length=40)
    work_unit = forms.CharField(label="工作单位", required=False, max_length=80)
    representative = forms.CharField(label="法定代表人（负责人）", required=False, max_length=40,
                                     help_text="当事人为单位的填写")

    def setup(self, case, mediation) -> None:
        self.fields["party"].choices = self.party_choices(parties_only=False)


NOTICE_METHODS = [
    ("当面告知并送达书面告知书", "当面告知并送达书面告知书"),
    ("电话告知并寄送书面告知书", "电话告知并寄送书面告知书"),
    ("线上调解平台送达", "线上调解平台送达"),
]


class RightsNoticeForm(MediationForm):
    parties = forms.TypedMultipleChoiceField(label="已告知的当事人", coerce=int, widget=forms.CheckboxSelectMultiple)
    method = forms.ChoiceField(label="告知方式", choices=NOTICE_METHODS)
    delivered_on = forms.DateField(label="告知日期", widget=DateInput)

    def setup(self, case, mediation) -> None:
        self.fields["parties"].choices = self.party_choices()
        self.fields["parties"].initial = [pk for pk, _ in self.fields["parties"].choices]
        self.fields["delivered_on"].initial = timezone.localdate()


CONTACT_METHODS = [("电话", "电话"), ("上门", "上门"), ("书面通知", "书面通知"), ("短信", "短信"), ("网格员转告", "网格员转告")]


class NotifyForm(MediationForm):
    party = forms.TypedChoiceField(label="被通知的当事人", coerce=int)
    method = forms.ChoiceField(label="通知方式", choices=CONTACT_METHODS)
    note = forms.CharField(label="通知情况", required=False, max_length=500, widget=SHORT_TEXT)

    def setup(self, case, mediation) -> None:
        self.fields["party"].choices = self.party_choices()
        respondent = next((p for p in queries.case_parties(case) if p.role == PartyRole.RESPONDENT), None)
        if respondent is not None:
            self.fields["party"].initial = respondent.pk


class ConsentForm(NotifyForm):
    method = None
    note = forms.CharField(label="说明", required=False, max_length=500, widget=SHORT_TEXT,
                           help_text="如：双方共同申请调解；对方电话表示同意调解")

    def setup(self, case, mediation) -> None:
        super().setup(case, mediation)
        self.fields["party"].label = "同意调解的当事人"


ROUTES_HELP = "如：已告知双方可以向诸暨市人民法院提起民事诉讼，或申请劳动人事争议仲裁"


class RefusalForm(NotifyForm):
    method = None
    note = None
    reason = forms.CharField(label="拒绝调解的情况", max_length=1000, widget=SHORT_TEXT)
    routes_told = forms.CharField(label="已告知的其他解决途径", max_length=1000, widget=SHORT_TEXT, help_text=ROUTES_HELP)

    def setup(self, case, mediation) -> None:
        super().setup(case, mediation)
        self.fields["party"].label = "拒绝调解的当事人"


class StatementForm(forms.Form):
    speaker = forms.CharField(label="发言人", max_length=40, required=False)
    text = forms.CharField(label="内容", max_length=5000, required=False, widget=SHORT_TEXT)


StatementFormSet = forms.formset_factory(StatementForm, extra=1, can_delete=True, max_num=60, validate_max=True)


class SessionForm(MediationForm):
    kind = forms.ChoiceField(label="形式", choices=SessionKind.choices, widget=forms.RadioSelect,
                             initial=SessionKind.JOINT)
    mode = forms.ChoiceField(label="方式", choices=SessionMode.choices, widget=forms.RadioSelect,
                             initial=SessionMode.ON_SITE)
    place = forms.CharField(label="地点", max_length=120)
    started_at = forms.DateTimeField(label="开始时间", widget=DateTimeLocalInput, input_formats=DATETIME_FORMATS)
    ended_at = forms.DateTimeField(label="结束时间", required=False, widget=DateTimeLocalInput,
                                   input_formats=DATETIME_FORMATS)
    parties = forms.TypedMultipleChoiceField(label="到场当事人", coerce=int, widget=forms.CheckboxSelectMultiple)
    attendees = forms.CharField(label="其他参加人员", required=False, max_length=300, help_text="以顿号分隔")
    recorder = forms.CharField(label="记录人", max_length=40)
    result = forms.CharField(label="本次调解结果", max_length=2000, widget=SHORT_TEXT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        prefix = f"{self.prefix}-statements" if self.prefix else "statements"
        self.statements = StatementFormSet(self.data if self.is_bound else None, prefix=prefix)

    def setup(self, case, mediation) -> None:
        self.fields["parties"].choices = self.party_choices(parties_only=False)
        self.fields["parties"].initial = [pk for pk, _ in self.fields["parties"].choices]

    def is_valid(self) -> bool:
        return super().is_valid() & self.statements.is_valid()

    @property
    def statement_pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (row.get("speaker", ""), row.get("text", "")) for row in self.statements.cleaned_data
            if row and not row.get("DELETE")
        )


class ScheduleSessionForm(MediationForm):
    mode = forms.ChoiceField(label="方式", choices=SessionMode.choices, widget=forms.RadioSelect,
                             initial=SessionMode.ON_SITE)
    starts_at = forms.DateTimeField(label="调解时间", widget=DateTimeLocalInput, input_formats=DATETIME_FORMATS)
    place = forms.CharField(label="地点", required=False, max_length=120, help_text="现场调解必填，如：枫源村调解室")
    online_room = forms.CharField(label="在线调解室", required=False, max_length=200,
                                  help_text="线上调解必填：在线调解室链接或会议号")
    note = forms.CharField(label="备注", required=False, max_length=300)


class CancelSessionForm(MediationForm):
    appointment = forms.TypedChoiceField(label="调解预约", coerce=int)
    reason = forms.CharField(label="取消原因", max_length=300, widget=SHORT_TEXT)

    def setup(self, case, mediation) -> None:
        self.fields["appointment"].choices = [
            (a.pk, f"{timezone.localtime(a.starts_at):%Y-%m-%d %H:%M} · {a.get_mode_display()} · {a.place or a.online_room}")
            for a in queries.upcoming_appointments(case)
        ]


class EvidenceForm(MediationForm):
    file = forms.FileField(label="证据材料")
    kind = forms.ChoiceField(label="材料类型", choices=AttachmentKind.choices, initial=AttachmentKind.EVIDENCE, required=False)
    description = forms.CharField(label="说明", required=False, max_length=200)


class AgreementContentForm(MediationForm):
    facts = forms.CharField(label="纠纷主要事实", max_length=5000, widget=TEXT)
    disputed_issues = forms.CharField(label="争议事项", max_length=2000, widget=SHORT_TEXT)
    responsibility = forms.CharField(label="各方当事人的责任", max_length=2000, widget=SHORT_TEXT)
    terms = forms.CharField(label="协议内容", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
                            help_text="每行一项")
    performance_manner = forms.CharField(label="履行方式", max_length=300)
    performance_place = forms.CharField(label="履行地点", max_length=200)
    performance_period = forms.CharField(label="履行期限", max_length=200)

    def setup(self, case, mediation) -> None:
        agreement = getattr(mediation, "agreement", None) if mediation else None
        if agreement is not None:
            for name in self.fields:
                self.fields[name].initial = getattr(agreement, name)
        else:
            self.fields["facts"].initial = case.description


class OralAgreementForm(AgreementContentForm):
    responsibility = None


class SignatureForm(MediationForm):
    signers = forms.MultipleChoiceField(label="已签名（盖章）的各方", widget=forms.CheckboxSelectMultiple)

    def setup(self, case, mediation) -> None:
        agreement = getattr(mediation, "agreement", None)
        signed = set(agreement.signatures.values_list("signer_key", flat=True)) if agreement else set()
        self.fields["signers"].choices = [
            (signer.key, signer.label) for signer in queries.required_signers(mediation) if signer.key not in signed
        ]


class FailureForm(MediationForm):
    reason = forms.CharField(label="调解不成的原因", max_length=1000, widget=SHORT_TEXT)
    routes_told = forms.CharField(label="已告知当事人的法律途径", max_length=1000, widget=SHORT_TEXT, help_text=ROUTES_HELP)


class JudicialConfirmationForm(MediationForm):
    court = forms.CharField(label="受理法院", max_length=80)
    applied_on = forms.DateField(label="申请日期", widget=DateInput, help_text="双方当事人共同申请的日期")

    def setup(self, case, mediation) -> None:
        county = Region.objects.filter(code=case.region_id[:6]).values_list("name", flat=True).first() or ""
        self.fields["court"].initial = f"{county}人民法院"
        self.fields["applied_on"].initial = timezone.localdate()


class CourtAcceptanceForm(MediationForm):
    accepted_on = forms.DateField(label="受理日期", widget=DateInput)
    number = forms.CharField(label="案号", required=False, max_length=60, help_text="如：（2026）浙0681民特123号")


class RulingForm(MediationForm):
    ruling = forms.ChoiceField(label="裁定结果", choices=RulingResult.choices, widget=forms.RadioSelect)
    ruled_on = forms.DateField(label="裁定日期", widget=DateInput)
    number = forms.CharField(label="裁定书案号（调确字号）", max_length=60)
    note = forms.CharField(label="说明", required=False, max_length=1000, widget=SHORT_TEXT)
    routes_told = forms.CharField(label="已告知的途径（驳回时必填）", required=False, max_length=1000, widget=SHORT_TEXT,
                                  help_text="如：已告知双方可以重新调解、变更原协议或者向人民法院起诉")

    def setup(self, case, mediation) -> None:
        confirmation = getattr(getattr(mediation, "agreement", None), "judicial_confirmation", None)
        if confirmation is not None and confirmation.number:
            self.fields["number"].initial = confirmation.number


class ObligationForm(MediationForm):
    obligor = forms.TypedChoiceField(label="履行义务人", coerce=int)
    obligee = forms.TypedChoiceField(label="权利人", coerce=int, required=False, empty_value=None)
    description = forms.CharField(label="义务内容", max_length=300)
    amount = forms.DecimalField(label="金额（元）", required=False, max_digits=14, decimal_places=2,
                                validators=[MinValueValidator(Decimal(0))])
    due_on = forms.DateField(label="履行期限", widget=DateInput)

    def setup(self, case, mediation) -> None:
        self.fields["obligor"].choices = self.party_choices()
        self.fields["obligee"].choices = [("", "—"), *self.party_choices()]


def _open_obligations(mediation, *, overdue_only: bool = False) -> list[tuple[int, str]]:
    rows = queries.list_obligations(mediation, today=timezone.localdate()) if mediation else []
    return [
        (row.obligation.pk, f"{row.obligation.obligor.person.name}：{row.obligation.description}（{row.state_label}）")
        for row in rows
        if row.state is not ObligationState.PERFORMED and (not overdue_only or row.needs_urging)
    ]


class PerformanceForm(MediationForm):
    obligation = forms.TypedChoiceField(label="履行义务", coerce=int)
    performed_on = forms.DateField(label="履行日期", widget=DateInput)
    amount = forms.DecimalField(label="金额（元）", required=False, max_digits=14, decimal_places=2,
                                validators=[MinValueValidator(Decimal(0))])
    note = forms.CharField(label="履行情况", max_length=300)
    is_complete = forms.BooleanField(label="该项义务已全部履行", required=False)
    receipt = forms.FileField(label="履行凭证（收条、转账记录照片等）", required=False)

    def setup(self, case, mediation) -> None:
        self.fields["obligation"].choices = _open_obligations(mediation)
        self.fields["performed_on"].initial = timezone.localdate()


class UrgePerformanceForm(MediationForm):
    obligation = forms.TypedChoiceField(label="逾期未履行的义务", coerce=int)
    note = forms.CharField(label="督促履行情况", max_length=1000, widget=SHORT_TEXT)
    route_told = forms.CharField(
        label="已告知对方当事人的途径", max_length=1000, widget=SHORT_TEXT,
        initial="已告知权利人：义务人仍不履行的，可以就调解协议的履行向人民法院提起诉讼；协议经司法确认的，可以申请强制执行。",
    )

    def setup(self, case, mediation) -> None:
        self.fields["obligation"].choices = _open_obligations(mediation, overdue_only=True)


class RatingForm(MediationForm):
    mediator = forms.TypedChoiceField(label="调解员", coerce=int)
    party = forms.TypedChoiceField(label="评价的当事人", coerce=int)
    score = forms.TypedChoiceField(label="评分", coerce=int, widget=forms.RadioSelect, choices=[
        (5, "5 分 非常满意"), (4, "4 分 满意"), (3, "3 分 一般"), (2, "2 分 不满意"), (1, "1 分 非常不满意")])
    comment = forms.CharField(label="意见", required=False, max_length=300)

    def setup(self, case, mediation) -> None:
        self.fields["mediator"].choices = self.designated_choices()
        self.fields["party"].choices = self.party_choices()


class GenerateDocumentForm(MediationForm):
    key = forms.CharField(widget=forms.HiddenInput)


# --- the directory -----------------------------------------------------------------------------------------------


class DirectoryFilterForm(forms.Form):
    text = forms.CharField(label="姓名/单位/方言", required=False)
    specialty = forms.ChoiceField(label="擅长纠纷类型", required=False)
    region = forms.ChoiceField(label="服务区域", required=False)
    organisation_type = forms.ChoiceField(label="组织类型", required=False,
                                          choices=_choices(ORGANISATION_TYPE_LABELS, blank="全部"))
    availability = forms.ChoiceField(label="接案状态", required=False, choices=_choices(AVAILABILITY_LABELS, blank="全部"))
    room = forms.TypedChoiceField(label="品牌调解室", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, county_code: str, **kwargs):
        super().__init__(*args, **kwargs)
        labels = TaxonomyLabel.objects.filter(taxonomy__code="mediation_type", is_active=True).order_by("position")
        self.fields["specialty"].choices = [("", "全部"), *[(label.code, label.name) for label in labels]]
        low, high = code_range(county_code)
        townships = Region.objects.filter(code__gte=low, code__lt=high, level="township").order_by("code")
        self.fields["region"].choices = [("", "全部"), *[(r.code, r.short_name) for r in townships]]
        rooms = MediationRoom.objects.filter(is_active=True, unit__region_id__gte=low, unit__region_id__lt=high)
        self.fields["room"].choices = [("", "全部"), *[(room.pk, room.name) for room in rooms.order_by("name")]]



# --- hand-offs (诉调、仲调、访调对接) --------------------------------------------------------------------------


class HandOffActionForm(forms.Form):
    """A hand-off form: `handoffs` are the matter's hand-offs the action may apply to (for the choice)."""

    def __init__(self, *args, handoffs=(), **kwargs):
        super().__init__(*args, **kwargs)
        if "handoff" in self.fields:
            self.fields["handoff"].choices = [
                (h.pk, f"{h.get_kind_display()} · {h.receiver} · {h.get_status_display()}") for h in handoffs
            ]


class HandOffForm(HandOffActionForm):
    kind = forms.ChoiceField(label="移送去向", choices=[(k.value, k.label) for k in OUTGOING_KIND_ORDER])
    receiver = forms.CharField(label="接收机关", max_length=80, help_text="如：诸暨市人民法院、诸暨市劳动人事争议仲裁委员会")
    reason = forms.CharField(label="移送理由", max_length=1000, widget=SHORT_TEXT)


class CourtReferralForm(HandOffActionForm):
    kind = forms.ChoiceField(label="类型", choices=[(k.value, k.label) for k in INCOMING_KIND_ORDER])
    court = forms.CharField(label="委派（委托）法院", max_length=80)
    received_on = forms.DateField(label="收到材料日期", widget=DateInput)
    reference_number = forms.CharField(label="法院案号", max_length=60)
    procedure = forms.ChoiceField(
        label="委托案件适用程序", required=False, choices=[("ordinary", "普通程序（15日）"), ("simplified", "简易程序（7日）")],
        help_text="委派调解不填（30日）；调解期限自登记之时起算",
    )


class HandOffReceiptForm(HandOffActionForm):
    handoff = forms.TypedChoiceField(label="移送记录", coerce=int)
    received_on = forms.DateField(label="接收日期", widget=DateInput)
    reference_number = forms.CharField(label="对方文号（案号）", max_length=60, required=False)


class HandOffOutcomeForm(HandOffActionForm):
    handoff = forms.TypedChoiceField(label="对接记录", coerce=int)
    decided_on = forms.DateField(label="结果日期", widget=DateInput, help_text="信访事项填写信访人收到处理意见书的日期")
    decision = forms.CharField(label="处理结果", max_length=200, required=False, help_text="如：已立案受理、裁决支持申请人请求")
    opinion = forms.ChoiceField(label="处理意见书意见（信访）", required=False,
                                choices=_choices(PETITION_OPINION_LABELS, blank="（非信访事项不填）"))
    reference_number = forms.CharField(label="对方文号（案号）", max_length=60, required=False)
    note = forms.CharField(label="说明", max_length=1000, required=False, widget=SHORT_TEXT)


class PetitionRequestForm(HandOffActionForm):
    handoff = forms.TypedChoiceField(label="信访事项", coerce=int)
    step = forms.ChoiceField(label="程序", choices=_choices(PETITION_STEP_LABELS))
    requested_on = forms.DateField(label="请求日期", widget=DateInput)


class PetitionAnswerForm(HandOffActionForm):
    handoff = forms.TypedChoiceField(label="信访事项", coerce=int)
    step = forms.ChoiceField(label="程序", choices=_choices(PETITION_STEP_LABELS))
    opinion = forms.ChoiceField(label="意见", choices=_choices(PETITION_OPINION_LABELS))
    answered_on = forms.DateField(label="意见日期", widget=DateInput, help_text="信访人收到复查（复核）意见的日期")


class ArchiveForm(forms.Form):
    """One optional waiver reason for each required catalogue item that is absent."""

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        for row in rows:
            if row["required"] and not row["count"]:
                self.fields[f"waive_{row['key']}"] = forms.CharField(
                    label=f"缺“{row['title']}”的理由", max_length=300, required=False,
                    help_text="必备材料缺失的，须说明理由方可归档")

    def waivers(self) -> dict[str, str]:
        return {name.removeprefix("waive_"): value for name, value in self.cleaned_data.items() if value}
