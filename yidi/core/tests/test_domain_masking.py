import pytest
from hypothesis import given
from hypothesis import strategies as st

from yidi.core.identifiers import is_valid_credit_code, is_valid_id_number, is_valid_phone
from yidi.core.masking import mask


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("110101199003071234", "id_number", "110***********1234"),
        ("33068119800315001X", "id_number", "330***********001X"),
        ("330681800315001", "id_number", "330********5001"),
        ("13805751234", "phone", "138****1234"),
        ("0575-87012345", "phone", "0575-****45"),
        ("张三", "name", "张*"),
        ("张三丰", "name", "张**"),
        ("欧阳修文", "name", "欧阳**"),
        ("诸暨市枫桥镇枫源村3组18号", "address", "诸暨市枫桥镇***"),
        ("浙江省诸暨市暨阳街道江东社区5幢", "address", "浙江省诸暨市暨阳街道***"),
        ("某小区5幢2单元", "address", "某小区5幢2***"),
        ("", "phone", ""),
    ],
)
def test_masking_shows_only_what_the_rule_allows(value, kind, expected):
    assert mask(value, kind) == expected


@given(st.from_regex(r"\A\d{17}[\dX]\Z"))
def test_a_masked_id_number_keeps_length_and_hides_the_birth_date(value):
    masked = mask(value, "id_number")
    assert len(masked) == 18 and masked[3:14] == "*" * 11 and masked[-4:] == value[-4:]


@given(st.from_regex(r"\A1[3-9]\d{9}\Z"))
def test_masking_a_phone_twice_changes_nothing_more(value):
    once = mask(value, "phone")
    assert once == value[:3] + "****" + value[-4:]
    assert mask(once, "address") == mask(mask(once, "address"), "address")


def test_an_id_number_needs_its_check_character():
    assert is_valid_id_number("330681198003150017")
    assert not is_valid_id_number("330681198003150014")
    assert not is_valid_id_number("33068119800315001")


def test_phones_are_mobiles_or_landlines_with_area_code():
    assert is_valid_phone("13805751234") and is_valid_phone("0575-87012345")
    assert not is_valid_phone("12345") and not is_valid_phone("23805751234")


def test_credit_codes_have_the_published_shape():
    assert is_valid_credit_code("91330681MA2BXXXX1K".replace("X", "0"))
    assert not is_valid_credit_code("1234")


def test_numbers_typed_into_free_text_are_masked_and_nothing_else_changes():
    from yidi.core.masking import mask_in_text

    text = ("申请人张三（身份证330681199003154418，电话13805751234）称：2026年3月赔偿3000元，"
            "订单号 A13805751234，工单 12345678901234567，错一位的 330681199003154417，编码 330681-2026-000123。")
    assert mask_in_text(text) == (
        "申请人张三（身份证330***********4418，电话138****1234）称：2026年3月赔偿3000元，"
        "订单号 A13805751234，工单 12345678901234567，错一位的 330***********4417，编码 330681-2026-000123。"
    )
    assert mask_in_text(mask_in_text(text)) == mask_in_text(text)
    assert mask_in_text("") == "" and mask_in_text(None) == ""
