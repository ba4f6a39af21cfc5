"""Masking of personal data for display: one function, used by every page, export and API response.

Rules (security-requirements.md §5, PI-03):
- 18-digit ID number: first 3 + 11 `*` + last 4 (`110***********1234`); 15-digit: first 3 + 8 `*` + last 4.
- Mobile (11 digits): first 3 + `****` + last 4 (`138****1234`); landline: area code + `****` + last 2.
- Name: surname + one `*` per remaining character; two-character compound surnames keep both.
- Address: cut after the township/street (乡/镇/街道) + `***`; without one, the first 6 characters + `***`.
- The output never contains more of the value than the rule shows, and masking a masked value changes nothing.
"""

import re
from enum import StrEnum


class PersonalKind(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"


COMPOUND_SURNAMES = frozenset(
    ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里"]
)
_TOWNSHIP_END = re.compile(r"^.*?(?:街道|镇|乡)")
_MOBILE = re.compile(r"^1\d{10}$")


def mask(value: str | None, kind: PersonalKind | str) -> str:
    if not value:
        return ""
    kind = PersonalKind(kind)
    if kind is PersonalKind.ID_NUMBER:
        return _mask_middle(value, keep_start=3, keep_end=4)
    if kind is PersonalKind.PHONE:
        return _mask_phone(value)
    if kind is PersonalKind.NAME:
        return _mask_name(value)
    return _mask_address(value)


def _mask_middle(value: str, *, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def _mask_phone(value: str) -> str:
    digits = value.replace(" ", "").replace("-", "")
    if _MOBILE.match(digits):
        return digits[:3] + "****" + digits[-4:]
    if "-" in value:  # landline with area code: 0575-87012345
        area, _, rest = value.partition("-")
        return f"{area}-****{rest[-2:]}" if len(rest) > 2 else f"{area}-****"
    return _mask_middle(digits, keep_start=3, keep_end=4 if len(digits) > 8 else 2)


def _mask_name(value: str) -> str:
    keep = 2 if value[:2] in COMPOUND_SURNAMES and len(value) > 2 else 1
    return value[:keep] + "*" * (len(value) - keep)


def _mask_address(value: str) -> str:
    if value.endswith("***"):
        return value
    match = _TOWNSHIP_END.match(value)
    head = match.group(0) if match else value[:6]
    return head + "***"


# Free text (a description, a record of a session, a reason) may carry numbers typed by staff: on display
# every ID-number-shaped token (18 characters with a birth date in the middle; a mistyped check character
# is still somebody's number) and every mobile number standing alone is masked too.
_ID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)
MOBILE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def mask_in_text(text: str | None) -> str:
    """`text` with every ID number and mobile number in it masked by the same rules as the fields."""
    if not text:
        return ""
    text = _ID_IN_TEXT.sub(lambda m: mask(m.group(), PersonalKind.ID_NUMBER), text)
    return MOBILE_IN_TEXT.sub(lambda m: mask(m.group(), PersonalKind.PHONE), text)
