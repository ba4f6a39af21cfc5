"""Reading and writing the archive file: a tar whose every member is hashed (SHA-256) on the way in and checked
on the way out. Only regular files are written or extracted; member names are checked before use."""

import contextlib
import hashlib
import json
import os
import tarfile
from pathlib import Path

from yidi.backup.domain import MANIFEST, BackupError, check_manifest, is_safe_member

CHUNK = 1024 * 1024


class _HashingReader:
    """A file object that hashes what is read through it (tarfile copies members with `read`)."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


class ArchiveWriter:
    """Append members to a new tar at `path`, remembering each one's size and SHA-256 (`entries`)."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, dict] = {}
        self._tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - closed in close()

    def add_file(self, source: Path, name: str) -> dict:
        """Add `source` as `name`. A file that grows meanwhile (a checkpoint being appended) is taken as it was
        when it was opened: the first `size` bytes."""
        if not is_safe_member(name):
            raise BackupError(f"文件名不能放入备份：{name}")
        with source.open("rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = size, int(os.fstat(raw.fileno()).st_mtime), 0o640
            reader = _HashingReader(raw)
            self._tar.addfile(info, reader)
        entry = {"size": size, "sha256": reader.digest.hexdigest()}
        self.entries[name] = entry
        return entry

    def add_bytes(self, data: bytes, name: str) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o640
        self._tar.addfile(info, _BytesReader(data))

    def close(self) -> None:
        """Finish the tar and force it to disk."""
        self._tar.close()
        with self.path.open("rb+") as written:
            os.fsync(written.fileno())

    def abandon(self) -> None:
        with contextlib.suppress(OSError, tarfile.TarError):
            self._tar.close()


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.position = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position:end]
        self.position += len(chunk)
        return chunk


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    try:
        return tarfile.open(path, "r:")
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"不是有效的备份文件，或文件已损坏：{path}（{error}）") from None


def read_manifest(path: Path) -> dict:
    """The archive's manifest, checked for shape (not yet against the members)."""
    with _open(path) as tar:
        try:
            member = tar.getmember(MANIFEST)
        except KeyError:
            raise BackupError(f"备份文件不完整：缺少清单 {MANIFEST}（备份可能没有写完，或文件被截断）") from None
        except (tarfile.TarError, OSError, EOFError) as error:
            raise _unreadable(error) from None
        try:
            manifest = json.loads(tar.extractfile(member).read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, tarfile.TarError, OSError):
            raise BackupError(f"备份清单 {MANIFEST} 已损坏，无法读取") from None
    return check_manifest(manifest)


def verify_archive(path: Path) -> dict:
    """Read the manifest, then every member, and compare each file's size and SHA-256 with the manifest.

    Refuses (`BackupError`, naming the first bad file) a member that differs, is missing, is not in the manifest,
    is not a regular file or has an unsafe name. Returns the manifest.
    """
    manifest = read_manifest(path)
    expected: dict[str, dict] = manifest["files"]
    seen: set[str] = set()
    with _open(path) as tar:
        try:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if not member.isfile() or not is_safe_member(member.name):
                    raise BackupError(f"备份中有不应出现的条目：{member.name}")
                if member.name not in expected:
                    raise BackupError(f"备份中有清单未列出的文件：{member.name}")
                if member.name in seen:
                    raise BackupError(f"备份中同一文件出现了两次：{member.name}")
                seen.add(member.name)
                size, digest = _hash_member(tar, member)
                entry = expected[member.name]
                if size != entry["size"] or digest != entry["sha256"]:
                    raise BackupError(f"备份已损坏：文件 {member.name} 的校验值与清单不符（SHA-256 不一致）")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise _unreadable(error) from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"备份已损坏：缺少清单所列的文件 {missing[0]}（共缺 {len(missing)} 个）")
    return manifest


def _unreadable(error: Exception) -> BackupError:
    if "unexpected end of data" in str(error) or isinstance(error, EOFError):
        return BackupError("备份文件不完整：文件在中途被截断（备份可能没有写完或没有传完整）")
    return BackupError(f"备份文件已损坏，无法读取：{error}")


def _hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    stream = tar.extractfile(member)
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def extract(path: Path, manifest: dict, targets: dict[str, Path]) -> None:
    """Write each member named in `targets` to its path (parents created), checking its SHA-256 again on the
    way (the archive could have changed since it was verified); a file that differs is removed and refused."""
    expected = manifest["files"]
    with _open(path) as tar:
        for member in tar:
            target = targets.get(member.name)
            if target is None:
                continue
            if not member.isfile():
                raise BackupError(f"备份中有不应出现的条目：{member.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            stream = tar.extractfile(member)
            with target.open("wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != expected[member.name]["sha256"]:
                target.unlink()
                raise BackupError(f"备份在恢复过程中发生变化：文件 {member.name} 的校验值与清单不符")


def list_files(root: Path, *, excluded: list[Path]) -> list[tuple[Path, str]]:
    """(path, path relative to `root` with `/`) of every regular file under `root`, sorted, leaving out
    `excluded` paths (files or whole folders) and symbolic links."""
    if not root.is_dir():
        return []
    skip = {path.resolve() for path in excluded}
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skip and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file() or path.resolve() in skip:
                continue
            found.append((path, path.relative_to(root).as_posix()))
    return found
