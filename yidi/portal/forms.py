"""The portal's forms, in plain words; each field says what is wrong with it. Rules live in the actions."""

from datetime import datetime, time
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from yidi.cases.domain import CaseDraft, PartyDraft, RequestType
from yidi.core.identifiers import is_valid_id_number, is_valid_phone
from yidi.portal import domain
from yidi.portal.models import MediationMode

_MOBILE_HELP = "请填写11位手机号"


def _clean_mobile(value: str) -> str:
    value = "".join(value.split()).replace("-", "")
    if not (len(value) == 11 and value.startswith("1") and is_valid_phone(value)):
        raise forms.ValidationError("手机号格式不正确，请填写11位手机号")
    return value


def _text_input(**attrs) -> forms.TextInput:
    return forms.TextInput(attrs=attrs)


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label="手机号", max_length=20, help_text="我们会发送一条6位数字验证码到这个手机",
        widget=_text_input(autocomplete="tel", inputmode="tel", type="tel"),
    )

    def clean_phone(self) -> str:
        return _clean_mobile(self.cleaned_data["phone"])


class CodeForm(forms.Form):
    code = forms.CharField(
        label="短信验证码", max_length=10,
        widget=_text_input(autocomplete="one-time-code", inputmode="numeric", pattern="[0-9]*", maxlength="6"),
    )

    def clean_code(self) -> str:
        value = "".join(self.cleaned_data["code"].split())
        if not (value.isdigit() and len(value) == domain.CODE_DIGITS):
            raise forms.ValidationError("请输入短信中的6位数字验证码")
        return value


class TrackForm(forms.Form):
    case_code = forms.CharField(
        label="事项编码", max_length=30, help_text="登记时短信告知的编码，如 330681-2026-000123",
        widget=_text_input(autocomplete="off", inputmode="numeric", placeholder="330681-2026-000123"),
    )
    phone = forms.CharField(
        label="反映时留的手机号", max_length=20, widget=_text_input(autocomplete="tel", inputmode="tel", type="tel"),
    )

    def clean_case_code(self) -> str:
        value = "".join(self.cleaned_data["case_code"].split()).replace("－", "-").replace("—", "-")
        parts = value.split("-")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            raise forms.ValidationError("事项编码格式不正确，应为“6位数字-年份-序号”，如 330681-2026-000123")
        return value

    def clean_phone(self) -> str:
        return _clean_mobile(self.cleaned_data["phone"])


