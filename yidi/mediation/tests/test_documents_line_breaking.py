"""Line breaking of the PDF writer: CJK rules (避头尾), no broken numbers. Every character is one unit wide here."""

from yidi.mediation.documents.pdf_writer import wrap


def width(text: str) -> float:
    return float(len(text))


def test_cjk_text_breaks_between_any_two_characters():
    assert wrap("一二三四五六七", 3, width) == ["一二三", "四五六", "七"]


def test_closing_punctuation_never_starts_a_line():
    assert wrap("一二三，四五", 3, width) == ["一二", "三，四", "五"]


def test_opening_bracket_never_ends_a_line():
    assert wrap("一二（三）", 3, width) == ["一二", "（三）"]


def test_id_numbers_and_case_codes_are_not_broken():
    assert wrap("身份号码330681196803150016", 20, width) == ["身份号码", "330681196803150016"]
    assert wrap("编码330681-2026-000123", 19, width) == ["编码", "330681-2026-000123"]


def test_a_run_longer_than_a_line_is_broken_anywhere():
    assert wrap("1234567", 3, width) == ["123", "456", "7"]


def test_explicit_line_breaks_are_kept():
    assert wrap("一、甲\n二、乙", 10, width) == ["一、甲", "二、乙"]


def test_a_space_at_a_break_is_dropped():
    assert wrap("ab cd", 3, width) == ["ab", "cd"]
