"""联动平台 in the admin (系统管理员): the platforms above and below, their addresses and tokens (never shown)."""

from django import forms
from django.contrib import admin

from yidi.linkage.models import Peer


class PeerForm(forms.ModelForm):
    new_token = forms.CharField(label="出站令牌", required=False, widget=forms.PasswordInput(render_value=False),
                                help_text="对方平台为本平台开设的接口令牌；留空则保持不变")

    class Meta:
        model = Peer
        fields = ["name", "direction", "region_code", "region_name", "base_url", "api_client", "is_active"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_token"):
            self.add_error("new_token", "请填写对方平台开设的接口令牌")
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("new_token"):
            self.instance.token = self.cleaned_data["new_token"].strip()
        return super().save(commit=commit)


@admin.register(Peer)
class PeerAdmin(admin.ModelAdmin):
    form = PeerForm
    list_display = ["name", "direction", "region_code", "base_url", "api_client", "is_active", "last_contact_at"]
    list_filter = ["direction", "is_active"]
    search_fields = ["name", "region_code"]
    readonly_fields = ["last_contact_at", "created_at"]