OTHER_KIND_CHOICES = [("natural", "个人"), ("organisation", "单位或组织")]
REQUEST_TYPE_CHOICES = [(key.value, label) for key, label in domain.REQUEST_TYPE_PLAIN.items()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the content checks are the action's (by the bytes, not the name)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > domain.MAX_ATTACHMENTS:
            raise forms.ValidationError(f"最多上传 {domain.MAX_ATTACHMENTS} 个文件")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class SubmissionForm(forms.Form):
    """One guided form: 您是谁 · 对方是谁 · 在哪里 · 什么时候 · 发生了什么 · 您希望怎么解决 · 调解方式 · 材料."""

    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # 您是谁
    name = forms.CharField(label="您的姓名", max_length=40, widget=_text_input(autocomplete="name"))
    id_number = forms.CharField(
        label="身份证号码（选填）", max_length=18, required=False,
        help_text="填写后便于核实身份、合并您以前反映的事项",
        widget=_text_input(autocomplete="off", inputmode="text", spellcheck="false"),
    )
    # 对方是谁
    other_kind = forms.ChoiceField(label="对方是", choices=OTHER_KIND_CHOICES, initial="natural",
                                   widget=forms.RadioSelect)
    other_name = forms.CharField(label="对方姓名或单位名称", max_length=80, widget=_text_input(autocomplete="off"))
    other_phone = forms.CharField(label="对方电话（选填）", max_length=20, required=False,
                                  widget=_text_input(autocomplete="off", inputmode="tel", type="tel"))
    # 在哪里
    township = forms.ChoiceField(label="乡镇（街道）")
    village = forms.ChoiceField(label="村（社区）", required=False)
    address = forms.CharField(label="具体地点", max_length=200, required=False,
                              help_text="如：3组18号门前、某某小区5幢",
                              widget=_text_input(autocomplete="off"))
    # 什么时候
    occurred_on = forms.DateField(label="事情发生的日期", required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}), help_text="记不清可以不填")
    # 发生了什么
    description = forms.CharField(
        label="发生了什么", max_length=5000,
        help_text="请用自己的话说清楚：什么事、经过怎样、现在怎么样了",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    people_involved = forms.IntegerField(
        label="涉及多少人（选填）", required=False, validators=[MinValueValidator(1), MaxValueValidator(100000)],
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}),
    )
    amount_involved = forms.DecimalField(
        label="涉及金额，元（选填）", required=False, max_digits=14, decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "min": "0", "step": "0.01"}),
    )
    # 您希望怎么解决
    request_type = forms.ChoiceField(label="您想要", choices=REQUEST_TYPE_CHOICES, initial=RequestType.MEDIATION,
                                     widget=forms.RadioSelect)
    requests = forms.CharField(label="您希望怎么解决", max_length=2000,
                               help_text="如：希望对方清理排水沟、赔偿损失3000元",
                               widget=forms.Textarea(attrs={"rows": 3}))
    # 调解方式
    mediation_mode = forms.ChoiceField(
        label="如需调解，您希望", choices=MediationMode.choices, initial=MediationMode.ONLINE, widget=forms.RadioSelect,
        help_text="线上调解：通过视频进行，不用跑腿；到场调解：到调解室当面进行",
    )
    files = MultipleFileField(
        label="照片或材料（选填）", required=False,
        help_text=f"最多 {domain.MAX_ATTACHMENTS} 个，支持 JPG、PNG 照片和 PDF 文件，每个不超过 {{limit}} MB",
    )

    def __init__(self, *args, townships: list, villages: list, limit_mb: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].choices = [("", "请选择"), *[(r.code, r.short_name) for r in townships]]
        groups: dict[str, list] = {}
        names = {r.code: r.short_name for r in townships}
        for village in villages:
            groups.setdefault(village.parent_id, []).append((village.code, village.short_name))
        self.fields["village"].choices = [("", "不清楚 / 不在村里"), *[
            (names[parent], options) for parent, options in groups.items() if parent in names
        ]]
        self.village_parent = {v.code: v.parent_id for v in villages}
        self.region_names = {**names, **{v.code: v.short_name for v in villages}}
        self.fields["files"].help_text = self.fields["files"].help_text.replace("{limit}", str(limit_mb))

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].strip().upper()
        if value and not is_valid_id_number(value):
            raise forms.ValidationError("身份证号码不正确，请核对18位号码（最后一位可能是X）")
        return value

    def clean_other_phone(self) -> str:
        value = "".join(self.cleaned_data["other_phone"].split())
        if value and not is_valid_phone(value):
            raise forms.ValidationError("对方电话格式不正确（手机号11位，座机请加区号，如 0575-87012345）")
        return value

    def clean(self):
        data = super().clean()
        township, village = data.get("township"), data.get("village")
        if township and village and self.village_parent.get(village) != township:
            self.add_error("village", "所选村（社区）不属于所选乡镇（街道），请重新选择")
        occurred_on = data.get("occurred_on")
        if occurred_on and occurred_on > timezone.localdate():
            self.add_error("occurred_on", "发生日期不能晚于今天")
        return data

    def place_code(self) -> str:
        return self.cleaned_data.get("village") or self.cleaned_data["township"]

    def build_draft(self, *, phone: str) -> CaseDraft:
        data = self.cleaned_data
        request_type = RequestType(data["request_type"])
        place = self.region_names.get(self.place_code(), "")
        occurred_at = None
        if data["occurred_on"]:
            occurred_at = timezone.make_aware(datetime.combine(data["occurred_on"], time(0, 0)))
        mode = MediationMode(data["mediation_mode"]).label
        description = f"{data['description'].strip()}\n\n【诉求】{data['requests'].strip()}\n【希望的调解方式】{mode}"
        return CaseDraft(
            channel_code="online",
            request_type=request_type,
            title=domain.make_title(place=place, other_party=data["other_name"], request_type=request_type),
            description=description,
            region_code=self.place_code(),
            address=data["address"],
            occurred_at=occurred_at,
            people_involved=data["people_involved"],
            amount_involved=data["amount_involved"],
            parties=(
                PartyDraft(role="applicant", name=data["name"].strip(), id_number=data["id_number"], phone=phone),
                PartyDraft(role="respondent", name=data["other_name"].strip(), kind=data["other_kind"],
                           phone=data["other_phone"]),
            ),
        )


class EvaluationForm(forms.Form):
    evaluation = forms.ChoiceField(
        label="您对办理结果", widget=forms.RadioSelect,
        choices=[("satisfied", "满意"), ("basically_satisfied", "基本满意"), ("dissatisfied", "不满意")],
    )
    note = forms.CharField(label="您的意见", max_length=2000, required=False,
                           help_text="选择“不满意”时必须填写原因，我们会重新办理",
                           widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if data.get("evaluation") == "dissatisfied" and not data.get("note", "").strip():
            self.add_error("note", "选择“不满意”时，请写明不满意的原因")
        return data


class MaterialForm(forms.Form):
    files = MultipleFileField(label="补充材料", help_text=f"最多 {domain.MAX_ATTACHMENTS} 个，JPG、PNG 照片或 PDF 文件")
