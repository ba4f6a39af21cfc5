"""The disk fills up while an attachment is being written: a clear Chinese error, nothing half-written.

The real `FileSystemStorage` writes into a media folder of the test's own; its file writes go through `os` as
seen by the storage module, replaced by one whose files take `room` bytes and then fail with ENOSPC (a part of
the file is on disk at that moment, as on a real full disk).
"""

import errno
import os

import pytest
from django.core.files.storage import filesystem
from django.core.files.uploadedfile import SimpleUploadedFile

from yidi.audit.models import AuditEvent
from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.cases.domain import InvalidInput
from yidi.cases.models import Attachment, CaseEvent
from yidi.cases.tests.helpers import snapshot

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + b"0" * 200_000 + b"\ntrailer<<>>\n%%EOF\n"
FULL = "存储空间不足，附件未能保存。请联系系统管理员清理或扩充存储空间后重新上传。"


class FillingFile:
    """A file on a disk with `room` bytes left: writes past it store what fits, then raise ENOSPC."""

    def __init__(self, file, disk):
        self.file, self.disk = file, disk

    def write(self, data):
        if len(data) <= self.disk.room:
            self.disk.room -= len(data)
            return self.file.write(data)
        self.file.write(data[:self.disk.room])
        self.file.flush()
        self.disk.room = 0
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.file, name)


class FullDisk:
    """`os` as the storage module sees it, on a disk with `room` bytes left."""

    def __init__(self, room: int):
        self.room = room

    def fdopen(self, fd, *args, **kwargs):
        return FillingFile(os.fdopen(fd, *args, **kwargs), self)

    def __getattr__(self, name):
        return getattr(os, name)


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


def files_in(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_an_upload_that_fills_the_disk_is_refused_clearly_and_leaves_nothing(client, registrar, media, monkeypatch):
    case = make_case(registrar)
    before = snapshot(case)
    monkeypatch.setattr(filesystem, "os", FullDisk(room=65_536))
    client.force_login(registrar)

    response = client.post(f"/cases/{case.code}/attachments/", {
        "attachment-file": SimpleUploadedFile("收据.pdf", PDF, "application/pdf"), "attachment-description": "收据"})

    assert response.status_code == 400
    assert FULL in response.content.decode()
    assert snapshot(case) == before  # no attachment row, no timeline step, no audit row, the same version
    assert files_in(media) == []  # the part written before the disk filled up is gone


def test_the_action_refuses_with_the_field_and_the_next_upload_is_kept_whole(registrar, media, monkeypatch):
    case = make_case(registrar)
    events, audit = CaseEvent.objects.count(), AuditEvent.objects.count()
    monkeypatch.setattr(filesystem, "os", FullDisk(room=1_000))

    with pytest.raises(InvalidInput) as refused:
        actions.do_add_attachment(case.code, actor=registrar, upload=SimpleUploadedFile("收据.pdf", PDF))

    assert (refused.value.field, str(refused.value)) == ("file", FULL)
    assert (Attachment.objects.count(), CaseEvent.objects.count(), AuditEvent.objects.count()) == (0, events, audit)
    assert files_in(media) == []

    monkeypatch.undo()  # space freed
    attachment = actions.do_add_attachment(case.code, actor=registrar, upload=SimpleUploadedFile("收据.pdf", PDF))
    assert files_in(media) == [attachment.file.name]
    assert (media / attachment.file.name).read_bytes() == PDF
