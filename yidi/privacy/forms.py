"""Forms of the privacy pages. The reason rule lives in `domain.clean_reason` and is applied by the action (so a
refusal is audited and its message is the same everywhere); these fields only carry the markup."""

from django import forms

from yidi.privacy.domain import REASON_MAX_LENGTH, REASON_MIN_LENGTH


class ReasonField(forms.CharField):
    """Shown as required (label mark, `required` and `minlength` for the browser); checked by the action."""

    def __init__(self, **kwargs):
        attrs = {"rows": 3, "minlength": REASON_MIN_LENGTH, "maxlength": REASON_MAX_LENGTH}
        super().__init__(required=True, widget=forms.Textarea(attrs=attrs), **kwargs)

    def validate(self, value):
        pass


class ExportRequestForm(forms.Form):
    reason = ReasonField(
        label="导出理由",
        help_text="写明用途和接收方，如“向市人民法院移送诉前调解案件当事人联系方式”。审批人会看到此理由；"
        "申请、审批和每次下载都记入审计日志。",
    )
