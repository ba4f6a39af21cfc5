from django import forms
from django.contrib import admin
from django.utils.html import format_html_join

from yidi.regions import actions
from yidi.regions.domain import MapRejected, RegionLevel, match_township_map
from yidi.regions.models import Region, RegionMap


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "level", "parent", "population", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name", "short_name"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


class RegionMapUploadForm(forms.ModelForm):
    """Upload a county's township boundaries; the file is checked against the county's townships before saving."""

    county_code = forms.ModelChoiceField(
        Region.objects.filter(level=RegionLevel.COUNTY, is_active=True), label="县（市、区）", to_field_name="code",
    )
    upload = forms.FileField(
        label="GeoJSON 文件",
        help_text="乡镇（街道）边界的 GeoJSON FeatureCollection；每个要素的 properties.name 须为本县一个乡镇（街道）"
                  "的名称，且全部乡镇（街道）都要有。重新上传会替换原地图。",
    )

    class Meta:
        model = RegionMap
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        county, upload = cleaned.get("county_code"), cleaned.get("upload")
        if county is None or upload is None:
            return cleaned
        content = upload.read(actions.map_max_bytes() + 1)
        townships = list(
            Region.objects.filter(parent_id=county.code, level=RegionLevel.TOWNSHIP, is_active=True)
            .order_by("code").values_list("code", "name", "short_name")
        )
        if not townships:
            raise forms.ValidationError(f"{county.name}尚未导入乡镇（街道）区划，无法核对地图")
        try:
            match_township_map(content, townships, max_bytes=actions.map_max_bytes())
        except MapRejected as refusal:
            self.add_error("upload", str(refusal))
        cleaned["content"] = content
        return cleaned


@admin.register(RegionMap)
class RegionMapAdmin(admin.ModelAdmin):
    list_display = ["county", "file_name", "feature_count", "size", "uploaded_by", "uploaded_at"]
    list_select_related = ["county", "uploaded_by"]
    readonly_fields = ["county", "file_name", "feature_count", "matched", "size", "sha256", "uploaded_by", "uploaded_at"]
    exclude = ["geojson", "mapping"]

    @admin.display(description="要素数")
    def feature_count(self, obj: RegionMap) -> int:
        return len(obj.mapping or {})

    @admin.display(description="名称对应")
    def matched(self, obj: RegionMap):
        return format_html_join("", "<div>{} → {}</div>", sorted((name, code) for name, code in obj.mapping.items()))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RegionMapUploadForm
            kwargs["fields"] = ["county_code", "upload"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["county_code", "upload"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # a stored map is read-only; upload again to replace it
        saved = actions.do_upload_region_map(
            form.cleaned_data["county_code"].code, file_name=form.cleaned_data["upload"].name,
            content=form.cleaned_data["content"], actor=request.user,
        )
        obj.pk, obj.county_id, obj.file_name = saved.pk, saved.county_id, saved.file_name

    def delete_model(self, request, obj):
        actions.do_delete_region_map(obj.county_id, actor=request.user)

    def delete_queryset(self, request, queryset):
        for county_code in list(queryset.values_list("county_id", flat=True)):
            actions.do_delete_region_map(county_code, actor=request.user)
