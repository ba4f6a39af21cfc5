"""Admin for the assessment scheme (weights, deductions) and the population per region and year.

Every save and delete is audited in the same transaction (`analytics.save_*` / `analytics.delete_*`).
"""

from django.contrib import admin
from django.db import transaction

from yidi.analytics.models import AssessmentDeduction, AssessmentScheme, AssessmentWeight, RegionPopulation
from yidi.audit.actions import record


class AuditedAdmin(admin.ModelAdmin):
    audit_name = ""

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record(actor=request.user, action=f"analytics.save_{self.audit_name}", object_type=self.audit_name,
                   object_id=obj.pk, fields=list(form.changed_data))

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            if formset.has_changed():
                record(actor=request.user, action=f"analytics.save_{formset.model._meta.model_name}",
                       object_type=self.audit_name, object_id=form.instance.pk)

    def delete_model(self, request, obj):
        with transaction.atomic():
            pk = obj.pk
            super().delete_model(request, obj)
            record(actor=request.user, action=f"analytics.delete_{self.audit_name}", object_type=self.audit_name,
                   object_id=pk)


class WeightInline(admin.TabularInline):
    model = AssessmentWeight
    extra = 0
    fields = ["kpi_code", "points", "position"]


class DeductionInline(admin.TabularInline):
    model = AssessmentDeduction
    extra = 0
    fields = ["kind", "points_per_item", "cap"]


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(AuditedAdmin):
    audit_name = "assessment_scheme"
    list_display = ["code", "name", "minimum_volume", "is_active", "updated_at"]
    inlines = [WeightInline, DeductionInline]


@admin.register(RegionPopulation)
class RegionPopulationAdmin(AuditedAdmin):
    audit_name = "region_population"
    list_display = ["region", "year", "resident_population", "is_estimate", "source"]
    list_filter = ["year", "is_estimate"]
    search_fields = ["region__code", "region__name"]
    autocomplete_fields = []
    raw_id_fields = ["region"]
