from django.db import models


class Taxonomy(models.Model):
    """A versioned classification code list (人民调解 types, 12345 categories, …)."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    version = models.CharField("版本", max_length=20)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "分类体系"
        verbose_name_plural = "分类体系"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.version}）"


class TaxonomyLabel(models.Model):
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="labels", verbose_name="分类体系")
    code = models.SlugField("代码", max_length=40)
    name = models.CharField("名称", max_length=60)
    position = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "分类标签"
        verbose_name_plural = "分类标签"
        ordering = ["taxonomy_id", "position"]
        constraints = [models.UniqueConstraint(fields=["taxonomy", "code"], name="label_code_unique_in_taxonomy")]

    def __str__(self) -> str:
        return self.name


class LabelMapping(models.Model):
    """The mapping table between parallel code lists: a label in one list suggests a label in another."""

    source = models.ForeignKey(TaxonomyLabel, on_delete=models.CASCADE, related_name="+", verbose_name="源标签")
    target = models.ForeignKey(TaxonomyLabel, on_delete=models.CASCADE, related_name="+", verbose_name="对应标签")

    class Meta:
        verbose_name = "分类对照"
        verbose_name_plural = "分类对照"
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="label_mapping_unique")]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class CodeSequence(models.Model):
    """The last number handed out for one code prefix and year (一案一码), incremented under a row lock."""

    prefix = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="code_sequence_unique")]
