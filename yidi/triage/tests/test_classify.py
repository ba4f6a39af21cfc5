import json

import numpy as np
import pytest

from yidi.triage.engine import registry
from yidi.triage.engine.model import MODEL_FORMAT_VERSION, NOT_APPLICABLE, LinearTextModel, ModelFormatError


@pytest.mark.parametrize(
    ("taxonomy", "text", "label"),
    [
        ("mediation_type", "老板拖欠我们十几个工人三个月工资共六万元，电话也不接", "labour"),
        ("mediation_type", "丈夫经常打我，我要离婚，两个孩子的抚养权怎么办", "marriage_family"),
        ("mediation_type", "小区物业费涨了，电梯坏了一个月物业也不修", "property_management"),
        ("mediation_type", "骑电动车被小轿车撞倒，交警认定对方全责，保险公司不肯赔", "road_traffic"),
        ("hotline_category", "孩子明年上小学，想问学区怎么划分，要准备什么材料", "education_culture_sports"),
        ("hotline_category", "工厂晚上偷排废气，气味刺鼻，附近居民咳嗽", "environmental_protection"),
        ("request_type", "举报某村会计挪用村集体征地补偿款", "report"),
        ("request_type", "请问失业金怎么申请，需要带什么材料", "consultation"),
    ],
)
def test_shipped_models_classify_clear_texts(data_dir, taxonomy, text, label):
    prediction = registry.get_model(taxonomy).classify(text)
    assert prediction.label == label
    assert prediction.alternatives[0].label == label
    assert len(prediction.alternatives) == 3
    assert 0 < prediction.confidence <= 1
    assert prediction.model_version.startswith(f"{taxonomy}-")


def test_a_street_light_report_has_no_mediation_type(data_dir):
    prediction = registry.get_model("mediation_type").classify(
        "小区门口的路灯坏了半个月了，晚上很黑，请尽快维修"
    )
    assert prediction.label is None
    assert prediction.reasons == ()
    assert all(a.label != NOT_APPLICABLE for a in prediction.alternatives)


def test_reasons_are_the_phrases_that_drove_the_decision(data_dir):
    prediction = registry.get_model("mediation_type").classify("包工头拖欠工资不发，工人们去讨薪")
    assert prediction.label == "labour"
    assert 1 <= len(prediction.reasons) <= 5
    assert any(reason in "包工头拖欠工资不发，工人们去讨薪" for reason in prediction.reasons)
    assert all(len(reason) >= 2 for reason in prediction.reasons)


def test_confidences_of_all_labels_sum_to_one(tiny_model):
    features = tiny_model.vectorize(__import__("yidi.triage.engine.features", fromlist=["x"]).text_features(
        "老板拖欠工资", tiny_model.config))  # fmt: skip
    probabilities = tiny_model.probabilities(tiny_model.scores(features[0], features[1]))
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_a_model_round_trips_through_its_directory(tiny_model, tmp_path):
    before = tiny_model.classify("楼上邻居半夜很吵")
    tiny_model.save(tmp_path / "model")
    loaded = LinearTextModel.load(tmp_path / "model")
    after = loaded.classify("楼上邻居半夜很吵")
    assert (after.label, after.reasons) == (before.label, before.reasons)
    assert after.confidence == pytest.approx(before.confidence, abs=1e-6)
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "lexicon.json", "manifest.json", "vocabulary.json", "weights.npz"
    ]  # fmt: skip
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["format_version"], manifest["taxonomy"], manifest["labels"]) == (
        MODEL_FORMAT_VERSION, "mediation_type", ["consumer", "labour", "neighbour"]
    )  # fmt: skip
    assert {"created_at", "training_size", "metrics", "libraries", "model_version"} <= set(manifest)
    assert manifest["training_size"] == 18


def test_a_model_directory_of_another_format_version_is_refused(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "model")
    path = tmp_path / "model" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = MODEL_FORMAT_VERSION + 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelFormatError, match=f"格式版本为 {MODEL_FORMAT_VERSION + 1}"):
        LinearTextModel.load(tmp_path / "model")


def test_a_directory_without_manifest_is_not_a_model(tmp_path):
    with pytest.raises(ModelFormatError, match=r"缺少 manifest\.json"):
        LinearTextModel.load(tmp_path)


def test_pickled_weights_are_refused(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "model")
    np.savez(
        tmp_path / "model" / "weights.npz", coef=np.array([object()], dtype=object), intercept=[0], idf=[0]
    )
    with pytest.raises(ModelFormatError, match="已损坏"):
        LinearTextModel.load(tmp_path / "model")


def test_weights_that_do_not_match_the_vocabulary_are_refused(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "model")
    np.savez(
        tmp_path / "model" / "weights.npz", coef=np.zeros((3, 3)), intercept=np.zeros(3), idf=np.zeros(3)
    )
    with pytest.raises(ModelFormatError, match="不一致"):
        LinearTextModel.load(tmp_path / "model")


def test_saving_over_a_directory_that_is_not_a_model_is_refused(tiny_model, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ModelFormatError, match="不是模型目录"):
        tiny_model.save(tmp_path / "notes")
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["readme.txt"]


def test_models_load_once_per_process(data_dir):
    assert registry.get_model("mediation_type") is registry.get_model("mediation_type")
    assert set(registry.active_models()) == {
        "mediation_type",
        "hotline_category",
        "request_type",
        "petition_category",
    }


def test_a_model_trained_on_chinese_label_names_answers_with_codes(tmp_path):
    from yidi.triage.engine.train import train_model
    from yidi.triage.tests.conftest import tiny_rows

    names = {"labour": "劳动争议纠纷", "neighbour": "邻里纠纷", "consumer": "消费纠纷"}
    texts, labels = zip(*[(text, names[label]) for text, label in tiny_rows()], strict=True)
    model = train_model(list(texts), list(labels), taxonomy="mediation_type")
    prediction = model.classify("老板拖欠工资不发")
    assert (prediction.label, prediction.name) == ("labour", "劳动争议纠纷")
    assert model.labels == ["劳动争议纠纷", "消费纠纷", "邻里纠纷"]
