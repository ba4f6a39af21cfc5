"""`do_import_hotline`: counts, idempotency, rejects, file-level errors and triage on every row."""

import pytest

from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_case
from yidi.cases.models import Case, CaseEvent, CaseLabel, Contact
from yidi.hotline.actions import do_import_hotline
from yidi.hotline.domain import FileError
from yidi.hotline.models import ImportedTicket, ImportRun
from yidi.hotline.tests.helpers import HEADER, csv_bytes, ticket_row, write, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def _counts():
    return (Case.objects.count(), Contact.objects.count(), CaseEvent.objects.count(), ImportedTicket.objects.count())


def test_good_rows_are_registered_and_a_bad_row_in_the_middle_goes_to_the_rejects_file(tmp_path, dispatcher):
    rows = [ticket_row(1), ticket_row(2, **{"来电号码": "1390575"}), ticket_row(3)]
    path = write(tmp_path, "六月工单.xlsx", xlsx_bytes(rows))

    result = do_import_hotline(path, actor=dispatcher)

    run = ImportRun.objects.get()
    assert (run.status, run.total, run.done, run.imported, run.skipped, run.rejected) == ("finished", 3, 3, 2, 0, 1)
    assert run.created_by == dispatcher and run.file_name == "六月工单.xlsx" and len(run.sha256) == 64
    contacts = Contact.objects.filter(channel__code="hotline_12345").order_by("external_ref")
    assert [c.external_ref for c in contacts] == ["ZJ12345-20260610-0001", "ZJ12345-20260610-0003"]
    assert [t.row_number for t in ImportedTicket.objects.order_by("row_number")] == [2, 4]
    assert result.rejects_path == tmp_path / "六月工单.rejects.csv"
    lines = result.rejects_path.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join([*HEADER, "行号", "原因"])
    assert lines[1].endswith(",3,来电号码格式不正确（手机号11位，座机请加区号）")
    assert len(lines) == 2
    assert run.rejects_file.read().decode("utf-8-sig").splitlines() == lines
    assert list(AuditEvent.objects.filter(action__startswith="hotline.").values_list("action", flat=True)
                .order_by("id")) == ["hotline.import_start", "hotline.import_finish"]


def test_re_importing_the_same_file_changes_nothing(tmp_path, dispatcher):
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1), ticket_row(2), ticket_row(3)]))
    do_import_hotline(path, actor=dispatcher)
    before = _counts()

    result = do_import_hotline(path, actor=dispatcher)

    assert _counts() == before == (3, 3, 3, 3)
    assert (result.run.imported, result.run.skipped, result.run.rejected) == (0, 3, 0)
    assert result.rejects_path is None


def test_a_ticket_registered_by_hand_is_not_imported_again(tmp_path, registrar, dispatcher):
    make_case(registrar, channel_code="hotline_12345", external_ref="ZJ12345-20260610-0002")
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1), ticket_row(2)]))

    result = do_import_hotline(path, actor=dispatcher)

    assert (result.run.imported, result.run.skipped) == (1, 1)
    assert Contact.objects.filter(external_ref="ZJ12345-20260610-0002").count() == 1


def test_a_ticket_twice_in_one_file_is_imported_once(tmp_path, dispatcher):
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1), ticket_row(1)]))

    result = do_import_hotline(path, actor=dispatcher)

    assert (result.run.imported, result.run.skipped, Case.objects.count()) == (1, 1, 1)


def test_a_row_the_registration_refuses_is_rejected_whole(tmp_path, registrar):
    """A township registrar imports a ticket of another township: refused by `do_register_case`, nothing kept."""
    from yidi.accounts.domain import Role, UnitKind
    from yidi.cases.builders import make_unit, make_user

    unit = make_unit("fq-centre-2", kind=UnitKind.TOWNSHIP_CENTRE, region_code="330681109", name="枫桥镇矛调中心二")
    clerk = make_user("fq-clerk", Role.REGISTRAR, unit=unit)
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1, **{"所属区域": "暨阳街道", "详细地址": ""})]))

    result = do_import_hotline(path, actor=clerk)

    assert (result.run.imported, result.run.rejected) == (0, 1)
    assert _counts() == (0, 0, 0, 0)
    assert result.rejects_path.read_bytes().decode("utf-8-sig").splitlines()[1].endswith(
        ",2,发生地“暨阳街道”不在本单位（枫桥镇矛调中心二）辖区内")


