"""The outbox in the admin (系统管理员): status, attempts and errors of every outbound message, destinations
masked, contents not shown (business data stays out of the admin); failed messages can be sent again."""

from django.contrib import admin, messages

from yidi.integrations import actions
from yidi.integrations.models import OutboxAttempt, OutboxMessage


class OutboxAttemptInline(admin.TabularInline):
    model = OutboxAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "ok", "error", "duration_ms"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "masked_destination", "subject_type", "subject_id", "template", "status",
                    "attempts", "next_attempt_at", "short_error", "sent_at"]
    list_filter = ["status", "kind", "template"]
    search_fields = ["subject_id", "idempotency_key"]
    ordering = ["-created_at", "-id"]
    fields = readonly_fields = ["kind", "masked_destination", "subject_type", "subject_id", "template",
                                "idempotency_key", "status", "attempts", "next_attempt_at", "last_error",
                                "created_at", "sent_at"]
    inlines = [OutboxAttemptInline]
    actions = ["retry_failed"]

    @admin.display(description="收件地址")
    def masked_destination(self, obj: OutboxMessage) -> str:
        return obj.masked_destination

    @admin.display(description="最近错误")
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:60]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="重新发送", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = actions.do_retry_messages(list(queryset.values_list("pk", flat=True)), actor=request.user)
        if count:
            messages.success(request, f"已将 {count} 条发送失败的消息重新放入发件箱")
        else:
            messages.warning(request, "所选消息中没有发送失败的消息")
