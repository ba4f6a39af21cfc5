"""The workbench's queue previews: the first matters of a queue in the queue's order (urgent, then by grade, then
oldest), read with their related rows, in one query however long the queue."""

import pytest

from yidi.cases import queries
from yidi.cases.builders import make_case

pytestmark = pytest.mark.django_db


def test_a_preview_is_the_head_of_the_queue_in_its_order(registrar, dispatcher, django_assert_num_queries):
    grades = ["blue", "red", "yellow", "orange", "red", "blue", "yellow", "orange"]
    made = [make_case(registrar, grade=grade, is_urgent=index == 5) for index, grade in enumerate(grades)]
    full = list(queries.list_cases(dispatcher, queries.CaseFilters(queue="to_accept")))

    with django_assert_num_queries(1):
        preview = queries.list_queue_preview(dispatcher, "to_accept")
        shown = [(case.code, case.region.name, case.channel.name) for case in preview]  # related rows read with it

    assert [case.code for case in preview] == [case.code for case in full[:6]]
    assert preview[0].code == made[5].code  # the urgent one first, then red, orange …
    assert [case.grade for case in preview] == ["blue", "red", "red", "orange", "orange", "yellow"]
    assert len(shown) == 6
