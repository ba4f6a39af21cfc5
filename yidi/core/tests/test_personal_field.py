"""PersonalDataField against the database: encrypted columns, legacy clear text, look-ups, key rotation."""

import base64
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from yidi.accounts.models import User
from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_case
from yidi.cases.models import Person
from yidi.core.crypto import DecryptionError
from yidi.core.masking import mask
from yidi.core.personal import EncryptedFieldLookupError, do_rotate_field_keys, lookup_hash

APPLICANT_ID = "330681198003150017"
APPLICANT_PHONE = "13805751234"
RESPONDENT_PHONE = "13905759876"
CLEAR_ID_OR_PHONE = re.compile(r"\d{17}[\dX]|\d{15}|1\d{10}")
KEY_1 = bytes(range(32))
KEY_2 = bytes(range(32, 64))


def raw_rows(model, *columns) -> list[tuple]:
    """The stored column values, read past the ORM."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(model._meta.db_table)} ORDER BY id"
        )
        return cursor.fetchall()


def write_raw(model, pk, column, value) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {quote(column)} = %s WHERE id = %s", [value, pk]
        )


def applicant() -> Person:
    return Person.objects.get(id_number_hash=lookup_hash(APPLICANT_ID, purpose="id_number"))


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_field_keys", *args, stdout=out)
    return out.getvalue()


def reports_by_label(**kwargs) -> dict:
    return {report.label: report for report in do_rotate_field_keys(**kwargs)}


def test_registered_matter_stores_no_clear_id_number_or_phone(registrar):
    registrar.phone = "13805750001"
    registrar.save(update_fields=["phone"])

    make_case(registrar)

    stored = [value for row in raw_rows(Person, "id_number", "phone", "address") for value in row]
    stored += [value for (value,) in raw_rows(User, "phone")]
    assert len(stored) == 7  # two parties × three columns, and the clerk's phone
    assert [v for v in stored if CLEAR_ID_OR_PHONE.search(v)] == []
    assert all(v.startswith("enc:v1:aes-gcm:dev:") for v in stored if v), stored
    assert sum(1 for v in stored if v == "") == 1  # the respondent gave no ID number


def test_values_read_back_decrypted_and_are_masked_on_the_page(client, registrar):
    case = make_case(registrar)

    person = applicant()
    assert (person.id_number, person.phone, person.address) == (
        APPLICANT_ID,
        APPLICANT_PHONE,
        "诸暨市枫桥镇枫源村3组18号",
    )
    assert mask(person.id_number, "id_number") == "330***********0017"
    assert Person._meta.get_field("phone").masked(person.phone) == "138****1234"
    client.force_login(registrar)
    page = client.get(reverse("case_detail", args=[case.code])).content.decode()
    assert "330***********0017" in page and "139****9876" in page
    assert APPLICANT_ID not in page and RESPONDENT_PHONE not in page


def test_empty_value_stays_empty_and_can_be_queried(registrar):
    make_case(registrar)

    assert Person.objects.filter(id_number="").get().name == "王志强"
    assert Person.objects.exclude(id_number="").get().name == "陈建国"
    assert Person.objects.filter(id_number__in=[""]).count() == 1


def test_update_and_bulk_update_store_encrypted_values(registrar):
    make_case(registrar)

    Person.objects.filter(name="王志强").update(phone="13905750000")
    person = applicant()
    person.phone = "13805750000"
    Person.objects.bulk_update([person], ["phone"])

    assert sorted(Person.objects.values_list("phone", flat=True)) == ["13805750000", "13905750000"]
    assert all(phone.startswith("enc:v1:") for (phone,) in raw_rows(Person, "phone"))


@pytest.mark.parametrize(
    "lookup",
    [
        {"id_number": APPLICANT_ID},
        {"id_number__in": [APPLICANT_ID, ""]},
        {"id_number__startswith": "330681"},
        {"id_number__icontains": "0017"},
    ],
)
def test_comparing_an_encrypted_field_points_to_the_hash_column(lookup, registrar):
    with pytest.raises(EncryptedFieldLookupError) as error:
        Person.objects.filter(**lookup).count()

    message = str(error.value)
    assert "cases.Person.id_number is encrypted at rest" in message
    assert 'filter(id_number_hash=lookup_hash(value, purpose="id_number"))' in message
    assert APPLICANT_ID not in message and "0017" not in message


def test_comparing_a_field_without_hash_column_says_so(registrar):
    with pytest.raises(EncryptedFieldLookupError, match="it has no keyed-hash column; add `address_hash`"):
        Person.objects.filter(address="诸暨市枫桥镇枫源村3组18号").exists()


def test_hash_column_finds_the_person(registrar):
    make_case(registrar)

    found = Person.objects.filter(phone_hash=lookup_hash(RESPONDENT_PHONE, purpose="phone")).get()

    assert (found.name, found.phone) == ("王志强", RESPONDENT_PHONE)


def test_legacy_clear_text_is_still_read(registrar):
    make_case(registrar)
    person = applicant()
    write_raw(Person, person.pk, "phone", "0575-87012345")

    assert Person.objects.get(pk=person.pk).phone == "0575-87012345"


def test_token_copied_into_another_column_fails_to_decrypt(registrar):
    make_case(registrar)
    person = applicant()
    (phone_token,) = Person.objects.filter(pk=person.pk).values_list(_raw("phone"), flat=True)
    write_raw(Person, person.pk, "address", phone_token)
    write_raw(User, registrar.pk, "phone", phone_token)

    with pytest.raises(DecryptionError) as error:
        Person.objects.get(pk=person.pk)
    assert str(error.value).startswith("cannot decrypt cases.Person.address with key 'dev' (aes-gcm):")
    assert APPLICANT_PHONE not in str(error.value) and phone_token not in str(error.value)
    with pytest.raises(DecryptionError, match=r"cannot decrypt accounts\.User\.phone with key 'dev'"):
        User.objects.get(pk=registrar.pk)


def test_key_rotation_keeps_old_values_readable_and_the_command_re_encrypts_them(registrar):
    with override_settings(FIELD_ENCRYPTION_KEYS={"k1": KEY_1}):
        make_case(registrar)
    with override_settings(FIELD_ENCRYPTION_KEYS={"k2": KEY_2, "k1": KEY_1}):
        person = applicant()
        assert person.id_number == APPLICANT_ID
        person.address = "诸暨市枫桥镇枫源村3组19号"
        person.save(update_fields=["address"])
        assert _stored_key_ids() == {"id_number": ["k1"], "phone": ["k1", "k1"], "address": ["k2", "k1"]}

        dry = reports_by_label(dry_run=True)
        assert [
            (r.values, r.current, r.stale, r.clear_text, r.rewritten)
            for r in (dry["cases.Person.id_number"], dry["cases.Person.phone"], dry["cases.Person.address"])
        ] == [(1, 0, 1, 0, 0), (2, 0, 2, 0, 0), (2, 1, 1, 0, 0)]
        assert _stored_key_ids()["phone"] == ["k1", "k1"]

        output = rotate("--batch-size", "1")
        assert "cases.Person.phone: 非空 2，已是当前密钥 0，旧密钥或旧算法 2，明文 0，已重新加密 2" in output
        assert _stored_key_ids() == {"id_number": ["k2"], "phone": ["k2", "k2"], "address": ["k2", "k2"]}
        assert "合计重新加密 0 个值" in rotate()  # idempotent
        runs = list(AuditEvent.objects.filter(action="crypto.rotate_field_keys").order_by("id").values_list(
            "object_id", "outcome", "data"))
        assert runs[0] == ("k2", "success", {"provider": "aes-gcm", "rewritten": 4, "failed": 0, "columns": {
            "cases.Person.id_number": 1, "cases.Person.phone": 2, "cases.Person.address": 1}})
        assert runs[1][2]["rewritten"] == 0 and len(runs) == 2  # every run is audited, dry runs are not
    with override_settings(FIELD_ENCRYPTION_KEYS={"k2": KEY_2}):  # the old key is retired
        person = applicant()
        assert (person.id_number, person.phone, person.address) == (
            APPLICANT_ID,
            APPLICANT_PHONE,
            "诸暨市枫桥镇枫源村3组19号",
        )


def test_command_encrypts_legacy_clear_text_and_dry_run_changes_nothing(registrar):
    make_case(registrar)
    person = applicant()
    write_raw(Person, person.pk, "id_number", APPLICANT_ID)

    output = rotate("--dry-run")
    assert "cases.Person.id_number: 非空 1，已是当前密钥 0，旧密钥或旧算法 0，明文 1" in output
    assert "待处理 1 个值" in output
    assert raw_rows(Person, "id_number")[0] == (APPLICANT_ID,)

    assert (
        "cases.Person.id_number: 非空 1，已是当前密钥 0，旧密钥或旧算法 0，明文 1，已重新加密 1" in rotate()
    )
    assert raw_rows(Person, "id_number")[0][0].startswith("enc:v1:aes-gcm:dev:")
    assert applicant().id_number == APPLICANT_ID


def test_command_reports_values_it_cannot_decrypt_and_rotates_the_rest(registrar):
    with override_settings(FIELD_ENCRYPTION_KEYS={"lost": KEY_1}):
        make_case(registrar)
    with override_settings(FIELD_ENCRYPTION_KEYS={"k2": KEY_2, "k1": KEY_1}):
        person_pk = Person.objects.filter(name="陈建国").values_list("pk", flat=True).get()
        write_raw(Person, person_pk, "address", "诸暨市枫桥镇枫源村3组18号")
        with pytest.raises(CommandError, match=rf"^4 个值无法解密.*cases.Person.id_number#{person_pk}"):
            rotate()
        assert raw_rows(Person, "address")[0][0].startswith("enc:v1:aes-gcm:k2:")
        assert raw_rows(Person, "id_number")[0][0].startswith("enc:v1:aes-gcm:lost:")


def test_sm4_gcm_provider_writes_sm4_tokens_and_rotation_moves_aes_values_to_it(registrar):
    make_case(registrar)
    with override_settings(FIELD_CIPHER="sm4-gcm"):
        person = applicant()
        person.address = "诸暨市枫桥镇枫源村3组19号"
        person.save(update_fields=["address"])
        assert raw_rows(Person, "address")[0][0].startswith("enc:v1:sm4-gcm:dev:")
        assert raw_rows(Person, "phone")[0][0].startswith("enc:v1:aes-gcm:dev:")

        rotate()

        assert all(
            value.startswith("enc:v1:sm4-gcm:dev:")
            for row in raw_rows(Person, "phone", "address")
            for value in row
        )
        person = applicant()
        assert (person.phone, person.address) == (APPLICANT_PHONE, "诸暨市枫桥镇枫源村3组19号")


def test_key_ring_from_the_environment_format_is_accepted_by_the_field(registrar):
    ring = f"k3:{base64.b64encode(KEY_2).decode()}"
    with override_settings(FIELD_ENCRYPTION_KEYS=ring):
        make_case(registrar)
        assert applicant().phone == APPLICANT_PHONE
    assert raw_rows(Person, "phone")[0][0].startswith("enc:v1:aes-gcm:k3:")


def _raw(column: str):
    from django.db.models import TextField
    from django.db.models.functions import Cast

    return Cast(column, TextField())


def _stored_key_ids() -> dict[str, list[str]]:
    columns = ["id_number", "phone", "address"]
    ids: dict[str, list[str]] = {column: [] for column in columns}
    for row in raw_rows(Person, *columns):
        for column, value in zip(columns, row, strict=True):
            if value:
                ids[column].append(value.split(":")[3])
    return ids
