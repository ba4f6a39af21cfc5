"""Admin page for the return-visit rules (回访规则, 系统管理员): reference data. Evaluations and visits are business
data and are not here. Every save is audited."""

from django.contrib import admin

from yidi.audit.actions import record
from yidi.evaluation.models import ReturnVisitRule


@admin.register(ReturnVisitRule)
class ReturnVisitRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "channel_group", "handling_mode", "outcome", "offset_days", "day_unit",
                    "priority", "is_active"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(actor=request.user, action=f"evaluation.{'change' if change else 'add'}_return_visit_rule",
               object_type="return_visit_rule", object_id=str(obj.pk), fields=list(form.changed_data))
