"""The pure rules of backups: names, retention, member paths, the manifest's shape, the restore's comparisons."""

from datetime import datetime

import pytest

from yidi.backup import domain
from yidi.backup.domain import BackupError


def _manifest(**overrides) -> dict:
    manifest = {
        "format": "yidi-backup", "format_version": 1, "created_at": "2026-03-01T02:30:00+08:00", "yidi_version": "0.1.0",
        "database": {"vendor": "sqlite"}, "migrations": {}, "row_counts": {}, "audit": {}, "field_encryption": {},
        "roots": {}, "files": {"database/db.sqlite3": {"size": 1, "sha256": "0" * 64}},
    }
    manifest.update(overrides)
    return manifest


def test_archive_name_is_the_local_creation_time():
    assert domain.archive_name(datetime(2026, 3, 1, 2, 30, 5)) == "yidi-backup-20260301-023005.tar"


def test_retention_deletes_only_archives_beyond_the_newest_ones():
    names = ["yidi-backup-20260301-023000.tar", "notes.txt", "yidi-backup-20260303-023000.tar",
             ".yidi-backup-20260304-023000.tar.partial", "yidi-backup-20260302-023000.tar"]

    assert domain.archives_to_delete(names, keep=2) == ["yidi-backup-20260301-023000.tar"]
    assert domain.archives_to_delete(names, keep=3) == []
    with pytest.raises(ValueError, match="keep must be at least 1"):
        domain.archives_to_delete(names, keep=0)


@pytest.mark.parametrize(("name", "safe"), [
    ("files/media/cases/330681-2026-000001/a-调解协议.pdf", True),
    ("database/db.pgdump", True),
    ("../etc/passwd", False),
    ("/etc/passwd", False),
    ("files/media/../../x", False),
    ("files//x", False),
    ("files/./x", False),
    ("files\\x", False),
    ("", False),
])
def test_only_relative_member_names_without_dot_parts_are_safe(name, safe):
    assert domain.is_safe_member(name) is safe


def test_member_root_splits_known_roots_only():
    assert domain.member_root("files/media/cases/a.pdf") == ("media", "cases/a.pdf")
    assert domain.member_root("files/audit-checkpoints/checkpoints.jsonl") == ("audit-checkpoints", "checkpoints.jsonl")
    assert domain.member_root("files/other/a") is None
    assert domain.member_root("files/media/") is None
    assert domain.member_root("database/db.sqlite3") is None


def test_a_well_formed_manifest_is_accepted():
    manifest = _manifest()
    assert domain.check_manifest(manifest) is manifest


@pytest.mark.parametrize(("manifest", "message"), [
    ([], "不是一地（yidi）的备份文件"),
    (_manifest(format="other"), "不是一地（yidi）的备份文件"),
    (_manifest(format_version=2), "备份格式版本 2 不受支持（本程序读取版本 1）"),
    ({k: v for k, v in _manifest().items() if k not in ("row_counts", "audit")}, "备份清单不完整，缺少：row_counts、audit"),
    (_manifest(database={"vendor": "mysql"}), "备份清单中的数据库类型 'mysql' 不受支持"),
    (_manifest(database={"vendor": "postgresql"}), "备份清单中没有数据库文件 database/db.pgdump"),
    (_manifest(files={"database/db.sqlite3": {}, "../x": {}}), "备份清单含不安全的文件路径：../x"),
])
def test_a_malformed_manifest_is_refused_saying_what_is_wrong(manifest, message):
    with pytest.raises(BackupError) as refused:
        domain.check_manifest(manifest)
    assert str(refused.value) == message or str(refused.value).startswith(message)


def test_migration_gap_separates_pending_from_unknown_migrations():
    applied = {"cases": ["0001_initial", "0002_seed_channels"], "audit": ["0001_initial", "0008_future"]}
    known = {"cases": {"0001_initial", "0002_seed_channels", "0003_more"}, "audit": {"0001_initial"},
             "backup": set(), "privacy": {"0001_initial"}}

    gap = domain.migration_gap(applied, known)

    assert gap.pending == {"cases": ["0003_more"], "privacy": ["0001_initial"]}
    assert gap.unknown == {"audit": ["0008_future"]}


def test_count_differences_name_each_table_that_differs():
    expected = {"cases_case": 3, "cases_person": 3, "audit_auditevent": 6}
    actual = {"cases_case": 3, "cases_person": 2, "extra_table": 1}

    assert domain.count_differences(expected, actual) == [
        "audit_auditevent：恢复后缺少此表（备份中 6 行）",
        "cases_person：备份中 3 行，恢复后 2 行",
        "extra_table：备份中没有此表（恢复后 1 行）",
    ]
    assert domain.count_differences(expected, dict(expected)) == []


def test_head_differences_name_each_chain_that_differs():
    expected = [{"chain": 1, "last_seq": 6, "last_mac": "a"}, {"chain": 2, "last_seq": 3, "last_mac": "b"}]

    assert domain.head_differences(expected, [{"chain": 1, "last_seq": 6, "last_mac": "a"}]) == [
        "审计链 2 的链头：备份中为第 3 条，恢复后为无",
    ]
    assert domain.head_differences(expected, [{"chain": 1, "last_seq": 6, "last_mac": "x"},
                                              {"chain": 2, "last_seq": 3, "last_mac": "b"}]) == [
        "审计链 1 的链头（第 6 条）校验码与备份不符",
    ]
    assert domain.head_differences(expected, list(expected)) == []


@pytest.mark.parametrize(("size", "text"), [
    (0, "0 字节"), (1023, "1023 字节"), (1536, "1.5 KB"), (20 * 1024 * 1024, "20.0 MB"), (5 * 1024**4, "5120.0 GB"),
])
def test_sizes_are_written_for_people(size, text):
    assert domain.format_size(size) == text
