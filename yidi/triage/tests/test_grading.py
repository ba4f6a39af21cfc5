import json
from datetime import date

import pytest

from yidi.triage.engine.extract import extract
from yidi.triage.engine.grading import GradingRules, GradingRulesError, grade, load_rules
from yidi.triage.engine.resources import GRADING_RULES_FILE


def grade_text(text, **context):
    return grade(text, extract(text), **context)


def signal(result, code):
    (found,) = [s for s in result.signals if s.code == code]
    return found


def spans(found):
    return [(s.start, s.end, s.text) for s in found.spans]


def test_a_plain_matter_is_blue_simple_and_handled_in_the_village():
    result = grade_text("楼上漏水，邻居不肯修。")
    assert (result.grade, result.complexity, result.handling_level, result.score, result.signals) == (
        "blue", "simple", "village", 0, ()
    )  # fmt: skip


def test_five_people_trigger_the_group_signal_with_the_count_span():
    result = grade_text("有5人到村委会反映")
    found = signal(result, "group_people")
    assert (found.weight, found.value, spans(found)) == (25, 5, [(1, 3, "5人")])
    assert (result.grade, result.complexity, result.handling_level) == ("yellow", "complex", "township")


def test_four_people_are_not_a_group():
    assert [s.code for s in grade_text("有4人到村委会反映").signals] == []


def test_thirty_people_add_the_large_group_signal():
    result = grade_text("三十多名工人聚在一起")
    assert [s.code for s in result.signals] == ["group_people", "group_people_large"]
    assert spans(signal(result, "group_people_large")) == [(0, 6, "三十多名工人")]
    assert (result.grade, result.complexity) == ("orange", "difficult")


@pytest.mark.parametrize(
    ("text", "code", "span"),
    [
        ("借款6万元未还", "amount_medium", (2, 5, "6万元")),
        ("货款80万元未付", "amount_large", (2, 6, "80万元")),
        ("工程款600万元", "amount_huge", (3, 8, "600万元")),
    ],
)
def test_amount_bands_fire_with_the_amount_span(text, code, span):
    found = signal(grade_text(text), code)
    assert spans(found) == [span]


def test_amounts_below_the_first_band_fire_nothing():
    assert grade_text("押金3000元不退").signals == ()


def test_wage_arrears_are_found_with_words_in_between():
    result = grade_text("老板拖欠我们三个月的工资")
    assert spans(signal(result, "wage_arrears")) == [(2, 12, "拖欠我们三个月的工资")]
    assert (result.grade, result.complexity) == ("blue", "complex")


def test_wage_arrears_before_the_spring_festival_are_boosted_by_the_reference_date():
    text = "包工头欠薪不给"
    before = grade_text(text, reference_on=date(2026, 1, 20))
    found = signal(before, "wage_arrears_spring_festival")
    assert (found.source, found.value, spans(found)) == ("context", "2026-01-20", [(3, 5, "欠薪")])
    assert before.grade == "orange"
    assert [s.code for s in grade_text(text, reference_on=date(2026, 7, 1)).signals] == ["wage_arrears"]


def test_wage_arrears_that_mention_the_new_year_are_boosted_without_a_date():
    found = signal(grade_text("工资没发，马上要过年了"), "wage_arrears_spring_festival")
    assert spans(found) == [(8, 10, "过年")]


@pytest.mark.parametrize(
    ("text", "code", "span", "grade_code"),
    [
        ("他说再不给钱就跳楼", "extreme_words", (7, 9, "跳楼"), "orange"),
        ("扬言要同归于尽", "extreme_words", (3, 7, "同归于尽"), "orange"),
        ("村民准备拉横幅", "disruptive_action", (4, 7, "拉横幅"), "orange"),
        ("几十人去堵路", "disruptive_action", (4, 6, "堵路"), "orange"),
        ("对方放狠话", "threat", (2, 5, "放狠话"), "yellow"),
        ("他扬言报复对方", "criminal_risk", (1, 5, "扬言报复"), "orange"),
        ("两家差点动刀", "criminal_risk", (4, 6, "动刀"), "orange"),
        ("双方打起来了", "criminal_risk", (2, 5, "打起来"), "orange"),
        ("家里有残疾人", "vulnerable_party", (3, 5, "残疾"), "blue"),
        ("女方是孕妇", "vulnerable_party", (3, 5, "孕妇"), "blue"),
        ("对方是未成年人", "vulnerable_party", (3, 6, "未成年"), "blue"),
        ("说要发抖音", "media_exposure", (2, 5, "发抖音"), "blue"),
        ("调解未果", "failed_mediation", (0, 4, "调解未果"), "blue"),
        ("部门之间相互推诿", "cross_department", (4, 8, "相互推诿"), "blue"),
        ("已经多次反映了", "repeat_contact", (2, 6, "多次反映"), "blue"),
        ("昨晚报了警", "prior_police_calls", (2, 5, "报了警"), "blue"),
    ],
)
def test_each_phrase_rule_fires_with_its_span_and_grade_floor(text, code, span, grade_code):
    result = grade_text(text)
    found = signal(result, code)
    assert (found.source, spans(found)) == ("text", [span])
    assert result.grade == grade_code


