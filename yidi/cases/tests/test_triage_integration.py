"""Triage on registration: suggestions kept as labels, clerks' decisions kept as feedback, duplicates found."""

from yidi.cases.builders import make_case, make_party
from yidi.cases.models import CaseLabel, CaseTextKey, TriageFeedback
from yidi.cases.triage import PartyKeys, triage_text
from yidi.triage.feedback import feedback_rows

WAGES = ("来访人反映，诸暨市某袜业公司拖欠其和另外二十多名工人三个月工资共计十二万元，老板避而不见，"
         "工人们扬言要去政府门口拉横幅，请求帮助追讨。")


def test_a_matter_registered_without_a_type_gets_the_engines_labels_and_grade(registrar):
    case = make_case(registrar, description=WAGES, title="袜业公司拖欠工资", primary_type_code="", grade="",
                     complexity="")
    assert case.primary_type.code == "labour"
    assert case.grade in ("red", "orange") and case.complexity
    triaged = CaseLabel.objects.get(case=case, taxonomy__code="mediation_type")
    assert (triaged.source, triaged.label.code) == ("triage", "labour") and 0 < triaged.confidence <= 1
    assert CaseTextKey.objects.filter(case=case).count() == 16
    event = case.events.get(seq=1)
    assert "拉横幅" in "".join(event.data["triage_signals"]) or event.data["triage_signals"]


def test_a_clerks_correction_is_kept_as_feedback_with_who_and_when(registrar):
    case = make_case(registrar, description=WAGES, title="袜业公司拖欠工资", primary_type_code="contract")
    feedback = TriageFeedback.objects.get(case=case, taxonomy="mediation_type")
    assert (feedback.suggested_label, feedback.chosen_label, feedback.decided_by) == ("labour", "contract", registrar)
    assert feedback.is_correction
    assert list(feedback_rows("mediation_type")) == [(case.description, "contract")]


def test_the_same_person_reporting_again_is_found_as_a_duplicate(registrar):
    first = make_case(registrar, description=WAGES, title="袜业公司拖欠工资",
                      parties=(make_party(name="何小燕", phone="13600001111", id_number=""),))
    result = triage_text(registrar, text="何小燕再次来电，袜业公司拖欠的十二万元工资还是没有拿到，工人们很着急。",
                         region_code="330681109290", parties=PartyKeys(phones=("13600001111",)))
    assert [case.code for _, case in result.duplicates][:1] == [first.code]
    assert result.duplicates[0][0].reasons


def test_duplicates_outside_the_users_scope_are_not_shown(registrar, outsider):
    make_case(registrar, description=WAGES, title="袜业公司拖欠工资",
              parties=(make_party(name="何小燕", phone="13600001111", id_number=""),))
    result = triage_text(outsider, text=WAGES, region_code="330681001001", parties=PartyKeys(phones=("13600001111",)))
    assert result.duplicates == []


def test_the_registration_form_shows_the_suggestion_grade_facts_and_duplicates(client, registrar):
    first = make_case(registrar, description=WAGES, title="袜业公司拖欠工资",
                      parties=(make_party(name="何小燕", phone="13600001111", id_number=""),))
    client.force_login(registrar)
    response = client.post("/cases/triage/", {"description": WAGES, "region": "330681109290",
                                              "parties-0-phone": "13600001111"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "劳动争议纠纷" in page and 'data-value="labour"' in page
    assert "涉及人数" in page and "120000" in page
    assert first.code in page


def test_an_empty_description_gets_the_hint_not_an_error(client, registrar):
    client.force_login(registrar)
    page = client.post("/cases/triage/", {"description": "   "}).content.decode()
    assert "输入事项描述后" in page


def test_only_registering_roles_may_ask_for_a_suggestion(client, handler):
    client.force_login(handler)
    assert client.post("/cases/triage/", {"description": WAGES}).status_code == 404
