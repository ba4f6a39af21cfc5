"""The case list's text search (`cases.queries.text_filter`): the same matters on SQLite (a `LIKE` scan) and on
PostgreSQL (the bigram index narrows, the `LIKE` decides)."""

import pytest
from django.db import connection

from yidi.cases import queries
from yidi.cases.builders import make_case
from yidi.cases.models import Case


def _found(user, text: str) -> list[str]:
    return sorted(queries.list_cases(user, queries.CaseFilters(text=text)).values_list("title", flat=True))


@pytest.fixture
def matters(registrar):
    make_case(registrar, title="排水沟堵塞", description="连日下雨后积水倒灌进厨房。")
    make_case(registrar, title="拖欠工资", description="公司拖欠三个月工资共计两万元。")
    make_case(registrar, title="物业收费", description="电梯长期故障，排水不畅，物业不修。")
    make_case(registrar, title="折扣50%_促销", description="商家承诺的50%折扣没有兑现。")
    return Case.objects.order_by("id")


@pytest.mark.parametrize(("text", "titles"), [
    ("工资", ["拖欠工资"]),  # two characters, in the title and the description
    ("排水", ["排水沟堵塞", "物业收费"]),  # in a title, and in a description only
    ("积水倒灌", ["排水沟堵塞"]),  # four characters, description only
    ("水", ["排水沟堵塞", "物业收费"]),  # one character: no bigram, the scan alone
    ("积水沟", []),  # both its bigrams are in the first matter ("积水", "水沟"), but not the words themselves
    ("沟堵塞\n连日", []),  # never across the title and the description
    ("50%", ["折扣50%_促销"]),  # % and _ are characters, not patterns
    ("%_", ["折扣50%_促销"]),
    ("0_", []),
    ("物业 收费", []),  # the words as one string, spaces included
    ("工资单", []),
])
def test_text_search_finds_the_matters_holding_the_words_and_no_others(matters, dispatcher, text, titles):
    assert _found(dispatcher, text) == titles


def test_text_search_finds_a_matter_by_its_code(matters, dispatcher):
    case = matters.get(title="拖欠工资")

    assert _found(dispatcher, case.code) == ["拖欠工资"]


def test_text_search_shows_only_what_the_user_may_see(matters, outsider):
    assert _found(outsider, "工资") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram index is PostgreSQL's")
def test_each_matter_keeps_the_bigrams_of_its_title_and_description_and_a_change_of_them(matters):
    case = matters.get(title="拖欠工资")

    def stored() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT text_grams FROM cases_case WHERE id = %s", [case.pk])
            return sorted(cursor.fetchone()[0])

    assert stored() == queries.text_grams("拖欠工资\n公司拖欠三个月工资共计两万元。")
    Case.objects.filter(pk=case.pk).update(status="accepted")  # not the text: the trigger is not run
    case.refresh_from_db()
    case.save()  # every column, the text unchanged
    assert stored() == queries.text_grams("拖欠工资\n公司拖欠三个月工资共计两万元。")
    Case.objects.filter(pk=case.pk).update(title="欠薪")
    assert stored() == queries.text_grams("欠薪\n公司拖欠三个月工资共计两万元。")
    Case.objects.filter(pk=case.pk).update(description="工厂欠薪𠀀。")  # beyond 16 bits: a wider key, still found
    assert stored() == queries.text_grams("欠薪\n工厂欠薪𠀀。")
    assert _found(case.registered_by, "欠薪𠀀") == ["欠薪"]


def test_text_grams_are_pairs_of_code_points():
    assert queries.text_grams("工资") == [(ord("工") << 16 | ord("资")) - 2**31]
    assert queries.text_grams("a") == [] and queries.text_grams("abab") == queries.text_grams("aba")
