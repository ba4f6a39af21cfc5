from django.conf import settings
from django.db import models

from yidi.regions.domain import REGION_LEVEL_LABELS, RegionLevel, code_range


class RegionQuerySet(models.QuerySet):
    def within(self, prefix: str) -> "RegionQuerySet":
        low, high = code_range(prefix)
        return self.filter(code__gte=low, code__lt=high)


class Region(models.Model):
    """A node of the administrative tree, keyed by its national statistical code; grids hang under villages."""

    code = models.CharField("区划代码", max_length=15, primary_key=True)
    name = models.CharField("名称", max_length=60)
    short_name = models.CharField("简称", max_length=60)
    level = models.CharField(
        "层级", max_length=10, choices=[(level.value, REGION_LEVEL_LABELS[level]) for level in RegionLevel]
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级"
    )
    population = models.PositiveIntegerField("常住人口", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="region_children")]  # tree navigation

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return REGION_LEVEL_LABELS[RegionLevel(self.level)]


class RegionMap(models.Model):
    """A county's township boundaries (GeoJSON uploaded by a system admin) for the dashboards' map.

    One per county: a new upload replaces the old one. Only maps whose features match the county's townships
    one to one are stored (`yidi.regions.domain.match_township_map`); without one the dashboards draw a schematic.
    """

    county = models.OneToOneField(
        Region, on_delete=models.PROTECT, related_name="township_map", verbose_name="县（市、区）",
        limit_choices_to={"level": "county"},
    )
    file_name = models.CharField("文件名", max_length=200)
    geojson = models.JSONField("乡镇边界（GeoJSON）")
    mapping = models.JSONField("要素名称与区划对应", help_text="{要素名称: 乡镇区划代码}")
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = "乡镇地图"
        verbose_name_plural = "乡镇地图"
        ordering = ["county_id"]

    def __str__(self) -> str:
        return f"{self.county_id} {self.file_name}"
