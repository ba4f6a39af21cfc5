"""The bulk writers store exactly what the ORM would: encrypted fields, JSON, date-times, choices, nulls."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yidi.cases.domain import CaseAction
from yidi.cases.models import Person, PersonKind
from yidi.core.bulk import insert_values, update_rows

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
