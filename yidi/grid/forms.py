"""Forms of the grid workers' pages: short, touch-sized, one column."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from yidi.cases.domain import AGREEMENT_OUTCOMES, OUTCOME_LABELS, CaseDraft, PartyDraft, RequestType
from yidi.core.identifiers import is_valid_phone
from yidi.grid.domain import MAX_PHOTOS, ON_SPOT_RESULT_LABELS, OnSpotResult

TEXTAREA = {"rows": 3}
AGREEMENT_CHOICES = [(o.value, OUTCOME_LABELS[o]) for o in sorted(AGREEMENT_OUTCOMES, reverse=True)]


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input (the phone's camera or gallery); each is checked by content on saving."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"照片最多 {MAX_PHOTOS} 张")
        return [super(MultiplePhotoField, self).clean(file, initial) for file in files]


def _clean_phone(value: str) -> str:
    value = value.strip().replace(" ", "")
    if value and not is_valid_phone(value):
        raise forms.ValidationError("联系电话格式不正确（手机号11位，座机请加区号）")
    return value


class ReportForm(forms.Form):
    """上报事项: a matter found on patrol, and what happened on the spot."""

    region = forms.ChoiceField(
        label="发生地（村/社区、网格）", error_messages={"invalid_choice": "所选地点不在您负责的区域内，请重新选择"}
    )
    address = forms.CharField(label="具体位置或标志物", max_length=200, required=False,
                              help_text="如：枫源村3组祠堂东侧排水沟")
    latitude = forms.DecimalField(required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput,
                                  validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))])
    longitude = forms.DecimalField(required=False, max_digits=9, decimal_places=6, widget=forms.HiddenInput,
                                   validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))])
    description = forms.CharField(label="发生了什么", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text="写清时间、起因、现在的情况和当事人的诉求")
    title = forms.CharField(label="一句话标题", max_length=120, required=False,
                            help_text="可不填，默认取“发生了什么”的开头")
    people_involved = forms.IntegerField(
        label="涉及人数", required=False, validators=[MinValueValidator(0), MaxValueValidator(100_000)],
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    request_type = forms.ChoiceField(
        label="诉求类型", widget=forms.RadioSelect, initial=RequestType.MEDIATION.value,
        choices=[(RequestType.MEDIATION.value, "纠纷调解（有当事人要求解决）"),
                 (RequestType.REPORT.value, "线索上报（无人申请，如苗头隐患）")],
        help_text="当事人要求调解时请填写申请人；无人申请的苗头隐患选“线索上报”，可不填当事人",
    )
    applicant_name = forms.CharField(label="申请人姓名", max_length=80, required=False)
    applicant_phone = forms.CharField(
        label="申请人电话", max_length=20, required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    respondent_name = forms.CharField(label="对方当事人姓名或名称", max_length=80, required=False)
    photos = MultiplePhotoField(label="现场照片", help_text=f"可拍照或从相册选择，最多 {MAX_PHOTOS} 张（JPG、PNG）")
    result = forms.ChoiceField(
        label="现场处置结果", widget=forms.RadioSelect, initial=OnSpotResult.REPORTED.value,
        choices=[(r.value, label) for r, label in ON_SPOT_RESULT_LABELS.items()],
    )
    outcome = forms.ChoiceField(label="协议形式", required=False, widget=forms.RadioSelect,
                                choices=AGREEMENT_CHOICES)
    agreement = forms.CharField(label="化解经过和协议内容", max_length=2000, required=False,
                                widget=forms.Textarea(attrs=TEXTAREA))
    attempt_summary = forms.CharField(label="调解经过和未化解的原因", max_length=2000, required=False,
                                      widget=forms.Textarea(attrs=TEXTAREA))

    def __init__(self, *args, area: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "请选择"), *area]

    def clean_applicant_phone(self):
        return _clean_phone(self.cleaned_data["applicant_phone"])

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error(None, "定位不完整，请重新获取当前位置或不使用定位")
        if data.get("request_type") == RequestType.MEDIATION and not data.get("applicant_name", "").strip():
            self.add_error("applicant_name", "纠纷调解须填写申请人；无人申请的请选“线索上报”")
        if data.get("applicant_phone") and not data.get("applicant_name", "").strip():
            self.add_error("applicant_name", "填写了电话，请同时填写申请人姓名")
        return data

    def draft(self) -> CaseDraft:
        data = self.cleaned_data
        parties = []
        if data["applicant_name"].strip():
            parties.append(PartyDraft(role="applicant", name=data["applicant_name"].strip(),
                                      phone=data["applicant_phone"]))
        if data["respondent_name"].strip():
            parties.append(PartyDraft(role="respondent", name=data["respondent_name"].strip()))
        description = data["description"].strip()
        title = data["title"].strip() or description.splitlines()[0][:30]
        return CaseDraft(
            channel_code="grid_report", request_type=RequestType(data["request_type"]), title=title,
            description=description, region_code=data["region"], address=data["address"].strip(),
            people_involved=data["people_involved"], latitude=data["latitude"], longitude=data["longitude"],
            parties=tuple(parties), in_person=False,
        )

    def summary(self) -> str:
        data = self.cleaned_data
        if data["result"] == OnSpotResult.RESOLVED:
            return data["agreement"]
        if data["result"] == OnSpotResult.ATTEMPTED:
            return data["attempt_summary"]
        return ""


class FindForm(forms.Form):
    code = forms.CharField(
        label="事项编码", max_length=80,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "如 330681-2026-000123",
                                      "enterkeyhint": "search"}),
        help_text="可输入编码的全部数字（不带短横线也可以），或点“扫码”扫描回执上的二维码/条形码",
    )


class FollowUpForm(forms.Form):
    note = forms.CharField(label="跟进情况", max_length=2000, widget=forms.Textarea(attrs=TEXTAREA),
                           help_text="如：已上门走访，双方情绪平稳，约定下周再协商")
    photos = MultiplePhotoField(label="照片（可选）")


class OnSpotForm(forms.Form):
    """The on-the-spot result recorded from the matter card (while it is still registered)."""

    result = forms.ChoiceField(
        label="现场调解结果", widget=forms.RadioSelect,
        choices=[(r.value, ON_SPOT_RESULT_LABELS[r]) for r in (OnSpotResult.RESOLVED, OnSpotResult.ATTEMPTED)],
    )
    outcome = forms.ChoiceField(label="协议形式", required=False, widget=forms.RadioSelect,
                                choices=AGREEMENT_CHOICES)
    summary = forms.CharField(label="经过、协议内容或未化解的原因", max_length=2000, widget=forms.Textarea(attrs=TEXTAREA))


class VisitForm(forms.Form):
    place = forms.CharField(label="群众到访地点", max_length=120, help_text="如：枫源村便民服务中心")
    purpose = forms.CharField(label="事由", max_length=200, required=False)
