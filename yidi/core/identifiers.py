"""Validation of Chinese personal identifiers (pure functions)."""

import re

_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def is_valid_id_number(value: str) -> bool:
    """An 18-character resident ID number whose GB 11643 check character is right."""
    value = value.upper()
    if not _ID18.match(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def is_valid_phone(value: str) -> bool:
    """A mainland mobile number (11 digits) or a landline with area code (0575-87012345)."""
    return bool(_MOBILE.match(value) or _LANDLINE.match(value))


def is_valid_credit_code(value: str) -> bool:
    """A unified social credit code (统一社会信用代码): shape only."""
    return bool(_CREDIT_CODE.match(value.upper()))
