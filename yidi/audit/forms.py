from django import forms

from yidi.audit.models import AuditOutcome
from yidi.audit.queries import EventFilters
from yidi.core.forms import DateInput


class EventSearchForm(forms.Form):
    actor = forms.CharField(label="账号", required=False, max_length=150)
    action = forms.CharField(label="操作", required=False, max_length=60, help_text="按开头匹配，如 case.")
    object_type = forms.CharField(label="对象类型", required=False, max_length=40)
    object_id = forms.CharField(label="对象标识", required=False, max_length=40)
    outcome = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *AuditOutcome.choices])
    date_from = forms.DateField(label="起始日期", required=False, widget=DateInput)
    date_to = forms.DateField(label="截止日期", required=False, widget=DateInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "截止日期不能早于起始日期")
        return data

    def filters(self) -> EventFilters:
        return EventFilters(**{name: value for name, value in self.cleaned_data.items() if value not in ("", None)})
