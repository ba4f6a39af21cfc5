"""Backing up and restoring a yidi instance: the database, the files under DATA_DIR that matter, and a manifest
to check the restore against (docs/backup.md).

Settings (all optional):
- `YIDI_BACKUP_DIR`: where `backup` writes archives (default `DATA_DIR / "backups"`, left out of the archive).
- `YIDI_BACKUP_PG_BIN_DIR`: the folder of pg_dump, pg_restore and psql when the ones on PATH are of another major
  version than the server (e.g. `/usr/lib/postgresql/16/bin`).

Never in an archive: SECRET_KEY, the field-encryption keys, the audit key, or any file named by a `YIDI_*_FILE`
variable (a key file kept under DATA_DIR). The manifest holds only their public identifiers (field key ids, the
audit key's `key_id` fingerprint) and one value encrypted under the active field key, so that a restore can tell,
before it changes anything, whether the configured keys are the backup's.
"""

import contextlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.conf import settings
from django.db import models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models.functions import Cast
from django.utils import timezone

from yidi.audit import actions as audit
from yidi.audit.domain import VerifyResult
from yidi.audit.models import AuditOutcome
from yidi.backup import archive, domain
from yidi.backup.databases import Facts, for_connection
from yidi.backup.domain import BackupError
from yidi.core import clock
from yidi.core.crypto import CryptoError, get_field_cipher
from yidi.core.personal import list_personal_data_fields

logger = logging.getLogger("yidi.backup")

DISPLACED_PREFIX = "restore-displaced-"
STAGING_PREFIX = ".restoring-"
DECRYPT_SAMPLE = 10  # values per column from each end of the table (by primary key)


# --- places ------------------------------------------------------------------------------------------


