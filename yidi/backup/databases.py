"""The database part of a backup: a consistent snapshot, the figures read from that same snapshot (row counts,
applied migrations, audit chain heads), and the restore, for SQLite and PostgreSQL.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies the live file page by page under one read
  lock, so the copy is consistent while the server writes; the figures are read from the copy.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot and `pg_dump --snapshot` dumps exactly that
  snapshot while the same transaction reads the figures. Connection settings reach pg_dump, pg_restore and psql
  through libpq's environment (PGHOST, PGPASSWORD …), never on the command line. A restore runs the dump through
  `psql --single-transaction` after dropping what the database held: it is all or nothing.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

from yidi.backup.domain import BackupError

TOOL_TIMEOUT_SECONDS = 6 * 3600
AUDIT_EVENTS, AUDIT_HEADS, MIGRATIONS = "audit_auditevent", "audit_auditchainhead", "django_migrations"


@dataclass
class Facts:
    """What a database holds, read in one snapshot."""

    row_counts: dict[str, int]
    migrations: dict[str, list[str]]
    audit_heads: list[dict]
    audit_key_ids: list[str]


def read_facts(cursor, tables: list[str], quote) -> Facts:
    """Row counts of every table, applied migrations per app, audit chain heads and the audit keys in use."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - names from the catalogue
        counts[table] = cursor.fetchone()[0]
    migrations: dict[str, list[str]] = {}
    if MIGRATIONS in tables:
        cursor.execute(f"SELECT app, name FROM {MIGRATIONS} ORDER BY id")  # noqa: S608
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    heads, key_ids = [], []
    if AUDIT_HEADS in tables:
        cursor.execute(f"SELECT id, last_seq, last_mac FROM {AUDIT_HEADS} ORDER BY id")  # noqa: S608
        heads = [{"chain": chain, "last_seq": seq, "last_mac": mac} for chain, seq, mac in cursor.fetchall()]
    if AUDIT_EVENTS in tables:
        cursor.execute(f"SELECT DISTINCT key_id FROM {AUDIT_EVENTS}")  # noqa: S608
        key_ids = sorted(row[0] for row in cursor.fetchall())
    return Facts(counts, migrations, heads, key_ids)


def for_connection(alias: str = "default"):
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        return SqliteDatabase(alias)
    if vendor == "postgresql":
        return PostgresDatabase(alias)
    raise BackupError(f"不支持备份 {vendor} 数据库（支持 SQLite 与 PostgreSQL）")


