"""Backup archives: names, the manifest's shape and the pure checks a restore makes against it.

An archive is one uncompressed tar (`yidi-backup-YYYYMMDD-HHMMSS.tar`; the PostgreSQL dump inside is already
compressed, attachments mostly are):
- `database/db.sqlite3` (SQLite online backup) or `database/db.pgdump` (`pg_dump --format=custom`);
- `files/<root>/<path>`: the files of each root (`audit-checkpoints`, `media`, `data` = the rest of DATA_DIR);
- `manifest.json`, last: what the archive holds and the figures a restore is checked against.
It never holds SECRET_KEY, the field-encryption keys or the audit key (docs/backup.md).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

FORMAT = "yidi-backup"
FORMAT_VERSION = 1
ARCHIVE_PREFIX = "yidi-backup-"
ARCHIVE_SUFFIX = ".tar"
ARCHIVE_PATTERN = re.compile(r"^yidi-backup-\d{8}-\d{6}\.tar$")
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/db.sqlite3", "postgresql": "database/db.pgdump"}
FILES_PREFIX = "files/"
# The roots of files, in the order they are written: checkpoints before the database snapshot (a checkpoint
# never names a row the snapshot lacks), the rest after it (every file a row names is there).
CHECKPOINT_ROOT = "audit-checkpoints"
ROOTS = (CHECKPOINT_ROOT, "media", "data")
KEY_CHECK_TEXT = "yidi-backup-key-check"
KEY_CHECK_CONTEXT = b"yidi.backup.key_check"
REQUIRED_KEYS = ("format", "format_version", "created_at", "yidi_version", "database", "migrations", "row_counts",
                 "audit", "field_encryption", "roots", "files")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is Chinese and says what to do."""


def archive_name(created_at: datetime) -> str:
    """`yidi-backup-20260301-023000.tar` from the (local) creation time."""
    return f"{ARCHIVE_PREFIX}{created_at:%Y%m%d-%H%M%S}{ARCHIVE_SUFFIX}"


def archives_to_delete(names: list[str], *, keep: int) -> list[str]:
    """The archives beyond the newest `keep` (by their timestamped names); other files are never chosen."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    archives = sorted((name for name in names if ARCHIVE_PATTERN.match(name)), reverse=True)
    return sorted(archives[keep:])


def is_safe_member(name: str) -> bool:
    """Whether a member name stays inside the folder it is extracted to (relative, no `..`, no empty parts)."""
    path = PurePosixPath(name)
    return (
        bool(name) and not path.is_absolute() and "\\" not in name and "\x00" not in name
        and all(part not in ("", ".", "..") for part in name.split("/"))
    )


def member_root(name: str) -> tuple[str, str] | None:
    """(root, path inside the root) of a `files/<root>/<path>` member, else None."""
    if not name.startswith(FILES_PREFIX):
        return None
    root, _, rest = name[len(FILES_PREFIX):].partition("/")
    return (root, rest) if root in ROOTS and rest else None


def check_manifest(manifest: object) -> dict:
    """The manifest if it has the shape this version writes; else `BackupError` naming what is wrong."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("不是一地（yidi）的备份文件：清单（manifest.json）格式不对")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"备份格式版本 {manifest.get('format_version')!r} 不受支持（本程序读取版本 {FORMAT_VERSION}）")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise BackupError(f"备份清单不完整，缺少：{'、'.join(missing)}")
    vendor = manifest["database"].get("vendor") if isinstance(manifest["database"], dict) else None
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"备份清单中的数据库类型 {vendor!r} 不受支持")
    if DATABASE_MEMBERS[vendor] not in manifest["files"]:
        raise BackupError(f"备份清单中没有数据库文件 {DATABASE_MEMBERS[vendor]}")
    unsafe = [name for name in manifest["files"] if not is_safe_member(name)]
    if unsafe:
        raise BackupError(f"备份清单含不安全的文件路径：{unsafe[0]}")
    return manifest


@dataclass(frozen=True)
class MigrationGap:
    """Against the code being run: migrations the backup lacks (run `migrate` after the restore) and
    migrations the backup has that the code does not know (the backup comes from a newer yidi)."""

    pending: dict[str, list[str]]
    unknown: dict[str, list[str]]


def migration_gap(applied: dict[str, list[str]], known: dict[str, set[str]]) -> MigrationGap:
    """Compare the backup's applied migrations (app → names) with the migrations on disk (app → names). Apps
    the backup never had count as pending only when the code has migrations for them."""
    pending = {
        app: sorted(names - set(applied.get(app, ())))
        for app, names in known.items()
        if names - set(applied.get(app, ()))
    }
    unknown = {
        app: sorted(set(names) - known.get(app, set()))
        for app, names in applied.items()
        if set(names) - known.get(app, set())
    }
    return MigrationGap(pending, unknown)


def count_differences(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    """One Chinese line per table whose rows differ from the manifest (missing and extra tables included)."""
    lines = []
    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            lines.append(f"{table}：恢复后缺少此表（备份中 {expected[table]} 行）")
        elif table not in expected:
            lines.append(f"{table}：备份中没有此表（恢复后 {actual[table]} 行）")
        elif expected[table] != actual[table]:
            lines.append(f"{table}：备份中 {expected[table]} 行，恢复后 {actual[table]} 行")
    return lines


def head_differences(expected: list[dict], actual: list[dict]) -> list[str]:
    """Chain heads that differ from the manifest's, one Chinese line each."""
    want = {head["chain"]: (head["last_seq"], head["last_mac"]) for head in expected}
    have = {head["chain"]: (head["last_seq"], head["last_mac"]) for head in actual}
    lines = []
    for chain in sorted(set(want) | set(have)):
        if want.get(chain) == have.get(chain):
            continue
        if chain in want and chain in have and want[chain][0] == have[chain][0]:
            lines.append(f"审计链 {chain} 的链头（第 {want[chain][0]} 条）校验码与备份不符")
        else:
            seen = f"第 {have[chain][0]} 条" if chain in have else "无"
            wanted = f"第 {want[chain][0]} 条" if chain in want else "无"
            lines.append(f"审计链 {chain} 的链头：备份中为{wanted}，恢复后为{seen}")
    return lines


def format_size(size: int) -> str:
    """Bytes for people: `512 字节`, `1.5 KB`, `20.0 MB`, `3.2 GB`."""
    if size < 1024:
        return f"{size} 字节"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")
