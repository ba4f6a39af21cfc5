from django.contrib import admin

from yidi.cases.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "position", "is_active"]
    list_editable = ["position", "is_active"]
