"""What the drill puts into a fresh database, and how it reads it back, through the real actions.

Run inside `manage.py shell -c` by the drill test: `populate()` writes the county's regions, a few units and
accounts, three matters with their parties (ID numbers, phones and addresses encrypted), an attachment on disk,
a file under DATA_DIR and an audit checkpoint; `describe()` prints, as JSON, what the test compares after the
restore (never a clear personal value: only whether it matches).
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

PHONE = "13805751234"
ATTACHMENT = b"%PDF-1.4\n" + bytes(range(256)) * 8 + "调解协议书（演练）".encode()
DATA_FILE = "triage/notes/drill.txt"


def populate() -> None:
    from yidi.accounts.domain import Role, UnitKind
    from yidi.audit.actions import write_checkpoint
    from yidi.cases import actions
    from yidi.cases.builders import make_case, make_party, make_unit, make_user
    from yidi.regions.loader import load_county

    load_county("330681")
    centre = make_unit("centre", kind=UnitKind.CENTRE, region_code="330681", name="诸暨市社会矛盾纠纷调处化解中心")
    registrar = make_user("registrar", Role.REGISTRAR, unit=centre, name="李窗口")
    cases = [
        make_case(registrar),
        make_case(registrar, title="两家因宅基地界址发生争执", parties=(make_party(phone=PHONE),)),
        make_case(registrar, title="工资拖欠三个月", primary_type_code="labour",
                  parties=(make_party(name="孙丽娟", id_number="330681199001010023", phone="13905750001"),)),
    ]
    actions.do_add_attachment(cases[0].code, actor=registrar,
                              upload=SimpleUploadedFile("调解协议.pdf", ATTACHMENT, "application/pdf"))
    note = Path(settings.DATA_DIR) / DATA_FILE
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text("演练数据目录中的文件\n", encoding="utf-8")
    write_checkpoint()


def describe() -> None:
    from django.apps import apps

    from yidi.cases.models import Attachment, Case, Person

    attachment = Attachment.objects.get()
    print(json.dumps({
        "cases": Case.objects.count(),
        "people": Person.objects.count(),
        "audit_rows": apps.get_model("audit", "AuditEvent").objects.count(),
        "phone_decrypts": any(person.phone == PHONE for person in Person.objects.all()),
        "attachment_intact": attachment.file.open("rb").read() == ATTACHMENT,
        "data_file": (Path(settings.DATA_DIR) / DATA_FILE).read_text(encoding="utf-8"),
    }, ensure_ascii=False))
