"""The batched import: batches of `YIDI_HOTLINE_BATCH_ROWS`, a failing batch retried row by row, a killed import
continued by re-running it, and the YAML mapping file."""

import pytest

from yidi.cases.models import Case, CaseEvent, Contact
from yidi.cli import main
from yidi.hotline import actions
from yidi.hotline.actions import do_import_hotline
from yidi.hotline.domain import FileError, MappingError
from yidi.hotline.files import load_mapping_file
from yidi.hotline.models import ImportedTicket, ImportRun
from yidi.hotline.tests.helpers import csv_bytes, ticket_row, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_rows_go_in_batches_and_progress_is_reported_after_each(tmp_path, dispatcher, settings):
    settings.YIDI_HOTLINE_BATCH_ROWS = 2
    rows = [ticket_row(1), ticket_row(2, **{"来电号码": "1390575"}), ticket_row(3), ticket_row(4), ticket_row(5)]
    path = write(tmp_path, "工单.csv", csv_bytes(rows))
    seen = []

    result = do_import_hotline(path, actor=dispatcher, progress=lambda done, total: seen.append((done, total)))

    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert (result.run.imported, result.run.rejected, result.run.done) == (4, 1, 5)
    assert [t.row_number for t in ImportedTicket.objects.order_by("row_number")] == [2, 4, 5, 6]
    assert sorted(Case.objects.values_list("code", flat=True)) == [f"330681-2026-{n:06d}" for n in range(1, 5)]
    assert CaseEvent.objects.filter(action="register").count() == 4


def test_a_batch_that_fails_as_a_whole_is_retried_row_by_row(tmp_path, dispatcher, settings, monkeypatch):
    settings.YIDI_HOTLINE_BATCH_ROWS = 10

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(actions, "do_register_cases", broken)
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1), ticket_row(2)]))

    result = do_import_hotline(path, actor=dispatcher)

    assert (result.run.status, result.run.imported, result.run.rejected) == ("finished", 2, 0)
    assert Contact.objects.filter(channel__code="hotline_12345").count() == 2


def test_a_row_that_breaks_the_row_by_row_retry_stops_the_run_and_keeps_what_went_before(
    tmp_path, dispatcher, settings, monkeypatch
):
    """A crash mid-file (like a killed import): re-running the file imports only what is missing."""
    settings.YIDI_HOTLINE_BATCH_ROWS = 2
    real = actions.do_register_case

    def register(draft, *, actor):
        if draft.external_ref.endswith("0004"):
            raise RuntimeError("disk full")
        return real(draft, actor=actor)

    def broken(drafts, **kwargs):
        if any(draft.external_ref.endswith("0004") for draft in drafts):
            raise RuntimeError("disk full")
        return real_batch(drafts, **kwargs)

    real_batch = actions.do_register_cases
    monkeypatch.setattr(actions, "do_register_cases", broken)
    monkeypatch.setattr(actions, "do_register_case", register)
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(n) for n in range(1, 6)]))

    with pytest.raises(RuntimeError):
        do_import_hotline(path, actor=dispatcher)

    run = ImportRun.objects.get()
    assert (run.status, run.done, run.imported) == ("failed", 3, 3)
    assert run.error == "导入在第 5 行中断（系统错误）。已导入的行完整保留，重新导入同一文件即可继续"
    assert ImportedTicket.objects.count() == Case.objects.count() == 3

    monkeypatch.undo()
    again = do_import_hotline(path, actor=dispatcher)

    assert (again.run.imported, again.run.skipped) == (2, 3)
    assert Case.objects.count() == 5


def test_a_yaml_mapping_file_renames_columns_and_request_types(tmp_path, capsys, dispatcher):
    header = ["流水号", "诉求类型", "来电人", "所属区域", "诉求内容"]
    path = write(tmp_path, "工单.csv", csv_bytes([["A-1", "求决类", "王小明", "枫桥镇", "邻居堆放杂物堵塞通道"]],
                                                header=header))
    mapping = write(tmp_path, "映射.yaml", "columns:\n  流水号: ticket_number\nrequest_types:\n  求决类: help\n".encode())

    assert main(["import", "hotline", str(path), "--mapping", str(mapping)]) == 0
    assert Case.objects.get().request_type == "help"


@pytest.mark.parametrize(("text", "message"), [
    ("columns: [流水号", "映射文件不是有效的 YAML（第 1 行第 14 列）"),
    ("columns:\n  流水号: serial\n", "映射文件中“流水号”对应的字段“serial”不存在，可用：ticket_number、called_at、"
     "caller_name、caller_phone、request_type、category、township、village、address、title、content、handling_unit"),
    ("request_types:\n  求决类: demand\n", "映射文件中诉求类型“求决类”对应的“demand”不存在，可用：consultation、help、"
     "complaint、report、suggestion、mediation"),
    ("- columns\n", "映射文件只能包含 columns 和 request_types 两项"),
])
def test_a_bad_yaml_mapping_is_refused_clearly(text, message):
    with pytest.raises(MappingError) as error:
        load_mapping_file(text)
    assert str(error.value) == message


def test_a_column_the_mapping_names_but_the_file_lacks_imports_nothing(tmp_path, dispatcher):
    mapping = load_mapping_file("columns:\n  流水号: ticket_number\n")
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1)]))

    with pytest.raises(FileError) as error:
        do_import_hotline(path, actor=dispatcher, mapping=mapping)

    assert str(error.value) == "映射文件指定的列在文件中不存在：“流水号”（工单编号）。未导入任何数据"
    assert Case.objects.count() == 0
