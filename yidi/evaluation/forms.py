"""Forms of the evaluation pages: parse input field by field (Chinese messages); the rules live in the actions."""

from django import forms

from yidi.evaluation.domain import (
    LAWSUIT_LABELS,
    PERFORMANCE_LABELS,
    SATISFACTION_LABELS,
    VISIT_METHOD_LABELS,
    Lawsuit,
    Performance,
    Satisfaction,
    VisitMethod,
)

TEXT = forms.Textarea(attrs={"rows": 3})


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class ReturnVisitForm(forms.Form):
    """回访记录: the published fields (performance, satisfaction, lawsuit, remaining risk, measures)."""

    method = forms.ChoiceField(label="回访方式", choices=_choices(VISIT_METHOD_LABELS), initial=VisitMethod.PHONE)
    performance = forms.ChoiceField(label="履行情况", choices=_choices(PERFORMANCE_LABELS),
                                    initial=Performance.NOT_APPLICABLE, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(label="满意度", choices=_choices(SATISFACTION_LABELS),
                                     initial=Satisfaction.NOT_STATED, widget=forms.RadioSelect,
                                     help_text="当事人表态满意度且本轮尚未评价的，同时登记为群众评价（回访时评价）")
    lawsuit = forms.ChoiceField(label="是否起诉、仲裁或信访", choices=_choices(LAWSUIT_LABELS), initial=Lawsuit.NONE)
    lawsuit_note = forms.CharField(label="起诉、仲裁或信访情况", required=False, max_length=300,
                                   help_text="受理机关、案号、裁判结果等")
    summary = forms.CharField(label="回访情况", max_length=2000, widget=TEXT,
                              help_text="当事人的意见和回访经过；不满意的，写明群众的具体意见")
    risk_remaining = forms.BooleanField(label="存在矛盾反复、激化或其他风险隐患", required=False)
    risk_signs = forms.CharField(label="风险迹象", required=False, max_length=2000, widget=TEXT)
    measures = forms.CharField(label="采取措施", required=False, max_length=2000, widget=TEXT)


class RiskDisposalForm(forms.Form):
    measures = forms.CharField(label="处置措施", max_length=2000, widget=TEXT)