def backup_dir() -> Path:
    configured = getattr(settings, "YIDI_BACKUP_DIR", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "backups"


def _key_files() -> list[Path]:
    """Files named by `YIDI_*_FILE` variables (secrets read from files): never copied, wherever they are."""
    return [Path(value) for key, value in os.environ.items() if key.startswith("YIDI_") and key.endswith("_FILE")
            and value]


def file_roots(*, output_dir: Path | None = None) -> dict[str, tuple[Path, list[Path]]]:
    """root name → (folder on this machine, paths left out). `data` is DATA_DIR without the database files,
    collected static files (rebuilt by `collectstatic`), the media and checkpoint folders (their own roots),
    backups, earlier restores' displaced data, and key files."""
    data = Path(settings.DATA_DIR)
    media, checkpoints = Path(settings.MEDIA_ROOT), audit.checkpoint_dir()
    excluded = [media, checkpoints, Path(settings.STATIC_ROOT), backup_dir(), *_key_files()]
    if output_dir is not None:
        excluded.append(output_dir)
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(database["NAME"])
        excluded += [name, *(name.with_name(name.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]
    if data.is_dir():
        excluded += [path for path in data.iterdir() if path.name.startswith((DISPLACED_PREFIX, STAGING_PREFIX))]
    return {
        domain.CHECKPOINT_ROOT: (checkpoints, _key_files()),
        "media": (media, [checkpoints, *_key_files()]),
        "data": (data, excluded),
    }


# --- backup ------------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int
    seconds: float
    deleted: list[str] = field(default_factory=list)


def do_create_backup(*, output_dir: Path | None = None, keep: int | None = None, actor=None) -> BackupResult:
    """Write one archive of the database and files into `output_dir` (default `backup_dir()`), then record it.

    - The archive is written under a hidden `.partial` name and renamed only once complete and synced: an
      archive with its final name is always whole. On any failure the partial files are removed.
    - The database is snapshotted after the checkpoint files and before the other files (`domain.ROOTS`).
    - `keep`: afterwards delete all but the newest `keep` archives in the folder.
    - One audit row (`backup.create`), also when the backup fails (if the database can take it).
    """
    started = time.monotonic()
    folder = (output_dir or backup_dir()).resolve()
    created_at = clock.now()
    name = domain.archive_name(timezone.localtime(created_at))
    final, partial, work = folder / name, folder / f".{name}.partial", folder / f".{name}.work"
    writer = None
    try:
        _prepare_output(folder, final)
        database = for_connection()
        work.mkdir()
        writer = archive.ArchiveWriter(partial)
        roots = file_roots(output_dir=folder)
        _add_root(writer, domain.CHECKPOINT_ROOT, *roots[domain.CHECKPOINT_ROOT])
        dump = work / "database"
        facts = database.dump(dump)
        writer.add_file(dump, domain.DATABASE_MEMBERS[database.vendor])
        dump.unlink()
        for root in domain.ROOTS[1:]:
            _add_root(writer, root, *roots[root])
        manifest = _manifest(created_at, database, facts, roots, writer.entries)
        writer.add_bytes(json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"), domain.MANIFEST)
        writer.close()
        writer = None
        os.replace(partial, final)
        _sync_folder(folder)
    except BaseException as error:
        if writer is not None:
            writer.abandon()
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        failure = _as_backup_error(error, folder) if isinstance(error, Exception) else None
        _record_failure("backup.create", name, failure or error, actor=actor)
        if failure is not None and failure is not error:
            raise failure from error
        raise
    shutil.rmtree(work, ignore_errors=True)
    deleted = _apply_retention(folder, keep) if keep else []
    size = final.stat().st_size
    with transaction.atomic():
        audit.record(actor=actor, action="backup.create", object_type="backup", object_id=name, data={
            "path": str(final), "size": size, "files": len(manifest["files"]), "vendor": manifest["database"]["vendor"],
            "rows": sum(manifest["row_counts"].values()), "deleted": deleted,
        })
    logger.info("backup written: %s (%s bytes)", final, size)
    return BackupResult(final, manifest, size, time.monotonic() - started, deleted)


def _prepare_output(folder: Path, final: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"无法创建备份目录 {folder}：{error.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BackupError(f"无权写入备份目录 {folder}")
    if final.exists():
        raise BackupError(f"同名备份已存在：{final}（请稍后再试）")


def _add_root(writer: archive.ArchiveWriter, root: str, folder: Path, excluded: list[Path]) -> None:
    for path, relative in archive.list_files(folder, excluded=excluded):
        try:
            writer.add_file(path, f"{domain.FILES_PREFIX}{root}/{relative}")
        except FileNotFoundError:  # deleted since it was listed (a temporary file): nothing to keep
            continue


def _as_backup_error(error: Exception, folder: Path) -> BackupError:
    if isinstance(error, BackupError):
        return error
    if isinstance(error, OSError) and error.errno == 28:  # ENOSPC
        return BackupError(f"磁盘空间不足，备份未完成（已删除未写完的文件）：{folder}")
    if isinstance(error, PermissionError):
        return BackupError(f"无权限读写文件，备份未完成：{error.filename}")
    if isinstance(error, OSError):
        return BackupError(f"读写文件出错，备份未完成：{error.strerror}（{error.filename or folder}）")
    return error  # a programming error: shown as is


def _record_failure(action: str, object_id: str, error, *, actor) -> None:
    """Audit a failed backup or restore when the database can still take a row; never hides the failure."""
    try:
        with transaction.atomic():
            audit.record(actor=actor, action=action, object_type="backup", object_id=object_id,
                         outcome=AuditOutcome.FAILED, reason=str(error)[:500])
    except Exception:  # the database may be what failed
        logger.exception("could not audit the failed %s", action)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _manifest(created_at, database, facts: Facts, roots, entries: dict[str, dict]) -> dict:
    cipher = get_field_cipher()
    return {
        "format": domain.FORMAT,
        "format_version": domain.FORMAT_VERSION,
        "created_at": created_at.isoformat(),
        "yidi_version": _yidi_version(),
        "django_version": django.get_version(),
        "database": database.describe(),
        "migrations": facts.migrations,
        "row_counts": facts.row_counts,
        "audit": {"heads": facts.audit_heads, "key_ids": facts.audit_key_ids,
                  "current_key_id": audit.current_key().key_id},
        "field_encryption": {
            "provider": cipher.provider, "active_key_id": cipher.keys.active_key_id(),
            "key_check": cipher.encrypt(domain.KEY_CHECK_TEXT, context=domain.KEY_CHECK_CONTEXT),
        },
        "roots": {root: str(folder) for root, (folder, _) in roots.items()},
        "not_included": ["SECRET_KEY", "YIDI_FIELD_KEYS", "YIDI_AUDIT_KEY", "YIDI_PERSONAL_DATA_HASH_KEY",
                         "static files (collectstatic)"],
        "files": entries,
    }


def _yidi_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("yidi")
    except PackageNotFoundError:
        return "unknown"


def _apply_retention(folder: Path, keep: int) -> list[str]:
    doomed = domain.archives_to_delete([path.name for path in folder.iterdir()], keep=keep)
    for name in doomed:
        (folder / name).unlink(missing_ok=True)
    return doomed


# --- restore -----------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    manifest: dict
    vendor: str
    tables: int = 0
    rows: int = 0
    files: int = 0
    file_references: int = 0
    audit: VerifyResult | None = None
    decrypted: dict[str, tuple[int, int]] = field(default_factory=dict)  # column → (checked, failed)
    pending_migrations: dict[str, list[str]] = field(default_factory=dict)
    displaced: Path | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def do_restore_backup(path: Path, *, force: bool = False, actor=None) -> RestoreReport:
    """Restore an archive into the configured database and folders, then verify the result.

    Refuses, changing nothing (`BackupError`):
    - an archive whose members do not match the manifest's checksums (naming the first bad file);
    - a backup of another database vendor, or from a newer yidi (migrations this code does not know);
    - keys that do not match the backup (the field-key check value does not decrypt, or an audit key is missing);
    - a database with tables or folders with files, unless `force`: then they are first kept in
      `DATA_DIR/restore-displaced-<time>/` (nothing is deleted).
    Then checks row counts and chain heads against the manifest, verifies the audit chain, decrypts a sample of
    every personal-data column and checks that every stored file a row names is there. Problems are listed in
    the report (`ok` is False). One audit row (`backup.restore`) is added after the checks.
    """
    started = time.monotonic()
    path = Path(path).resolve()
    manifest = archive.verify_archive(path)
    database = for_connection()
    report = RestoreReport(manifest=manifest, vendor=database.vendor)
    _check_compatible(manifest, database.vendor, report)
    _check_keys(manifest)
    roots = file_roots()
    occupied = _occupied(database, roots)
    if occupied and not force:
        raise BackupError(f"目标不是空的：{'；'.join(occupied)}。恢复会覆盖它们；确需覆盖请加 --force"
                          f"（覆盖前的数据库与文件会先另存到 {Path(settings.DATA_DIR) / (DISPLACED_PREFIX + '<时间>')}）")
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M%S")
    data_dir = Path(settings.DATA_DIR)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = data_dir / f"{STAGING_PREFIX}{stamp}"
    try:
        if occupied:
            report.displaced = data_dir / f"{DISPLACED_PREFIX}{stamp}"
            report.displaced.mkdir()
            if database.table_count():
                database.preserve(report.displaced)
        targets, placements = _plan_extraction(manifest, staging, roots)
        archive.extract(path, manifest, targets)
        database.restore(staging / "database")  # all or nothing; the files are touched only after it
        if report.displaced is not None:
            _displace_files(roots, report.displaced / "files")
        report.files = _place_files(placements)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _verify(report, database)
    report.seconds = time.monotonic() - started
    with transaction.atomic():
        audit.record(actor=actor, action="backup.restore", object_type="backup", object_id=path.name,
                     outcome=AuditOutcome.SUCCESS if report.ok else AuditOutcome.FAILED,
                     reason="；".join(report.problems)[:1000],
                     data={"created_at": manifest["created_at"], "tables": report.tables, "rows": report.rows,
                           "files": report.files, "displaced": str(report.displaced or "")})
    return report


def _check_compatible(manifest: dict, vendor: str, report: RestoreReport) -> None:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    backed_up = manifest["database"]["vendor"]
    if backed_up != vendor:
        raise BackupError(f"备份来自 {names[backed_up]} 数据库，当前配置的是 {names.get(vendor, vendor)}："
                          f"请配置同类数据库（DATABASE_URL）后再恢复")
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known: dict[str, set[str]] = {}
    for app, name in loader.disk_migrations:
        known.setdefault(app, set()).add(name)
    gap = domain.migration_gap(manifest["migrations"], known)
    if gap.unknown:
        app, names = next(iter(sorted(gap.unknown.items())))
        raise BackupError(f"备份来自更新版本的一地（{manifest['yidi_version']}）：本程序不认识迁移 {app}.{names[0]}"
                          f" 等；请先把程序升级到与备份相同或更新的版本，再恢复")
    report.pending_migrations = gap.pending


def _check_keys(manifest: dict) -> None:
    """The configured keys must be the backup's: the field-key check value decrypts, and every audit key that
    sealed a row in the backup is configured (current or retired)."""
    fields = manifest["field_encryption"]
    try:
        clear = get_field_cipher().decrypt(fields["key_check"], context=domain.KEY_CHECK_CONTEXT)
    except CryptoError:
        clear = None
    if clear != domain.KEY_CHECK_TEXT:
        raise BackupError(
            f"个人信息加密密钥与备份不一致：备份时启用的密钥为 {fields['active_key_id']}（{fields['provider']}），"
            f"当前配置的密钥无法解密备份中的校验值。请配置备份时的 YIDI_FIELD_KEYS（开发密钥由 SECRET_KEY 派生）后再恢复；"
            f"未作任何改动"
        )
    missing = sorted(set(manifest["audit"]["key_ids"]) - set(audit.audit_keys()))
    if missing:
        raise BackupError(
            f"审计密钥与备份不一致：备份中的审计记录由密钥 {'、'.join(missing)} 签封，当前配置中没有此密钥。"
            f"请配置备份时的 YIDI_AUDIT_KEY（或 SECRET_KEY），以前的密钥放入 YIDI_AUDIT_RETIRED_KEYS；未作任何改动"
        )


def _occupied(database, roots) -> list[str]:
    """What a restore would overwrite: a database with tables, folders with files."""
    found = []
    tables = database.table_count()
    if tables:
        found.append(f"数据库已有 {tables} 张表")
    for root, (folder, excluded) in roots.items():
        files = archive.list_files(folder, excluded=excluded)
        if files:
            found.append(f"{folder} 已有 {len(files)} 个文件（{root}）")
    return found


def _plan_extraction(manifest: dict, staging: Path, roots) -> tuple[dict[str, Path], list[tuple[Path, Path]]]:
    """Where each member is extracted (under `staging`), and (staged folder, final folder) per root."""
    vendor = manifest["database"]["vendor"]
    targets = {domain.DATABASE_MEMBERS[vendor]: staging / "database"}
    placements = []
    for name in manifest["files"]:
        located = domain.member_root(name)
        if located is not None:
            root, relative = located
            targets[name] = staging / "files" / root / relative
    for root, (folder, _) in roots.items():
        placements.append((staging / "files" / root, folder))
    return targets, placements


def _displace_files(roots, displaced: Path) -> None:
    """Move what each root holds (but not what it leaves out) into `displaced/<root>/`, entry by entry."""
    for root, (folder, excluded) in roots.items():
        if not folder.is_dir():
            continue
        skip = {path.resolve() for path in excluded}
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith((DISPLACED_PREFIX, STAGING_PREFIX)):
                continue
            resolved = entry.resolve()
            if resolved in skip or any(resolved in path.parents for path in skip):
                continue  # left out of backups (or holds what is): stays where it is
            if entry.is_dir() and not archive.list_files(entry, excluded=excluded):
                continue
            destination = displaced / root / entry.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(entry, destination)


def _place_files(placements: list[tuple[Path, Path]]) -> int:
    """Move each staged root's files into its folder; returns how many files were placed."""
    placed = 0
    for staged, folder in placements:
        for path, relative in archive.list_files(staged, excluded=[]):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            placed += 1
    return placed


def _verify(report: RestoreReport, database) -> None:
    manifest = report.manifest
    facts = database.live_facts()
    report.tables, report.rows = len(facts.row_counts), sum(facts.row_counts.values())
    differences = domain.count_differences(manifest["row_counts"], facts.row_counts)
    if differences:
        report.problems.append("行数与备份清单不符：" + "；".join(differences[:10]))
    heads = domain.head_differences(manifest["audit"]["heads"], facts.audit_heads)
    if heads:
        report.problems.append("；".join(heads))
    report.audit = audit.verify_chain()
    if not report.audit.ok:
        report.problems.append(f"审计日志链校验未通过：{report.audit.reason}")
    _verify_decryption(report)
    missing = _missing_stored_files(report)
    if missing:
        report.problems.append(f"有 {len(missing)} 个数据库记录所指的文件不在恢复后的存储中，如 {missing[0]}")


def _verify_decryption(report: RestoreReport) -> None:
    failed_columns = []
    for personal in list_personal_data_fields():
        model, raw = personal.model, "backup_raw_value"
        values = (model._base_manager.annotate(**{raw: Cast(personal.name, models.TextField())})
                  .filter(**{f"{raw}__isnull": False}).exclude(**{raw: ""}))
        sample = [*values.order_by("pk").values_list(raw, flat=True)[:DECRYPT_SAMPLE],
                  *values.order_by("-pk").values_list(raw, flat=True)[:DECRYPT_SAMPLE]]
        failed = 0
        for value in sample:
            try:
                personal.decode_stored(value)
            except CryptoError:
                failed += 1
        report.decrypted[personal.label] = (len(sample), failed)
        if failed:
            failed_columns.append(f"{personal.label} 抽查 {len(sample)} 个中 {failed} 个")
    if failed_columns:
        report.problems.append("个人信息无法解密，密钥与备份不一致：" + "；".join(failed_columns))


def _missing_stored_files(report: RestoreReport) -> list[str]:
    """Names in every file column that the column's storage does not have."""
    from django.apps import apps

    missing, checked = [], 0
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for column in model._meta.local_concrete_fields:
            if not isinstance(column, models.FileField):
                continue
            names = model._base_manager.exclude(**{column.name: ""}).exclude(**{f"{column.name}__isnull": True})
            for name in names.values_list(column.name, flat=True).iterator():
                checked += 1
                if not column.storage.exists(name):
                    missing.append(f"{model._meta.label}.{column.name}:{name}")
    report.file_references = checked
    return missing
