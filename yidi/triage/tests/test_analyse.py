import json
import tracemalloc
from datetime import date

import pytest

from yidi.triage.engine import DuplicateCandidate, TriageContext, TriageInputError, analyse

TEXT = "2026年1月20日，枫桥镇枫源村三十多名农民工反映包工头拖欠工资48万元，扬言要去镇政府拉横幅。联系电话13812345678。"


def test_analyse_returns_labels_grade_facts_and_no_duplicates_without_candidates(data_dir):
    result = analyse(TEXT, context=TriageContext(county_code="330681", reference_on=date(2026, 1, 22)))
    data = result.to_dict()
    assert set(data) == {
        "engine_version", "text_length", "classified_length", "truncated", "notes", "labels", "grade", "facts",
        "duplicates",
    }  # fmt: skip
    assert set(data["labels"]) == {
        "mediation_type",
        "hotline_category",
        "request_type",
        "petition_category",
        "zongzhi_type",
    }
    assert (data["labels"]["mediation_type"]["label"], data["labels"]["mediation_type"]["name"]) == (
        "labour",
        "劳动争议纠纷",
    )
    assert data["labels"]["zongzhi_type"]["label"] == "labour_capital"
    assert data["labels"]["zongzhi_type"]["derived_from"] == "mediation_type"
    assert data["labels"]["hotline_category"]["label"] == "labour_social_security"
    assert (data["grade"]["grade"], data["grade"]["complexity"], data["grade"]["handling_level"]) == (
        "red", "difficult", "county"
    )  # fmt: skip
    assert {s["code"] for s in data["grade"]["signals"]} >= {
        "group_people",
        "wage_arrears",
        "disruptive_action",
    }
    assert data["facts"]["people_involved"] == 30
    assert data["facts"]["amount_involved"] == "480000"
    assert [p["code"] for p in data["facts"]["places"]] == ["330681109", "330681109290"]
    assert [m["value"] for m in data["facts"]["mobiles"]] == ["13812345678"]
    assert data["duplicates"] == []
    json.dumps(data, ensure_ascii=False)


def test_empty_or_blank_text_is_refused_with_a_chinese_message(data_dir):
    for text in ("", "   \n\t"):
        with pytest.raises(TriageInputError, match="文本为空"):
            analyse(text)
    assert issubclass(TriageInputError, ValueError)


def test_duplicates_are_ranked_when_the_caller_passes_candidates(data_dir):
    context = TriageContext(
        county_code="330681",
        reference_on=date(2026, 1, 22),
        candidates=(
            DuplicateCandidate(41, "枫源村三十多个农民工说包工头拖欠工资48万元，要去镇政府拉横幅", place_code="330681109290",
                               registered_on=date(2026, 1, 18)),
            DuplicateCandidate(42, "邻居家漏水到我家"),
        ),
    )  # fmt: skip
    duplicates = analyse(TEXT, context=context).to_dict()["duplicates"]
    assert [(d["id"], d["kind"]) for d in duplicates] == [(41, "duplicate")]
    assert "同一地点：枫桥镇枫源村" in duplicates[0]["reasons"]


def test_a_very_long_text_is_classified_on_its_head_and_extracted_in_full(data_dir):
    text = "邻居家装修噪音很大。" * 10_000 + "欠款12万元"
    analyse("先加载模型")
    tracemalloc.start()
    result = analyse(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (result.text_length, result.classified_length, result.truncated) == (100_006, 3000, True)
    assert result.notes[0] == "文本共 100006 字，分类只使用前 3000 字；事实提取和风险评级使用全文"
    assert [a.text for a in result.facts.amounts] == ["12万元"]
    assert peak < 5_000_000


def test_only_the_requested_taxonomies_are_classified(data_dir):
    result = analyse("老板欠薪", context=TriageContext(taxonomies=("request_type",)))
    assert list(result.labels) == ["request_type"]
