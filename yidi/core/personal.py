"""Personal data at rest: the one field type, encrypted per value, and the keyed hash used for look-ups.

`PersonalDataField` stores ID numbers, phones and addresses, so every model that holds personal data is
encrypted here and nowhere else. Display always goes through `yidi.core.masking.mask`.

Rules (design in docs/crypto.md):
- Saving encrypts with the configured `FieldCipher` (`yidi.core.crypto`); the column's identity
  (`app_label.Model.field`) is the associated data, so a value moved to another column does not decrypt.
- Reading decrypts. A stored value without the `enc:` prefix is legacy clear text and is returned as is
  until `manage.py rotate_field_keys` encrypts it.
- The empty string is stored as is, so "no phone" stays queryable (`phone=""`).
- Ciphertexts are random, so the database cannot compare them: any other look-up on the field raises
  `EncryptedFieldLookupError`. Search through the keyed-hash columns (`lookup_hash`, `*_hash`).
"""

import hashlib
import hmac
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, In, Lookup

from yidi.core.crypto import (
    TOKEN_PREFIX,
    CryptoError,
    DecryptionError,
    get_field_cipher,
    is_token,
    self_test,
    uses_development_key,
)
from yidi.core.masking import PersonalKind, mask

_RAW = "personal_data_raw_value"


class EncryptedFieldLookupError(FieldError):
    """A query compared an encrypted column with a value; the message never contains the value."""


class PersonalDataField(models.TextField):
    """A text column holding personal data of one kind (ID number, phone, name, address), encrypted at rest.

    `encryption_context` pins the associated data when a model or field holding data is renamed
    (set it to the old `app_label.Model.field`); otherwise re-encrypt after the rename.
    """

    def __init__(
        self, *args, kind: PersonalKind | str = PersonalKind.ADDRESS, encryption_context: str = "", **kwargs
    ):
        self.personal_kind = PersonalKind(kind)
        self.encryption_context = encryption_context
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = str(self.personal_kind)
        if self.encryption_context:
            kwargs["encryption_context"] = self.encryption_context
        return name, path, args, kwargs

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    @property
    def context(self) -> bytes:
        return (self.encryption_context or self.label).encode("utf-8")

    def masked(self, value: str) -> str:
        return mask(value, self.personal_kind)

    def get_db_prep_save(self, value, connection):
        value = super().get_db_prep_save(value, connection)
        if isinstance(value, str) and value:
            return get_field_cipher().encrypt(value, context=self.context)
        return value

    def from_db_value(self, value, expression, connection):
        return self.decode_stored(value)

    def decode_stored(self, value: str | None) -> str | None:
        """The clear value of a stored value: decrypted, or legacy clear text as is."""
        if not value or not is_token(value):
            return value
        return get_field_cipher().decrypt(value, context=self.context)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "exact":
            return EmptyOnlyExact
        if lookup_name == "in":
            return EmptyOnlyIn
        if super().get_lookup(lookup_name) is None:
            return None
        return type(f"Refused{lookup_name.title()}", (RefusedLookup,), {"lookup_name": lookup_name})

    def get_transform(self, lookup_name):
        return None


def _lookup_error(field: PersonalDataField, lookup_name: str) -> EncryptedFieldLookupError:
    model = field.model
    hash_name = f"{field.name}_hash"
    has_hash = any(f.name == hash_name for f in model._meta.get_fields())
    how = (
        f"look it up through its keyed hash: "
        f'{model.__name__}.objects.filter({hash_name}=lookup_hash(value, purpose="{field.name}"))'
        if has_hash
        else f"it has no keyed-hash column; add `{hash_name}` (see yidi.core.personal.lookup_hash) to search it"
    )
    return EncryptedFieldLookupError(
        f"{field.label} is encrypted at rest, so the database cannot evaluate `{field.name}__{lookup_name}`: "
        f'{how}. Only `{field.name}=""` (no value) and `{field.name}__isnull` are allowed.'
    )


class EmptyOnlyExact(Exact):
    def get_prep_lookup(self):
        if self.rhs is not None and self.rhs != "":
            raise _lookup_error(self.lhs.output_field, "exact")
        return super().get_prep_lookup()


class EmptyOnlyIn(In):
    def get_prep_lookup(self):
        if isinstance(self.rhs, str | bytes) or not all(value == "" for value in _iterable(self.rhs)):
            raise _lookup_error(self.lhs.output_field, "in")
        return super().get_prep_lookup()


def _iterable(value):
    try:
        return list(value)
    except TypeError:
        return [value]


class RefusedLookup(Lookup):
    def __init__(self, lhs, rhs):
        raise _lookup_error(lhs.output_field, self.lookup_name)


def normalise_identifier(value: str) -> str:
    return "".join(value.split()).upper()


def lookup_hash(value: str, *, purpose: str) -> str:
    """A keyed hash (HMAC-SHA256) of an identifier, so that look-ups never need the clear value.

    `purpose` separates hash spaces: the same phone hashed for `phone` and for `name_phone`
    gives unrelated values.
    """
    if not value:
        return ""
    key = settings.PERSONAL_DATA_HASH_KEY.encode()
    message = f"{purpose}:{normalise_identifier(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# --- rotation -----------------------------------------------------------------------------------------


