"""Notification templates in the admin (系统管理员): the texts sent to the person; every save is audited."""

from django.contrib import admin

from yidi.audit.actions import record
from yidi.notify.models import NotificationTemplate


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ["key", "channel", "is_active", "text", "updated_at"]
    list_filter = ["channel", "is_active"]
    fields = ["key", "channel", "text", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # switch a template off instead

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(actor=request.user, action=f"notify.{'change' if change else 'add'}_template",
               object_type="notification_template", object_id=str(obj.pk), fields=list(form.changed_data),
               data={"key": obj.key, "channel": obj.channel})
