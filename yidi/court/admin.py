"""The courts of the exchange in the admin (系统管理员): endpoint, signing secret (write-only: typed when the court
is added or the secret replaced, never displayed), the court system's API client, active. Messages to courts and
their final failures (重新发送) are in the outbox admin; messages from courts are listed read-only here."""

from django import forms
from django.contrib import admin

from yidi.cases.domain import InvalidInput
from yidi.court import actions
from yidi.court.models import Court, CourtMessage
from yidi.webhooks.admin import MIN_SECRET_LENGTH, WriteOnlySecretForm


class CourtForm(WriteOnlySecretForm):
    new_secret = forms.CharField(
        label="签名密钥", required=False, strip=True, widget=forms.PasswordInput(render_value=False),
        help_text=f"双方共用，至少 {MIN_SECRET_LENGTH} 个字符，保存后不再显示；修改时留空则保持原密钥",
    )

    class Meta:
        model = Court
        fields = ["name", "code", "endpoint_url", "api_client", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("new_secret"):
            self.instance.secret = self.cleaned_data["new_secret"]
        self.instance.api_client = cleaned.get("api_client")
        problem = actions.check_client(self.instance)
        if problem:
            self.add_error("api_client", problem)
        return cleaned


@admin.register(Court)
class CourtAdmin(admin.ModelAdmin):
    form = CourtForm
    list_display = ["name", "code", "endpoint_url", "api_client", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["name", "code", "endpoint_url", "new_secret", "api_client", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # switch a court off instead: its messages keep their meaning

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if name != "new_secret"]
        if form.cleaned_data.get("new_secret"):
            fields.append("secret")  # recorded as changed, the value never
        try:
            actions.do_save_court(obj, actor=request.user, fields=fields, created=not change)
        except InvalidInput as error:  # checked in the form already; a race is reported, not a 500
            self.message_user(request, str(error), level="error")


@admin.register(CourtMessage)
class CourtMessageAdmin(admin.ModelAdmin):
    """Messages from courts: what arrived and whether it was recorded (no business content shown)."""

    list_display = ["received_at", "court", "type", "message_id", "court_case_number", "state", "applied_at"]
    list_filter = ["type", "state", "court"]
    search_fields = ["message_id", "court_case_number"]
    fields = readonly_fields = ["court", "type", "message_id", "court_case_number", "in_reply_to", "state",
                                "received_at", "applied_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