def list_personal_data_fields() -> list[PersonalDataField]:
    """Every `PersonalDataField` stored in a table (each column once, also under multi-table inheritance)."""
    return [
        f
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed
        for f in model._meta.local_concrete_fields
        if isinstance(f, PersonalDataField)
    ]


@dataclass
class RotationReport:
    """Counts for one column. `stale` = encrypted under another key or algorithm than the active one."""

    label: str
    values: int = 0
    current: int = 0
    clear_text: int = 0
    rewritten: int = 0
    failed_ids: list = field(default_factory=list)

    @property
    def stale(self) -> int:
        return self.values - self.current - self.clear_text

    @property
    def pending(self) -> int:
        return self.values - self.current


def do_rotate_field_keys(*, batch_size: int = 500, dry_run: bool = False) -> list[RotationReport]:
    """Re-encrypt every personal-data value that is not under the active key and algorithm.

    - Legacy clear text is encrypted; values already under the active key are not touched (idempotent).
    - Each batch is one transaction; a value edited while the command runs is left to the edit.
    - A value that cannot be decrypted is left as is and its row id reported; the other rows go on.
    - `dry_run` only counts.
    """
    current = get_field_cipher().active_header
    reports = []
    for personal_field in list_personal_data_fields():
        rows = (
            personal_field.model._base_manager.annotate(
                **{_RAW: Cast(personal_field.name, models.TextField())}
            )
            .filter(**{f"{_RAW}__isnull": False})
            .exclude(**{_RAW: ""})
        )
        report = RotationReport(
            label=personal_field.label,
            values=rows.count(),
            current=rows.filter(**{f"{_RAW}__startswith": current}).count(),
            clear_text=rows.exclude(**{f"{_RAW}__startswith": TOKEN_PREFIX}).count(),
        )
        if not dry_run and report.pending:
            _rewrite(personal_field, rows.exclude(**{f"{_RAW}__startswith": current}), report, batch_size)
        reports.append(report)
    if not dry_run:
        _audit_rotation(reports)
    return reports


def _audit_rotation(reports: list[RotationReport]) -> None:
    """One audit row per run (the key id and counts, never key material)."""
    from yidi.audit.actions import record
    from yidi.audit.models import AuditOutcome

    cipher = get_field_cipher()
    failed = sum(len(report.failed_ids) for report in reports)
    record(
        actor=None, action="crypto.rotate_field_keys", object_type="field_keys", object_id=cipher.keys.active_key_id(),
        outcome=AuditOutcome.FAILED if failed else AuditOutcome.SUCCESS,
        data={"provider": cipher.provider, "rewritten": sum(report.rewritten for report in reports), "failed": failed,
              "columns": {report.label: report.rewritten for report in reports if report.rewritten}},
    )


def _rewrite(personal_field: PersonalDataField, pending, report: RotationReport, batch_size: int) -> None:
    """Rewrite the `pending` rows in primary-key order, one transaction per batch.

    The UPDATE matches a row only while it still holds the value that was read (compare-and-swap), so a
    value edited meanwhile is never overwritten; that edit was already written under the active key.
    """
    model = personal_field.model
    database = router.db_for_write(model)
    quote = connections[database].ops.quote_name
    table, column, pk_column = model._meta.db_table, personal_field.column, model._meta.pk.column
    update = (  # identifiers come from the model's metadata, values are parameters
        f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk_column)} = %s AND {quote(column)} = %s"  # noqa: S608
    )
    cipher = get_field_cipher()
    last_pk = None
    while True:
        batch_rows = pending if last_pk is None else pending.filter(pk__gt=last_pk)
        batch = list(batch_rows.using(database).order_by("pk").values_list("pk", _RAW)[:batch_size])
        if not batch:
            return
        rows = []
        for pk, raw in batch:
            try:
                clear = personal_field.decode_stored(raw) or ""
                rows.append((cipher.encrypt(clear, context=personal_field.context), pk, raw))
            except DecryptionError:
                report.failed_ids.append(pk)
        if rows:
            with transaction.atomic(using=database), connections[database].cursor() as cursor:
                cursor.executemany(update, rows)
                report.rewritten += cursor.rowcount
        last_pk = batch[-1][0]


# --- system checks ------------------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_field_cipher(app_configs=None, **kwargs):
    """The configured algorithm passes its known-answer self-test (CRY-06); fail closed otherwise."""
    provider = getattr(settings, "FIELD_CIPHER", "aes-gcm")
    try:
        self_test(provider)
        get_field_cipher()
    except CryptoError as error:
        return [checks.Error(f"Field encryption is not usable: {error}", id="core.E101")]
    except (ImproperlyConfigured, ImportError) as error:
        return [checks.Error(f"Field encryption is misconfigured: {error}", id="core.E102")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_field_encryption_keys(app_configs=None, **kwargs):
    if uses_development_key():
        return [
            checks.Warning(
                "Personal data is encrypted under the development key derived from SECRET_KEY.",
                hint="Set YIDI_FIELD_KEYS (or YIDI_FIELD_KEYS_FILE); see docs/crypto.md.",
                id="core.W101",
            )
        ]
    return []
