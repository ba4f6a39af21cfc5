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
