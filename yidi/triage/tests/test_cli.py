import json
import sys
import types

import pytest

from yidi.triage.cli import main
from yidi.triage.tests.conftest import tiny_rows, write_csv


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def no_leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.startswith(".")] == []


def test_train_writes_a_model_directory_and_prints_the_held_out_macro_f1(capsys, tiny_csv, tmp_path):
    code, out, err = run(capsys, "train", "--data", str(tiny_csv), "--out", str(tmp_path / "m"))
    assert code == 0
    assert out.startswith("held-out macro-F1 = ")
    assert "分层抽样：训练 15 行，留出 3 行用于评估" in err
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["taxonomy"], manifest["training_size"], manifest["metrics"]["held_out"]["n"]) == (
        "mediation_type", 18, 3
    )  # fmt: skip
    assert no_leftovers(tmp_path)


def test_train_reads_named_columns_and_any_label_set(capsys, tmp_path):
    rows = [(label.upper(), text) for text, label in tiny_rows()]
    data = write_csv(tmp_path / "d.csv", rows, header=("类别", "内容"))
    code, _, _ = run(capsys, "train", "--data", str(data), "--text-column", "内容", "--label-column", "类别",
                     "--taxonomy", "mine", "--out", str(tmp_path / "m"))  # fmt: skip
    assert code == 0
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["taxonomy"], manifest["labels"]) == ("mine", ["CONSUMER", "LABOUR", "NEIGHBOUR"])


def test_train_refuses_a_file_that_is_not_utf8_and_names_the_line_and_offset(capsys, tmp_path):
    data = tmp_path / "gbk.csv"
    data.write_bytes(b"text,label\n" + "拖欠工资,labour\n".encode("gbk"))
    code, out, err = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "m"))
    assert (code, out) == (2, "")
    assert "不是 UTF-8 编码：第 2 行（字节偏移 11）" in err
    assert not (tmp_path / "m").exists()
    assert no_leftovers(tmp_path)


def test_train_refuses_a_missing_column_and_lists_the_columns_found(capsys, tiny_csv, tmp_path):
    code, _, err = run(
        capsys, "train", "--data", str(tiny_csv), "--label-column", "类别", "--out", str(tmp_path / "m")
    )
    assert code == 2
    assert "缺少列 '类别'；找到的列：'text', 'label'" in err
    assert not (tmp_path / "m").exists()


def test_train_refuses_a_label_with_fewer_than_two_examples(capsys, tmp_path):
    data = write_csv(tmp_path / "d.csv", [*tiny_rows(), ("孩子上学的问题", "education")])
    code, _, err = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "m"))
    assert code == 2
    assert "'education'（1 条）" in err
    assert not (tmp_path / "m").exists()


def test_train_refuses_an_empty_file(capsys, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    code, _, err = run(capsys, "train", "--data", str(tmp_path / "empty.csv"), "--out", str(tmp_path / "m"))
    assert code == 2
    assert "是空文件" in err


def test_train_refuses_a_header_without_rows(capsys, tmp_path):
    data = write_csv(tmp_path / "d.csv", [])
    code, _, err = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "m"))
    assert code == 2
    assert "没有可用的数据行" in err


def test_train_does_not_overwrite_a_directory_that_is_not_a_model(capsys, tiny_csv, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "train", "--data", str(tiny_csv), "--out", str(tmp_path / "m"))
    assert code == 2
    assert "不是模型目录" in err


def test_train_from_feedback_reports_a_missing_feedback_module(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yidi.triage.feedback", None)
    code, _, err = run(
        capsys, "train", "--from-feedback", "--taxonomy", "mediation_type", "--out", str(tmp_path / "m")
    )
    assert code == 2
    assert "yidi.triage.feedback 不可用" in err
    assert not (tmp_path / "m").exists()


def test_train_from_feedback_trains_on_the_confirmed_labels(capsys, tmp_path, monkeypatch):
    module = types.ModuleType("yidi.triage.feedback")
    module.feedback_rows = lambda taxonomy: iter(tiny_rows())
    monkeypatch.setitem(sys.modules, "yidi.triage.feedback", module)
    code, _out, err = run(
        capsys, "train", "--from-feedback", "--taxonomy", "mediation_type", "--out", str(tmp_path / "m")
    )
    assert code == 0
    assert "反馈数据：18 条" in err
    assert (
        json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))["taxonomy"]
        == "mediation_type"
    )


def test_train_from_feedback_needs_a_taxonomy(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--from-feedback", "--out", str(tmp_path / "m"))
    assert code == 2
    assert "--from-feedback 需要同时给出 --taxonomy" in err


def test_evaluate_prints_exactly_one_json_object(capsys, tiny_csv, tiny_model, tmp_path):
    tiny_model.save(tmp_path / "m")
    code, out, _ = run(capsys, "evaluate", "--model", str(tmp_path / "m"), "--data", str(tiny_csv))
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"macro_f1", "accuracy", "n", "per_class", "confusion"}
    assert result["n"] == 18
    assert set(result["per_class"]) == {"consumer", "labour", "neighbour"}
    assert set(result["per_class"]["labour"]) == {"precision", "recall", "f1", "support"}
    assert result["per_class"]["labour"]["support"] == 6
    assert result["confusion"]["labels"] == ["consumer", "labour", "neighbour"]
    assert sum(map(sum, result["confusion"]["matrix"])) == 18
    assert result["accuracy"] == 1.0