def test_a_negated_phrase_does_not_fire():
    assert [s.code for s in grade_text("双方没有打起来").signals] == []


def test_repeat_contacts_from_the_context_fire_without_a_span():
    result = grade_text("噪音问题", repeat_contact_count=2)
    found = signal(result, "repeat_contact")
    assert (found.source, found.value, found.spans) == ("context", 2, ())
    many = grade_text("噪音问题", repeat_contact_count=5)
    assert [s.code for s in many.signals] == ["repeat_contact", "repeat_contact_many"]
    assert (many.grade, many.complexity, many.handling_level) == ("orange", "difficult", "county")


def test_prior_police_calls_from_the_context_fire():
    once = grade_text("噪音问题", prior_police_calls=1)
    assert [(s.code, s.value) for s in once.signals] == [("prior_police_calls", 1)]
    thrice = grade_text("噪音问题", prior_police_calls=3)
    assert [s.code for s in thrice.signals] == ["prior_police_calls", "many_police_calls"]
    assert thrice.grade == "orange"


def test_many_strong_signals_make_a_red_difficult_county_matter():
    text = "三十多名农民工被拖欠工资48万元，扬言要拉横幅，有人说要跳楼"
    result = grade_text(text, reference_on=date(2026, 1, 20))
    assert (result.grade, result.complexity, result.handling_level) == ("red", "difficult", "county")
    assert result.score == sum(s.weight for s in result.signals)


def test_predicted_labels_can_raise_the_complexity():
    result = grade("医院手术后出现问题", extract("医院手术后出现问题"), labels={"mediation_type": "medical"})
    assert (result.complexity, result.handling_level) == ("complex", "township")


def test_thresholds_come_from_the_rules_file():
    raw = json.loads(GRADING_RULES_FILE.read_text(encoding="utf-8"))
    raw["signals"][0]["min"] = 3
    rules = GradingRules.from_dict(raw)
    result = grade("有3人来反映", extract("有3人来反映"), rules=rules)
    assert [s.code for s in result.signals] == ["group_people"]


def test_a_rules_file_of_another_format_version_is_refused():
    with pytest.raises(GradingRulesError, match="格式版本"):
        GradingRules.from_dict({"format_version": 99, "signals": []})


def test_the_result_serialises_every_signal_with_name_weight_and_spans():
    data = grade_text("他说要跳楼").to_dict()
    assert data["signals"] == [
        {"code": "extreme_words", "name": "极端言行", "weight": 40, "source": "text",
         "spans": [{"start": 3, "end": 5, "text": "跳楼"}], "value": None}
    ]  # fmt: skip
    assert (data["grade_name"], data["complexity_name"], data["handling_level_name"]) == (
        "橙色",
        "复杂",
        "乡镇（街道）",
    )


def test_a_deployment_rules_file_in_the_data_dir_overrides_the_shipped_one(data_dir):
    raw = json.loads(GRADING_RULES_FILE.read_text(encoding="utf-8"))
    raw["version"] = "county-2026"
    (data_dir / "triage").mkdir(parents=True)
    (data_dir / "triage" / "grading_rules.json").write_text(
        json.dumps(raw, ensure_ascii=False), encoding="utf-8"
    )
    load_rules.cache_clear()
    try:
        assert grade_text("噪音问题").rules_version == "county-2026"
    finally:
        load_rules.cache_clear()
