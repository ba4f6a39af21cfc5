from django.contrib import admin

from yidi.core.models import LabelMapping, Taxonomy, TaxonomyLabel


class TaxonomyLabelInline(admin.TabularInline):
    model = TaxonomyLabel
    extra = 0
    fields = ["code", "name", "position", "is_active"]


@admin.register(Taxonomy)
class TaxonomyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "version", "is_active"]
    inlines = [TaxonomyLabelInline]


@admin.register(LabelMapping)
class LabelMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "target"]
    list_select_related = ["source__taxonomy", "target__taxonomy"]
    list_filter = ["source__taxonomy", "target__taxonomy"]
