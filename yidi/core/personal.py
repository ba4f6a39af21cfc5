"""Personal data at rest: the one field type and the keyed hash used for look-ups.

`PersonalDataField` stores ID numbers, phones and addresses. Encryption at rest is switched on here
and nowhere else (the security issue adds it in `from_db_value`/`get_prep_value`), so every model
that holds personal data gets it at once. Display always goes through `yidi.core.masking.mask`.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import models

from yidi.core.masking import PersonalKind, mask


class PersonalDataField(models.TextField):
    """A text column holding personal data of one kind (ID number, phone, name, address)."""

    def __init__(self, *args, kind: PersonalKind | str = PersonalKind.ADDRESS, **kwargs):
        self.personal_kind = PersonalKind(kind)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = str(self.personal_kind)
        return name, path, args, kwargs

    def masked(self, value: str) -> str:
        return mask(value, self.personal_kind)


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
