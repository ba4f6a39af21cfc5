from django.contrib import admin

from yidi.privacy.actions import do_save_retention_rule
from yidi.privacy.models import RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """The retention periods (保管期限). Every change is audited with its values before and after; record types
    are fixed by code, so rules are edited, never added or deleted here."""

    list_display = ["record_type", "retention_years", "is_active", "updated_at"]
    fields = ["record_type", "retention_years", "basis", "is_active"]
    readonly_fields = ["record_type"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        do_save_retention_rule(obj, actor=request.user, created=not change)
