"""The restore drill (issue #10, item 6), with real processes on databases of their own: migrate, write matters
with parties, an attachment and audit rows, back up, destroy everything, restore, and check what came back.
Also the refusals (damaged archive, non-empty target, wrong keys) and the failures of `backup`.

On SQLite the databases are files in tmp; when the suite runs on PostgreSQL they are databases `h9_drill_…` on
the same server, created and dropped here. The processes use `drill_settings` (the production settings with this
app installed) with their own DATABASE_URL and YIDI_DATA_DIR.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from yidi.backup.tests.drill_data import ATTACHMENT

ROOT = Path(__file__).resolve().parents[3]
ON_POSTGRES = connection.vendor == "postgresql"
OTHER_FIELD_KEYS = "k2099:" + "A" * 43 + "="  # a well-formed ring whose key is not the backup's


class Server:
    """Where the drill's databases live: SQLite files under `folder`, or databases on the suite's PostgreSQL."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.prefix = f"h9_drill_{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []
        if ON_POSTGRES:
            server = settings.DATABASES["default"]
            self.base = f"postgres://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}"

    def url(self, name: str) -> str:
        """A database URL (the database is not created: `migrate` needs it, `restore` creates it)."""
        self.names.append(name)
        if not ON_POSTGRES:
            return f"sqlite:///{self.folder / name}.sqlite3"
        return f"{self.base}/{self.prefix}_{name}"

    def create(self, name: str) -> str:
        url = self.url(name)
        if ON_POSTGRES:
            self._admin(f'CREATE DATABASE "{self.prefix}_{name}"')
        return url

    def exists(self, name: str) -> bool:
        if not ON_POSTGRES:
            return (self.folder / f"{name}.sqlite3").exists()
        return bool(self._admin("SELECT 1 FROM pg_database WHERE datname = %s", [f"{self.prefix}_{name}"]))

    def drop(self, name: str) -> None:
        if ON_POSTGRES:
            self._admin(f'DROP DATABASE IF EXISTS "{self.prefix}_{name}" WITH (FORCE)')
        else:
            for path in self.folder.glob(f"{name}.sqlite3*"):
                path.unlink()

    def drop_all(self) -> None:
        for name in set(self.names):
            self.drop(name)

    def _admin(self, sql: str, params=None):
        import psycopg

        with psycopg.connect(f"{self.base.replace('postgres://', 'postgresql://')}/postgres", autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else None


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("YIDI_", "DJANGO_", "PG"))}
    env.update({
        "DATABASE_URL": database_url, "YIDI_DATA_DIR": str(data_dir), "YIDI_ALLOW_INSECURE_KEY": "1",
        "DJANGO_SETTINGS_MODULE": "yidi.backup.tests.drill_settings", "PYTHONUNBUFFERED": "1",
        "YIDI_LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def _ok(env: dict[str, str], *args: str) -> str:
    done = _manage(env, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _describe(env: dict[str, str]) -> dict:
    output = _ok(env, "shell", "--no-imports", "-c", "from yidi.backup.tests.drill_data import describe; describe()")
    return json.loads(output.strip().splitlines()[-1])


def _audit_rows(env: dict[str, str]) -> int:
    return int(_ok(env, "shell", "--no-imports", "-c",
                   "from yidi.audit.models import AuditEvent; print(AuditEvent.objects.count())").split()[-1])


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    """A populated instance and its backup: (server, env, archive, what it held)."""
    folder = tmp_path_factory.mktemp("drill")
    server = Server(folder)
    try:
        env = _env(server.create("source"), folder / "data")
        _ok(env, "migrate", "--no-input", "-v", "0")
        _ok(env, "shell", "--no-imports", "-c", "from yidi.backup.tests.drill_data import populate; populate()")
        before = _describe(env)
        output = _ok(env, "backup", "--output", str(folder / "backups"))
        archives = sorted((folder / "backups").glob("yidi-backup-*.tar"))
        yield server, env, archives[0], before, output
    finally:
        server.drop_all()


def test_backup_writes_one_whole_archive_with_its_manifest_and_no_key(drill):
    _, env, archive, before, output = drill
    assert output.startswith(f"备份完成：{archive}")
    assert "数据文件：3 个" in output and "审计链头：链 1 至第 6 条" in output
    assert before == {"cases": 3, "people": 3, "audit_rows": 6, "phone_decrypts": True, "attachment_intact": True,
                      "data_file": "演练数据目录中的文件\n"}
    assert sorted(p.name for p in archive.parent.iterdir()) == [archive.name]  # no partial or work files left
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        everything = b"".join(tar.extractfile(member).read() for member in tar if member.isfile())
    database = "database/db.pgdump" if ON_POSTGRES else "database/db.sqlite3"
    assert names[:2] == ["files/audit-checkpoints/checkpoints.jsonl", database]
    assert names[-1] == "manifest.json"
    attachment = next(name for name in names if name.startswith("files/media/cases/"))
    assert attachment.endswith("-调解协议.pdf")
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert "files/data/triage/notes/drill.txt" in names
    assert manifest["database"]["vendor"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert manifest["row_counts"]["cases_case"] == 3 and manifest["row_counts"]["audit_auditevent"] == 6
    assert manifest["audit"]["heads"][0]["chain"] == 1 and manifest["audit"]["heads"][0]["last_seq"] == 6
    assert "0001_initial" in manifest["migrations"]["cases"]
    assert manifest["field_encryption"]["active_key_id"] == "dev"
    assert manifest["files"][attachment]["size"] == len(ATTACHMENT)
    # the secrets are nowhere in the archive (the development SECRET_KEY is the only secret configured)
    assert settings.INSECURE_DEFAULT_SECRET_KEY.encode() not in everything
    # the backup itself is audited in the source database
    assert _audit_rows(env) == 7


def test_drill_back_up_destroy_restore_and_everything_is_back(drill, tmp_path):
    server, env, archive, before, _ = drill
    server.drop("source")
    shutil.rmtree(env["YIDI_DATA_DIR"])
    assert not server.exists("source")

    output = _ok(env, "restore", str(archive))

    assert "审计日志链：完好，已校验 6 条" in output
    assert "失败 0 个" in output and "数据库记录所指的文件：1 个" in output
    assert output.rstrip().endswith("校验通过：行数与备份清单一致，审计日志链完好，个人信息可以解密。")
    after = _describe(env)
    assert after == {**before, "audit_rows": 7}  # plus the restore's own audit row
    verified = _ok(env, "audit_verify")
    assert "审计日志链完好" in verified and "已校验 7 条" in verified


def test_a_damaged_archive_is_refused_naming_the_file_and_nothing_is_created(drill, tmp_path):
    server, _, archive, _, _ = drill
    damaged = tmp_path / archive.name
    data = bytearray(archive.read_bytes())
    offset = data.find(ATTACHMENT[:64])
    data[offset + 100] ^= 0xFF  # one byte of the attachment
    damaged.write_bytes(bytes(data))
    env = _env(server.url("damaged"), tmp_path / "data")

    done = _manage(env, "restore", str(damaged))

    assert done.returncode == 1
    assert "未恢复：备份已损坏：文件 files/media/cases/" in done.stderr
    assert "调解协议.pdf 的校验值与清单不符" in done.stderr
    assert not server.exists("damaged") and not (tmp_path / "data").exists()


def test_a_truncated_archive_is_refused(drill, tmp_path):
    server, _, archive, _, _ = drill
    truncated = tmp_path / archive.name
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    env = _env(server.url("truncated"), tmp_path / "data")

    done = _manage(env, "restore", str(truncated))

    assert done.returncode == 1
    assert "未恢复：备份文件不完整：文件在中途被截断" in done.stderr
    assert not server.exists("truncated")


def test_a_non_empty_target_is_refused_without_force_and_kept_aside_with_it(drill):
    _, env, archive, _, _ = drill
    data_dir = Path(env["YIDI_DATA_DIR"])
    rows = _audit_rows(env)

    done = _manage(env, "restore", str(archive))

    assert done.returncode == 1
    assert "未恢复：目标不是空的：数据库已有" in done.stderr and "确需覆盖请加 --force" in done.stderr
    assert _audit_rows(env) == rows and not list(data_dir.glob("restore-displaced-*"))  # nothing changed

    output = _ok(env, "restore", str(archive), "--force")

    assert "恢复前的数据库与文件已另存到：" in output and "校验通过" in output
    displaced = next(data_dir.glob("restore-displaced-*"))
    assert (displaced / ("database.pgdump" if ON_POSTGRES else "database.sqlite3")).stat().st_size > 0
    assert (displaced / "files/audit-checkpoints/checkpoints.jsonl").is_file()
    assert (displaced / "files/data/triage/notes/drill.txt").is_file()
    assert len(list((displaced / "files/media/cases").rglob("*.pdf"))) == 1
    assert _describe(env)["cases"] == 3 and _audit_rows(env) == 7
    shutil.rmtree(displaced)


@pytest.mark.parametrize(("extra", "message"), [
    ({"YIDI_SECRET_KEY": "another-secret-key-of-another-installation"},
     "未恢复：个人信息加密密钥与备份不一致：备份时启用的密钥为 dev"),
    ({"YIDI_FIELD_KEYS": OTHER_FIELD_KEYS}, "未恢复：个人信息加密密钥与备份不一致"),
])
def test_wrong_keys_are_refused_before_anything_is_changed(drill, tmp_path, extra, message):
    server, _, archive, _, _ = drill
    env = _env(server.url("wrong_keys"), tmp_path / "data", **extra)

    done = _manage(env, "restore", str(archive))

    assert done.returncode == 1
    assert message in done.stderr and "未作任何改动" in done.stderr
    assert not server.exists("wrong_keys") and not (tmp_path / "data" / "media").exists()


def test_a_wrong_audit_key_is_refused(drill, tmp_path):
    server, _, archive, _, _ = drill
    env = _env(server.url("wrong_audit"), tmp_path / "data", YIDI_AUDIT_KEY="not-the-audit-key-of-the-backup")

    done = _manage(env, "restore", str(archive))

    assert done.returncode == 1
    assert "未恢复：审计密钥与备份不一致：备份中的审计记录由密钥" in done.stderr
    assert not server.exists("wrong_audit")


def test_backup_to_a_folder_that_cannot_be_created_fails_clearly(drill, tmp_path):
    _, env, _, _, _ = drill
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    done = _manage(env, "backup", "--output", str(blocker / "backups"))

    assert done.returncode == 1
    assert f"备份失败：无法创建备份目录 {blocker / 'backups'}" in done.stderr


DISK_FULL = """
import errno
from django.core.management import CommandError, call_command
from yidi.backup import archive

def full(self, source, name):
    raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

archive.ArchiveWriter.add_file = full
try:
    call_command("backup", "--output", {folder!r})
except CommandError as error:
    print(error)
"""


def test_a_full_disk_leaves_no_half_written_archive(drill, tmp_path):
    _, env, _, _, _ = drill
    folder = tmp_path / "backups"

    output = _ok(env, "shell", "--no-imports", "-c", DISK_FULL.format(folder=str(folder)))

    assert output.strip() == f"备份失败：磁盘空间不足，备份未完成（已删除未写完的文件）：{folder}"
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump is used on PostgreSQL only")
def test_backup_without_pg_dump_fails_clearly_and_leaves_nothing(drill, tmp_path):
    _, env, _, _, _ = drill
    empty, folder = tmp_path / "bin", tmp_path / "backups"
    empty.mkdir()

    done = _manage({**env, "YIDI_BACKUP_PG_BIN_DIR": str(empty)}, "backup", "--output", str(folder))

    assert done.returncode == 1
    assert f"备份失败：找不到 pg_dump（目录 {empty} 中没有）" in done.stderr
    assert list(folder.iterdir()) == []


def test_retention_keeps_the_newest_archives_only(drill, tmp_path):
    _, env, archive, _, _ = drill
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20200101-010000", "20200102-010000"):
        shutil.copy(archive, folder / f"yidi-backup-{stamp}.tar")
    (folder / "notes.txt").write_text("not a backup")

    output = _ok(env, "backup", "--output", str(folder), "--keep", "2")

    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 3 and kept[0] == "notes.txt" and kept[1] == "yidi-backup-20200102-010000.tar"
    assert "按保留份数删除了较早的备份 1 份：yidi-backup-20200101-010000.tar" in output