@pytest.mark.parametrize(("name", "data", "message"), [
    ("缺列.csv", csv_bytes([["X-1", "内容"]], header=["工单编号", "诉求内容"]),
     "缺少必需的列：诉求类型（可用列名：诉求类型、工单类型、诉求性质、来电类型）；所属乡镇（街道）或详细地址。未导入任何数据"),
    ("合并.xlsx", xlsx_bytes([ticket_row(1)], before=lambda sheet: sheet.merge_cells("A1:B1")),
     "表头含合并单元格（A1:B1），请取消合并、每列一个列名后再导入。未导入任何数据"),
    ("乱码.csv", b"\xff\xfe\xfa\xfb,\x81\x30\n", "无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK（GB18030）编码后再导入"),
])
def test_a_file_level_error_imports_nothing(tmp_path, dispatcher, name, data, message):
    path = write(tmp_path, name, data)

    with pytest.raises(FileError) as error:
        do_import_hotline(path, actor=dispatcher)

    assert str(error.value) == message
    assert _counts() == (0, 0, 0, 0)
    run = ImportRun.objects.get()
    assert (run.status, run.error, run.imported) == ("failed", message, 0)
    assert not (tmp_path / f"{path.stem}.rejects.csv").exists()


def test_formula_and_merged_cells_reject_their_rows_with_the_reason(tmp_path, dispatcher):
    def edit(sheet):
        sheet["I3"] = "=CONCAT(A3,B3)"
        sheet.merge_cells("C3:C4")

    rows = [ticket_row(1), ticket_row(2), ticket_row(3)]
    path = write(tmp_path, "工单.xlsx", xlsx_bytes(rows, before=edit))

    result = do_import_hotline(path, actor=dispatcher)

    assert (result.run.imported, result.run.rejected) == (1, 2)
    reasons = [line.rsplit(",", 2)[1:] for line in result.rejects_path.read_bytes().decode("utf-8-sig").splitlines()[1:]]
    assert reasons == [["3", "诉求内容：单元格为公式且无计算结果"],
                       ["4", "缺少来电人姓名（仅举报、意见建议可匿名）（该单元格属于合并单元格，值只在合并区域左上角）"]]


def test_triage_runs_on_every_imported_row(tmp_path, dispatcher):
    rows = [ticket_row(1, **{"诉求内容": "老板拖欠工资三个月不给，我们十几个工人没钱过年"}),
            ticket_row(2, **{"诉求内容": "楼上漏水严重，说再不修就要跳楼"}),
            ticket_row(3)]
    path = write(tmp_path, "工单.csv", csv_bytes(rows))

    do_import_hotline(path, actor=dispatcher)

    cases = {c.contacts.get().external_ref[-1]: c for c in Case.objects.select_related("primary_type")}
    assert (cases["1"].primary_type.code, cases["1"].grade, cases["1"].complexity) == ("labour", "orange", "complex")
    assert (cases["2"].primary_type.code, cases["2"].grade) == ("neighbour", "orange")
    assert (cases["3"].primary_type.code, cases["3"].grade, cases["3"].complexity) == ("neighbour", "blue", "simple")
    assert set(CaseLabel.objects.filter(case=cases["1"], source="triage").values_list("taxonomy__code", "label__code")) >= {
        ("hotline_category", "labour_social_security")}
    register = CaseEvent.objects.get(case=cases["1"], action="register")
    assert register.data["triage_signals"] == ["涉及人数5人以上（群体性）", "拖欠工资", "春节前后欠薪"]