class SqliteDatabase:
    vendor = "sqlite"

    def __init__(self, alias: str):
        self.alias = alias
        self.path = Path(connections[alias].settings_dict["NAME"])

    def describe(self) -> dict:
        return {"vendor": self.vendor, "engine_version": sqlite3.sqlite_version, "tool": "sqlite3 online backup API"}

    @staticmethod
    def _tables(cursor) -> list[str]:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def _quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def _copy(self, source: Path, target: Path) -> None:
        """Copy a database with the online backup API (the source is opened read-only: never created)."""
        with closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)) as src, \
                closing(sqlite3.connect(target)) as dst:
            src.backup(dst)

    def dump(self, target: Path) -> Facts:
        if not self.path.is_file():
            raise BackupError(f"数据库文件不存在：{self.path}")
        try:
            self._copy(self.path, target)
        except sqlite3.Error as error:
            raise _sqlite_error(error, f"无法备份数据库 {self.path}") from None
        with closing(sqlite3.connect(target)) as copy:
            status = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if status != "ok":
                raise BackupError(f"数据库完整性检查未通过，未备份：{status}")
            cursor = copy.cursor()
            return read_facts(cursor, self._tables(cursor), self._quote)

    def live_facts(self) -> Facts:
        with connections[self.alias].cursor() as cursor:
            return read_facts(cursor, self._tables(cursor), self._quote)

    def table_count(self) -> int:
        """Tables in the target database (0: missing or empty file)."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return 0
        with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as db:
            return len(self._tables(db.cursor()))

    def preserve(self, folder: Path) -> Path:
        """Copy the current database into `folder` before it is overwritten."""
        kept = folder / "database.sqlite3"
        self._copy(self.path, kept)
        return kept

    def restore(self, source: Path) -> None:
        connections[self.alias].close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._copy(source, self.path)
        except sqlite3.Error as error:
            raise _sqlite_error(error, f"无法写入数据库 {self.path}") from None
        finally:
            connections[self.alias].close()


def _sqlite_error(error: sqlite3.Error, what: str) -> BackupError:
    text = str(error)
    if "full" in text:
        return BackupError(f"{what}：磁盘空间不足")
    if "readonly" in text or "unable to open" in text:
        return BackupError(f"{what}：无法打开或无权写入")
    return BackupError(f"{what}：{text}")


class PostgresDatabase:
    vendor = "postgresql"

    def __init__(self, alias: str):
        self.alias = alias
        self.connection = connections[alias]
        self.name = self.connection.settings_dict["NAME"]

    # --- tools and their environment ---

    def tool(self, name: str) -> str:
        """The path of pg_dump / pg_restore / psql: in `YIDI_BACKUP_PG_BIN_DIR` when set, else on PATH."""
        folder = getattr(settings, "YIDI_BACKUP_PG_BIN_DIR", "")
        found = shutil.which(name, path=folder) if folder else shutil.which(name)
        if not found:
            where = f"目录 {folder} 中" if folder else "PATH 中"
            raise BackupError(
                f"找不到 {name}（{where}没有）：请安装与数据库服务器同一大版本的 PostgreSQL 客户端"
                f"（Debian：apt install postgresql-client），或用 YIDI_BACKUP_PG_BIN_DIR 指明其 bin 目录"
            )
        return found

    def environment(self) -> dict[str, str]:
        """libpq's environment for the configured database: the password travels here, not in argv."""
        params = self.connection.settings_dict
        options = params.get("OPTIONS", {})
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        for variable, value in (
            ("PGHOST", params.get("HOST")), ("PGPORT", params.get("PORT")), ("PGUSER", params.get("USER")),
            ("PGPASSWORD", params.get("PASSWORD")), ("PGDATABASE", self.name),
            ("PGSSLMODE", options.get("sslmode")), ("PGSSLROOTCERT", options.get("sslrootcert")),
            ("PGSSLCERT", options.get("sslcert")), ("PGSSLKEY", options.get("sslkey")),
            ("PGPASSFILE", options.get("passfile")), ("PGSERVICE", options.get("service")),
        ):
            if value:
                env[variable] = str(value)
        env["PGCONNECT_TIMEOUT"] = env.get("PGCONNECT_TIMEOUT", "10")
        return env

    def tool_major(self, name: str) -> int:
        done = subprocess.run([self.tool(name), "--version"], capture_output=True, text=True, timeout=30,  # noqa: S603
                              check=False)
        found = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
        if done.returncode != 0 or not found:
            raise BackupError(f"无法运行 {name} --version：{done.stderr.strip() or done.stdout.strip()}")
        return int(found.group(1))

    def server_major(self) -> int:
        self.connection.ensure_connection()
        return self.connection.pg_version // 10000

    def _run(self, argv: list[str], what: str) -> None:
        with tempfile.TemporaryFile() as errors:
            done = subprocess.run(argv, env=self.environment(), stdout=subprocess.DEVNULL, stderr=errors,  # noqa: S603
                                  timeout=TOOL_TIMEOUT_SECONDS, check=False)
            if done.returncode != 0:
                raise _tool_error(what, _tail(errors))

    def describe(self) -> dict:
        return {"vendor": self.vendor, "engine_version": f"PostgreSQL {self.connection.pg_version // 10000}",
                "server_version_num": self.connection.pg_version, "tool": f"pg_dump {self.tool_major('pg_dump')}"}

    # --- backup ---

    def check_dump_tool(self) -> None:
        client, server = self.tool_major("pg_dump"), self.server_major()
        if client < server:
            raise BackupError(
                f"pg_dump 的版本（{client}）低于数据库服务器（{server}），pg_dump 无法备份更新版本的服务器："
                f"请安装 postgresql-client-{server}，并设置 YIDI_BACKUP_PG_BIN_DIR=/usr/lib/postgresql/{server}/bin"
            )

    def dump(self, target: Path) -> Facts:
        """Dump the database as one snapshot and read the figures from that same snapshot."""
        self.check_dump_tool()
        with transaction.atomic(using=self.alias), self.connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            facts = read_facts(cursor, self._tables(cursor), self.connection.ops.quote_name)
            self._run([self.tool("pg_dump"), "--format=custom", "--no-password", f"--snapshot={snapshot}",
                       f"--file={target}"], "pg_dump 备份数据库失败")
        return facts

    @staticmethod
    def _tables(cursor) -> list[str]:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return [row[0] for row in cursor.fetchall()]

    def live_facts(self) -> Facts:
        with self.connection.cursor() as cursor:
            return read_facts(cursor, self._tables(cursor), self.connection.ops.quote_name)

    # --- restore ---

    def exists(self) -> bool:
        with self.connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name])
            return cursor.fetchone() is not None

    def create(self) -> None:
        """Create the configured database (a new server after a disaster): needs the CREATEDB privilege."""
        try:
            with self.connection._nodb_cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {self.connection.ops.quote_name(self.name)}")
        except Exception as error:
            raise BackupError(
                f"数据库 {self.name} 不存在，且无法创建（{error}）：请先由管理员创建空数据库（createdb {self.name}）再恢复"
            ) from None

    def table_count(self) -> int:
        if not self.exists():
            return 0
        with self.connection.cursor() as cursor:
            return len(self._tables(cursor))

    def preserve(self, folder: Path) -> Path:
        kept = folder / "database.pgdump"
        self.check_dump_tool()
        self._run([self.tool("pg_dump"), "--format=custom", "--no-password", f"--file={kept}"],
                  "覆盖前另存当前数据库失败（未作任何改动）")
        return kept

    def restore(self, source: Path) -> None:
        """Drop what the current schema holds and load the dump, in one transaction (psql --single-transaction):
        if any statement fails, the database is left as it was."""
        if not self.exists():
            self.create()
        self.connection.close()
        pg_restore, psql = self.tool("pg_restore"), self.tool("psql")
        env = self.environment()
        with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
            script = subprocess.Popen(  # noqa: S603 - fixed tools, no shell
                [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(source)],
                env=env, stdout=subprocess.PIPE, stderr=restore_errors,
            )
            loader = subprocess.Popen(  # noqa: S603
                [psql, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                 "-c", DROP_EVERYTHING, "-f", "-"],
                env=env, stdin=script.stdout, stdout=subprocess.DEVNULL, stderr=psql_errors,
            )
            script.stdout.close()
            try:
                loaded = loader.wait(timeout=TOOL_TIMEOUT_SECONDS)
                dumped = script.wait(timeout=60)
            finally:
                for process in (script, loader):
                    if process.poll() is None:
                        process.kill()
            self.connection.close()
            if dumped != 0:
                raise _tool_error("pg_restore 读取备份失败（数据库未改动）", _tail(restore_errors))
            if loaded != 0:
                raise _tool_error("psql 载入备份失败，已整体回滚（数据库未改动）", _tail(psql_errors))


# Every table, view and sequence of the current schema, then its functions (the audit trigger's): the restore
# recreates them all. Objects that belong to an extension are left to it.
DROP_EVERYTHING = """
DO $$
DECLARE statement text;
BEGIN
    FOR statement IN
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE statement;
    END LOOP;
    FOR statement IN
        SELECT format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind = 'S'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
    LOOP
        EXECUTE statement;
    END LOOP;
    FOR statement IN
        SELECT format('DROP FUNCTION IF EXISTS %s CASCADE', p.oid::regprocedure)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.prokind = 'f'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE statement;
    END LOOP;
END
$$;
"""


def _tail(stream, limit: int = 2000) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace").strip()[-limit:]


def _tool_error(what: str, errors: str) -> BackupError:
    if "No space left" in errors:
        return BackupError(f"{what}：磁盘空间不足\n{errors}")
    if "server version mismatch" in errors or "unsupported version" in errors:
        return BackupError(f"{what}：客户端工具与服务器或备份的版本不匹配（见 YIDI_BACKUP_PG_BIN_DIR）\n{errors}")
    return BackupError(f"{what}：\n{errors}")