def test_evaluate_accepts_labels_the_model_never_saw(capsys, tiny_model, tmp_path):
    tiny_model.save(tmp_path / "m")
    data = write_csv(tmp_path / "d.csv", [("孩子上学的问题", "education"), ("老板拖欠工资", "labour")])
    code, out, _ = run(capsys, "evaluate", "--model", str(tmp_path / "m"), "--data", str(data))
    result = json.loads(out)
    assert (code, result["n"], result["per_class"]["education"]["recall"]) == (0, 2, 0.0)


def test_evaluate_refuses_an_incompatible_model(capsys, tiny_csv, tiny_model, tmp_path):
    tiny_model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 0
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, err = run(capsys, "evaluate", "--model", str(tmp_path / "m"), "--data", str(tiny_csv))
    assert (code, out) == (2, "")
    assert "格式版本为 0" in err


def test_analyse_prints_the_json_analysis_of_the_text_argument(capsys, data_dir):
    code, out, _ = run(capsys, "analyse", "--county", "330681", "枫桥镇五名工人被拖欠工资两万元，扬言要跳楼")
    result = json.loads(out)
    assert code == 0
    assert result["labels"]["mediation_type"]["label"] == "labour"
    assert result["grade"]["grade"] == "red"
    assert [p["name"] for p in result["facts"]["places"]] == ["枫桥镇"]


def test_analyse_reads_stdin_when_no_text_is_given(capsys, data_dir, monkeypatch):
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("楼上邻居半夜噪音扰民\n"))
    code, out, _ = run(capsys, "analyse")
    assert (code, json.loads(out)["text_length"]) == (0, 11)


def test_analyse_refuses_empty_text(capsys, data_dir):
    code, out, err = run(capsys, "analyse", "  ")
    assert (code, out) == (2, "")
    assert "文本为空" in err


def test_analyse_uses_the_model_given_on_the_command_line(capsys, data_dir, tiny_model, tmp_path):
    tiny_model.save(tmp_path / "m")
    code, out, _ = run(capsys, "analyse", "--model", str(tmp_path / "m"), "超市卖过期牛奶")
    label = json.loads(out)["labels"]["mediation_type"]
    assert (code, label["label"], label["model_version"]) == (0, "consumer", tiny_model.model_version)


def test_install_activates_a_validated_model(capsys, data_dir, tiny_model, tmp_path):
    from yidi.triage.engine import registry

    tiny_model.save(tmp_path / "m")
    code, out, _ = run(capsys, "install", "--model", str(tmp_path / "m"), "--taxonomy", "mediation_type")
    assert code == 0
    active = data_dir / "triage" / "active" / "mediation_type"
    assert out.strip() == f"已启用 mediation_type 模型：{active}"
    assert registry.get_model("mediation_type").model_version == tiny_model.model_version
    assert no_leftovers(active.parent)


def test_install_refuses_a_model_of_another_taxonomy(capsys, data_dir, tiny_model, tmp_path):
    tiny_model.save(tmp_path / "m")
    code, _, err = run(capsys, "install", "--model", str(tmp_path / "m"), "--taxonomy", "hotline_category")
    assert code == 2
    assert "不能安装为 'hotline_category'" in err
    assert not (data_dir / "triage" / "active" / "hotline_category").exists()


def test_an_unknown_command_exits_with_code_two(capsys):
    code, _, err = run(capsys, "explode")
    assert code == 2
    assert "invalid choice" in err


@pytest.mark.parametrize("command", ["train", "evaluate", "install"])
def test_missing_required_options_exit_with_code_two(capsys, command):
    assert run(capsys, command)[0] == 2


def test_train_recognises_a_taxonomy_by_its_chinese_label_names(capsys, tmp_path):
    names = {"labour": "劳动争议纠纷", "neighbour": "邻里纠纷", "consumer": "消费纠纷"}
    data = write_csv(tmp_path / "d.csv", [(text, names[label]) for text, label in tiny_rows()])
    code, _, _ = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "m"))
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert (code, manifest["taxonomy"]) == (0, "mediation_type")


def test_train_streams_large_files_even_when_sorted_by_label(capsys, tmp_path, monkeypatch):
    from yidi.triage.engine import train

    monkeypatch.setattr(train, "STREAMING_THRESHOLD", 10)
    rows = sorted(tiny_rows() * 3, key=lambda row: row[1])
    data = write_csv(tmp_path / "d.csv", rows)
    code, out, err = run(capsys, "train", "--data", str(data), "--out", str(tmp_path / "m"))
    assert code == 0
    assert "流式训练：42 行训练，12 行留出" in err
    assert "held-out macro-F1 = 1.0000" in out
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["selection"]["chosen"] == "sgd(modified_huber, streaming)"


def test_analyse_includes_where_the_shipped_rules_would_route_the_matter(capsys):
    from yidi.triage.cli import main

    assert main(["analyse", "--county", "330681", "枫桥镇枫源村两户村民因排水沟堵塞发生争执，请求调解"]) == 0
    route = json.loads(capsys.readouterr().out)["route"]
    assert (route["matched"], route["rule_id"], route["handling_level"], route["lead"]) == (
        True, "simple_to_village", "village", "属地村（社区）调委会")
