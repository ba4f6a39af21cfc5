from django.contrib import admin

from yidi.supervision.models import DetectionRule, SpringFestival


@admin.register(DetectionRule)
class DetectionRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "is_active", "baseline_periods", "window_days", "min_count", "p_value", "orange_at",
                    "red_at", "dispute_type_code"]
    list_editable = ["is_active"]


@admin.register(SpringFestival)
class SpringFestivalAdmin(admin.ModelAdmin):
    list_display = ["year", "festival_on"]
