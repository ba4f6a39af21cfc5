"""The bulk writers store exactly what the ORM would: encrypted fields, JSON, date-times, choices, nulls."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yidi.cases.domain import CaseAction
from yidi.cases.models import Person, PersonKind
from yidi.core.bulk import insert_objects, insert_values, large_page_cache, unsaved, update_rows

pytestmark = pytest.mark.django_db

AT = datetime(2026, 2, 16, 23, 59, 30, 123456, tzinfo=UTC)
COLUMNS = ("kind", "name", "id_number", "phone", "address", "credit_code", "id_number_hash", "phone_hash",
           "name_phone_hash", "created_at")


def _rows(count: int) -> list[tuple]:
    return [
        (PersonKind.NATURAL, f"张{n}", f"33068119900101{n:04d}", f"1380000{n:04d}", "枫桥镇杜黄新村", "", f"h{n}", "",
         "", AT)
        for n in range(count)
    ]


def test_insert_values_stores_what_the_orm_reads_back_with_encryption_and_times():
    assert insert_values(Person, COLUMNS, _rows(3)) == 3

    stored = list(Person.objects.order_by("id_number_hash"))
    assert [(p.kind, p.name, p.id_number, p.phone, p.address, p.created_at) for p in stored] == [
        ("natural", f"张{n}", f"33068119900101{n:04d}", f"1380000{n:04d}", "枫桥镇杜黄新村", AT) for n in range(3)
    ]
    with connection.cursor() as cursor:  # encrypted at rest: the plain number is nowhere in the row
        cursor.execute("SELECT id_number FROM cases_person")
        assert all("330681199001010000" not in str(value) for (value,) in cursor.fetchall())


def test_insert_values_writes_a_batch_in_one_statement():
    with CaptureQueriesContext(connection) as queries:
        insert_values(Person, COLUMNS, _rows(50))

    assert Person.objects.count() == 50
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith(
        'COPY "cases_person"' if connection.vendor == "postgresql" else 'INSERT INTO "cases_person"'
    )


def _people(count: int) -> list[Person]:
    return [Person(**dict(zip(COLUMNS, row, strict=True))) for row in _rows(count)]


def test_insert_objects_with_ids_gives_each_instance_its_own_row_in_two_statements_at_most():
    people = _people(5)

    with CaptureQueriesContext(connection) as queries:
        assert insert_objects(people, with_ids=True) == 5

    assert len(queries.captured_queries) == (2 if connection.vendor == "postgresql" else 1)  # ids, then COPY
    assert all(person.pk is not None and not person._state.adding for person in people)
    stored = {person.pk: person for person in Person.objects.all()}
    assert [(stored[p.pk].name, stored[p.pk].id_number, stored[p.pk].created_at) for p in people] == [
        (f"张{n}", f"33068119900101{n:04d}", AT) for n in range(5)
    ]
    Person.objects.create(kind=PersonKind.NATURAL, name="后来者", created_at=AT)  # the sequence moved past them
    assert Person.objects.count() == 6


def test_insert_objects_sets_auto_now_stamps_as_save_does(registrar):
    from yidi.cases.builders import make_case
    from yidi.cases.models import Case

    template = make_case(registrar)
    copy = Case(**{field.attname: getattr(template, field.attname) for field in Case._meta.concrete_fields
                   if not field.primary_key})
    copy.code, copy.updated_at = "330681-2026-999999", None

    insert_objects([copy], with_ids=True)

    stored = Case.objects.get(pk=copy.pk)
    assert stored.code == "330681-2026-999999"
    assert stored.updated_at is not None and stored.updated_at >= template.updated_at


def test_insert_objects_without_ids_writes_rows_and_reads_nothing_back():
    people = _people(3)

    with CaptureQueriesContext(connection) as queries:
        insert_objects(people)

    assert len(queries.captured_queries) == 1
    assert [person.pk for person in people] == [None, None, None]
    assert Person.objects.count() == 3


def test_insert_values_with_no_rows_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert insert_values(Person, COLUMNS, []) == 0
    assert queries.captured_queries == []


def test_update_rows_writes_only_the_named_fields_of_each_row():
    insert_values(Person, COLUMNS, _rows(3))
    people = list(Person.objects.order_by("id_number_hash"))
    for n, person in enumerate(people):
        person.phone = f"1390000{n:04d}"
        person.kind = PersonKind.ORGANISATION if n == 1 else PersonKind.NATURAL
        person.name = "not written"

    assert update_rows(people, ["phone", "kind"]) == 3

    assert [(p.name, p.kind, p.phone) for p in Person.objects.order_by("id_number_hash")] == [
        (f"张{n}", "organisation" if n == 1 else "natural", f"1390000{n:04d}") for n in range(3)
    ]


def test_enum_members_are_stored_as_their_values():
    insert_values(Person, COLUMNS, _rows(1))
    person = Person.objects.get()
    person.name = CaseAction.URGE  # a str enum member, as the sweep passes action codes
    update_rows([person], ["name"])

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM cases_person")
        assert cursor.fetchone()[0] == "urge"


def test_large_page_cache_is_for_the_batch_only():
    def cache_size():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size" if connection.vendor == "sqlite" else "SHOW shared_buffers")
            return cursor.fetchone()[0]

    before = cache_size()
    with large_page_cache(kib=4096):
        inside = cache_size()
    assert cache_size() == before
    assert inside == (-4096 if connection.vendor == "sqlite" else before)  # PostgreSQL: the server's cache


def test_unsaved_builds_the_instance_model_init_builds():
    from yidi.cases.models import CaseEvent

    fast = unsaved(Person, kind=PersonKind.NATURAL, name="张三", phone="13800000000", created_at=AT)
    slow = Person(kind=PersonKind.NATURAL, name="张三", phone="13800000000", created_at=AT)
    fields = [field.attname for field in Person._meta.concrete_fields]

    assert [getattr(fast, name) for name in fields] == [getattr(slow, name) for name in fields]
    assert fast._state.adding and fast.pk is None
    first, second = unsaved(CaseEvent, seq=1), unsaved(CaseEvent, seq=2)
    assert first.data == {} and first.data is not second.data  # a callable default is called for each
    with pytest.raises(TypeError, match="no field case"):
        unsaved(CaseEvent, case=None)  # by attname only: `case_id`
