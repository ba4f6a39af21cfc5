from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "导入中"
    FINISHED = "finished", "已完成"
    FAILED = "failed", "文件有误，未导入"


def _source_path(run, filename: str) -> str:
    return f"hotline/imports/{run.started_at:%Y/%m}/{run.sha256[:16]}-{filename.rsplit('/', 1)[-1]}"


def _rejects_path(run, filename: str) -> str:
    return f"hotline/rejects/{run.started_at:%Y/%m}/{run.pk}-{filename.rsplit('/', 1)[-1]}"


class ImportRun(models.Model):
    """One import of a 12345 export (command line or page), with its counts as they grow."""

    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    source_file = models.FileField("上传文件", upload_to=_source_path, max_length=300, blank=True)
    rejects_file = models.FileField("未导入行清单", upload_to=_rejects_path, max_length=300, blank=True)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+", verbose_name="导入单位")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="导入人")
    status = models.CharField("状态", max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    error = models.TextField("文件错误", blank=True)
    total = models.PositiveIntegerField("数据行", default=0)
    done = models.PositiveIntegerField("已处理", default=0)
    imported = models.PositiveIntegerField("已导入", default=0)
    skipped = models.PositiveIntegerField("已导入过（跳过）", default=0)
    rejected = models.PositiveIntegerField("未导入", default=0)
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "12345工单导入"
        verbose_name_plural = "12345工单导入"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        return 100 if self.status == ImportStatus.FINISHED else (self.done * 100 // self.total if self.total else 0)

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportedTicket(models.Model):
    """A 12345 ticket registered as a matter: the unique ticket number makes a second import of it a no-op, even
    when two imports of the same file run at once (the second insert fails on the constraint and is skipped)."""

    ticket_number = models.CharField("工单编号", max_length=60)
    run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="tickets")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, related_name="+")
    called_at = models.DateTimeField("来电时间", null=True, blank=True)
    handling_unit = models.CharField("12345承办单位", max_length=100, blank=True)
    row_number = models.PositiveIntegerField("行号")

    class Meta:
        verbose_name = "已导入的12345工单"
        verbose_name_plural = "已导入的12345工单"
        constraints = [models.UniqueConstraint(fields=["ticket_number"], name="imported_ticket_unique")]
