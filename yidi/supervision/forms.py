"""Forms of the alert pages: each parses what was typed; the actions (`supervision.actions`) decide the rest."""

import re
import unicodedata

from django import forms

from yidi.accounts.models import Unit
from yidi.regions.domain import code_range
from yidi.supervision.domain import SEVERITY_LABELS


def _units_in(region: str):
    """The active units of the alert's county, by place and kind."""
    low, high = code_range(region[:6])
    return Unit.objects.filter(is_active=True, region_id__gte=low, region_id__lt=high).order_by("region_id", "kind",
                                                                                              "code")


def _severity_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(key.value, f"{label}色") for key, label in SEVERITY_LABELS.items()]


class AssessForm(forms.Form):
    note = forms.CharField(label="研判意见", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    severity = forms.ChoiceField(label="预警等级", required=False, choices=_severity_choices("维持原等级"))
    owner_unit = forms.ChoiceField(label="责任单位", required=False)

    def __init__(self, *args, region: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        units = _units_in(region)
        self.fields["owner_unit"].choices = [("", "维持原责任单位")] + [(u.code, u.name) for u in units]


class NoteForm(forms.Form):
    note = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class TaskForm(forms.Form):
    unit = forms.ChoiceField(label="承办单位")
    action = forms.CharField(label="任务内容", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(label="完成期限", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                 input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                 error_messages={"invalid": "完成期限格式不正确", "required": "请填写完成期限"})

    def __init__(self, *args, region: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        units = _units_in(region)
        self.fields["unit"].choices = [("", "请选择")] + [(u.code, u.name) for u in units]


class InstructionForm(forms.Form):
    text = forms.CharField(label="批示内容", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    case_codes = forms.MultipleChoiceField(label="同时批示到事项", required=False,
                                           widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, codes: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_codes"].choices = [(code, code) for code in codes]


CODE_SEPARATORS = re.compile(r"[\s,;、]+")  # after NFKC folding: full-width ，； are , ;
MAX_CASE_CODES = 200


def parse_case_codes(text: str) -> list[str]:
    """The matter codes in `text` (one per line, or separated by commas, spaces or 、), in order, each once;
    full-width digits and punctuation count as ASCII."""
    folded = unicodedata.normalize("NFKC", text or "")
    return list(dict.fromkeys(code for code in CODE_SEPARATORS.split(folded) if code))


class ManualAlertForm(forms.Form):
    """人工上报: the messages are the action's own (`do_raise_manual_alert`), so the page and the API say the same."""

    title = forms.CharField(label="预警标题", max_length=160,
                            error_messages={"required": "请填写预警标题", "max_length": "预警标题不能超过 160 字"})
    severity = forms.ChoiceField(label="预警等级", widget=forms.RadioSelect,
                                 choices=[(key.value, f"{label}色") for key, label in SEVERITY_LABELS.items()],
                                 error_messages={"required": "请选择预警等级（红、橙、黄）",
                                                 "invalid_choice": "请选择预警等级（红、橙、黄）"})
    reason = forms.CharField(label="预警理由", widget=forms.Textarea(attrs={"rows": 4}), max_length=2000,
                             help_text="发现的风险迹象、涉及人数、可能的后果",
                             error_messages={"required": "请填写预警理由", "max_length": "预警理由不能超过 2000 字"})
    case_codes = forms.CharField(label="关联事项编码", widget=forms.Textarea(attrs={"rows": 4}),
                                 help_text="每行一个，或用逗号、空格、顿号分隔",
                                 error_messages={"required": "请至少填写一件事项编码"})

    def clean_case_codes(self) -> list[str]:
        codes = parse_case_codes(self.cleaned_data["case_codes"])
        if not codes:
            raise forms.ValidationError("请至少填写一件事项编码")
        if len(codes) > MAX_CASE_CODES:
            raise forms.ValidationError(f"一次最多关联 {MAX_CASE_CODES} 件事项")
        return codes


class CompleteTaskForm(forms.Form):
    result = forms.CharField(label="完成情况", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
