"""Webhook subscriptions in the admin (系统管理员). The signing secret is write-only: typed when the subscription
is created or replaced, never displayed. Deliveries and their final failures (重新发送) are in the outbox admin."""

from django import forms
from django.contrib import admin

from yidi.audit.actions import record
from yidi.webhooks.domain import EVENT_TYPE_LABELS
from yidi.webhooks.models import WebhookSubscription

MIN_SECRET_LENGTH = 16


class WriteOnlySecretForm(forms.ModelForm):
    """A signing secret typed once and never shown again: required on creation, kept when left empty later.
    Shared by the webhook subscriptions and the courts of the court exchange (`yidi.court.admin`)."""

    new_secret = forms.CharField(
        label="签名密钥", required=False, strip=True, widget=forms.PasswordInput(render_value=False),
        help_text=f"至少 {MIN_SECRET_LENGTH} 个字符，保存后不再显示；修改时留空则保持原密钥",
    )

    def clean_new_secret(self) -> str:
        secret = self.cleaned_data["new_secret"]
        if not secret and not self.instance.pk:
            raise forms.ValidationError("请设置签名密钥")
        if secret and len(secret) < MIN_SECRET_LENGTH:
            raise forms.ValidationError(f"签名密钥至少 {MIN_SECRET_LENGTH} 个字符")
        return secret


class WebhookSubscriptionForm(WriteOnlySecretForm):
    event_types = forms.MultipleChoiceField(
        label="事件类型", choices=[(key.value, f"{label}（{key.value}）") for key, label in EVENT_TYPE_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "region_scope", "is_active"]

    def save(self, commit=True):
        if self.cleaned_data.get("new_secret"):
            self.instance.secret = self.cleaned_data["new_secret"]
        return super().save(commit)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "region_scope", "event_type_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["name", "url", "new_secret", "event_types", "region_scope", "is_active"]

    @admin.display(description="事件类型")
    def event_type_list(self, obj: WebhookSubscription) -> str:
        return "、".join(EVENT_TYPE_LABELS.get(value, value) for value in obj.event_types)

    def has_delete_permission(self, request, obj=None):
        return False  # switch a subscription off instead: its messages in the outbox keep their meaning

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fields = [name for name in form.changed_data if name != "new_secret"]
        if form.cleaned_data.get("new_secret"):
            fields.append("secret")  # recorded as changed, the value never
        record(actor=request.user, action=f"webhooks.{'change' if change else 'add'}_subscription",
               object_type="webhook_subscription", object_id=str(obj.pk), fields=fields,
               data={"name": obj.name, "region_scope": obj.region_scope, "event_types": obj.event_types})
