from django.contrib import admin

from yidi.regions.models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "level", "parent", "population", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]
