"""Form rendering for the whole site, and the sample data of the style guide page.

- `YidiFormRenderer` renders `{{ form }}` and `{{ field.as_field_group }}` with the templates in
  `yidi/core/templates/yidi/forms/`: an error summary at the top, label above each field, a required
  marker, help text, and each field's errors (Django's messages, in Chinese when LANGUAGE_CODE is zh-hans).
  Settings: `FORM_RENDERER = "yidi.core.forms.YidiFormRenderer"` and `"django.forms"` in INSTALLED_APPS
  (so that Django's own widget templates are found through the TEMPLATES setting).
- `DateInput` and `DateTimeLocalInput` give the browser's native date pickers.
- `styleguide_context()` builds the context of `core/styleguide.html` (used by tools/render_styleguide.py
  and by a style-guide view, if one is mounted).
"""

from datetime import datetime, timedelta
from types import SimpleNamespace

from django import forms
from django.core.paginator import Paginator
from django.forms.renderers import TemplatesSetting


class YidiFormRenderer(TemplatesSetting):
    form_template_name = "yidi/forms/form.html"
    field_template_name = "yidi/forms/field.html"


class DateInput(forms.DateInput):
    """`<input type="date">`; the browser sends and shows ISO dates."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    """`<input type="datetime-local">`, minutes precision; Django's DateTimeField parses the ISO value."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------------------------------------------
# Sample data for core/styleguide.html. Not used by any business page.

PARTY_ROLE_CHOICES = [
    ("applicant", "申请人"),
    ("respondent", "被申请人"),
    ("third_party", "第三人"),
    ("agent", "代理人"),
]


class StyleguideMatterForm(forms.Form):
    title = forms.CharField(label="事项标题", max_length=60, help_text="一句话概括纠纷，不超过 60 字。")
    channel = forms.ChoiceField(
        label="来源渠道",
        choices=[("", "请选择"), ("window", "窗口来访"), ("hotline", "12345 热线"), ("grid", "网格员上报")],
    )
    request_type = forms.ChoiceField(
        label="诉求类型",
        choices=[
            ("consultation", "咨询"),
            ("help", "求助"),
            ("complaint", "投诉"),
            ("mediation", "纠纷调解"),
        ],
        widget=forms.RadioSelect,
    )
    occurred_on = forms.DateField(label="发生日期", widget=DateInput)
    received_at = forms.DateTimeField(label="登记时间", widget=DateTimeLocalInput, required=False)
    amount = forms.DecimalField(label="涉及金额（元）", required=False, min_value=0)
    people_count = forms.IntegerField(label="涉及人数", min_value=1)
    address = forms.CharField(label="发生地址", required=False, help_text="写到村（社区）和门牌号。")
    description = forms.CharField(label="事项描述", widget=forms.Textarea(attrs={"rows": 4}))
    signals = forms.MultipleChoiceField(
        label="风险信号",
        required=False,
        choices=[("group", "群体性（5 人以上）"), ("extreme", "极端言行"), ("repeat", "重复来访")],
        widget=forms.CheckboxSelectMultiple,
    )
    evidence = forms.FileField(
        label="证据材料", required=False, help_text="支持 PDF、JPG、PNG，单个不超过 20 MB。"
    )
    consent = forms.BooleanField(label="当事人已知悉个人信息处理规则")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("channel") == "hotline" and not cleaned.get("received_at"):
            raise forms.ValidationError("12345 热线转来的事项须填写登记时间。")
        return cleaned


class StyleguidePartyForm(forms.Form):
    name = forms.CharField(label="姓名或名称", max_length=40)
    role = forms.ChoiceField(label="身份", choices=PARTY_ROLE_CHOICES)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)


StyleguidePartyFormSet = forms.formset_factory(StyleguidePartyForm, extra=0, can_delete=True, max_num=10)


def styleguide_context() -> dict:
    """Deterministic sample data for every component of the style guide."""
    matter_form = StyleguideMatterForm(
        data={
            "title": "邻里因排水沟堵塞发生争执",
            "channel": "hotline",
            "request_type": "mediation",
            "occurred_on": "",
            "amount": "-20",
            "people_count": "2",
            "address": "枫桥镇枫源村 3 组 18 号",
            "description": "",
            "signals": ["repeat"],
        }
    )
    matter_form.is_valid()
    parties = StyleguidePartyFormSet(
        prefix="parties",
        initial=[
            {"name": "陈某某", "role": "applicant", "phone": "138****1234"},
            {"name": "王某某", "role": "respondent", "phone": ""},
        ],
    )
    at = datetime(2026, 3, 9, 9, 12)
    events = [
        SimpleNamespace(
            at=at,
            actor_name="李娜",
            unit_name="诸暨市矛调中心窗口",
            label="登记赋码",
            reason="",
            detail="来源：窗口来访；编号 330681-2026-000123",
        ),
        SimpleNamespace(
            at=at + timedelta(minutes=26),
            actor_name="系统",
            unit_name="",
            label="自动分级分类",
            reason="",
            detail="邻里纠纷（置信度 0.91）；风险等级 黄：重复来访 2 次",
        ),
        SimpleNamespace(
            at=at + timedelta(hours=2),
            actor_name="周强",
            unit_name="诸暨市矛调中心指挥调度室",
            label="交办",
            reason="",
            detail="主办：枫桥镇综治工作平台；协办：枫源村人民调解委员会",
        ),
        SimpleNamespace(
            at=at + timedelta(days=1, hours=1),
            actor_name="赵敏",
            unit_name="枫桥镇综治工作平台",
            label="回退",
            reason="该纠纷涉及宅基地界址，应由自然资源所主办。",
            detail="",
        ),
        SimpleNamespace(
            at=at + timedelta(days=1, hours=3),
            actor_name="周强",
            unit_name="诸暨市矛调中心指挥调度室",
            label="转办",
            reason="按职责清单调整主办单位。",
            detail="主办：枫桥自然资源所",
        ),
    ]
    return {
        "matter_form": matter_form,
        "parties": parties,
        "page_obj": Paginator(range(1234), 20).page(7),
        "querystring": "status=in_progress&grade=yellow",
        "events": events,
        "no_events": [],
    }
