"""`yidi import hotline`: exit codes, the summary in Chinese, the progress bar, --as and --rejects."""

import pytest

from yidi.cases.models import Case
from yidi.cli import main
from yidi.hotline.tests.helpers import csv_bytes, ticket_row, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def test_a_processed_file_exits_0_with_the_summary_even_with_rejects(tmp_path, capsys, dispatcher):
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1), ticket_row(2, **{"工单编号": ""}), ticket_row(3)]))
    rejects = tmp_path / "out" / "bad.csv"
    rejects.parent.mkdir()

    code = main(["import", "hotline", str(path), "--rejects", str(rejects)])

    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0].startswith("导入完成：共 3 行，新登记 2 件，已导入过跳过 0 行，未导入 1 行（导入记录 #")
    assert out.splitlines()[1] == f"未导入的行及原因见：{rejects}"
    assert "导入人：赵调度（dispatcher，指挥调度室）" in err
    assert "导入进度 [" in err and err.rstrip().endswith("100%  3/3")
    assert rejects.read_bytes().decode("utf-8-sig").splitlines()[1].endswith(",3,缺少工单编号")


def test_a_file_level_error_exits_2_and_imports_nothing(tmp_path, capsys, dispatcher):
    path = write(tmp_path, "工单.csv", csv_bytes([["X-1"]], header=["工单编号"]))

    code = main(["import", "hotline", str(path)])

    assert code == 2
    assert "未导入：缺少必需的列：诉求类型" in capsys.readouterr().err
    assert Case.objects.count() == 0


def test_without_a_dispatcher_of_the_county_centre_the_command_refuses(tmp_path, capsys, registrar):
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1)]))

    code = main(["import", "hotline", str(path)])

    assert code == 2
    assert capsys.readouterr().err.strip() == "未导入：找不到县级矛调中心的在用调度员账号，请用 --as 指定导入人（登记员或调度员）"

    assert main(["import", "hotline", str(path), "--as", "registrar"]) == 0
    assert Case.objects.get().registered_by == registrar


def test_an_account_that_may_not_import_is_refused(tmp_path, capsys, handler):
    path = write(tmp_path, "工单.csv", csv_bytes([ticket_row(1)]))

    assert main(["import", "hotline", str(path), "--as", "handler"]) == 2
    assert "账号“handler”不存在、已停用，或不是辖区单位的登记员或调度员，不能导入" in capsys.readouterr().err


def test_a_mapping_file_renames_columns(tmp_path, capsys, dispatcher):
    header = ["流水号", "诉求类型", "来电人", "所属区域", "诉求内容"]
    path = write(tmp_path, "工单.csv", csv_bytes([["A-1", "求决类", "王小明", "枫桥镇", "邻居堆放杂物堵塞通道"]], header=header))
    mapping = write(tmp_path, "映射.json",
                    '{"columns": {"流水号": "ticket_number"}, "request_types": {"求决类": "help"}}'.encode())

    assert main(["import", "hotline", str(path), "--mapping", str(mapping)]) == 0
    assert Case.objects.get().request_type == "help"
    assert main(["import", "hotline", str(path), "--mapping", str(tmp_path / "无.json")]) == 2
