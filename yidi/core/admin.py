from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from yidi.core import worktime
from yidi.core.models import (
    DeadlinePolicyRecord,
    EscalationRuleRecord,
    LabelMapping,
    Taxonomy,
    TaxonomyLabel,
    WorkCalendarDay,
)


class TaxonomyLabelInline(admin.TabularInline):
    model = TaxonomyLabel
    extra = 0
    fields = ["code", "name", "position", "is_active"]


@admin.register(Taxonomy)
class TaxonomyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "version", "is_active"]
    inlines = [TaxonomyLabelInline]


@admin.register(LabelMapping)
class LabelMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "target"]
    list_select_related = ["source__taxonomy", "target__taxonomy"]
    list_filter = ["source__taxonomy", "target__taxonomy"]


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    """The working calendar. Publish next year's holidays here when the State Council announces them."""

    list_display = ["day", "kind", "name", "unit_code", "source"]
    list_filter = ["kind", ("unit_code", admin.EmptyFieldListFilter)]
    search_fields = ["name", "unit_code"]
    date_hierarchy = "day"

    def changelist_view(self, request, extra_context=None):
        warning = worktime.coverage_warning(timezone.localdate())
        if warning:
            messages.warning(request, warning)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        worktime.clear_cache()


class DeadlinePolicyForm(forms.ModelForm):
    class Meta:
        model = DeadlinePolicyRecord
        fields = ["code", "name", "channel_group", "request_type", "level", "dispute_type", "stages", "diversion",
                  "basis", "is_active"]

    def clean(self):
        data = super().clean()
        candidate = DeadlinePolicyRecord(**{k: v for k, v in data.items() if k in {
            "code", "name", "channel_group", "request_type", "level", "dispute_type", "stages", "diversion", "basis",
            "is_active"}})
        try:
            worktime.policy_record_to_domain(candidate)
        except (KeyError, TypeError, ValueError) as error:
            raise forms.ValidationError(f"时限规则有误：{error}") from None
        return data


@admin.register(DeadlinePolicyRecord)
class DeadlinePolicyAdmin(admin.ModelAdmin):
    form = DeadlinePolicyForm
    list_display = ["code", "name", "channel_group", "request_type", "level", "dispute_type", "is_active"]
    list_filter = ["is_active"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        worktime.clear_cache()


@admin.register(EscalationRuleRecord)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "state", "effect", "stage", "min_overdue_days", "is_active"]
    list_filter = ["effect", "is_active"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        worktime.clear_cache()
