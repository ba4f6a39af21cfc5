"""Retention cut-offs and the redaction of free text (pure rules, no database)."""

from datetime import UTC, datetime

from yidi.privacy.domain import DEFAULT_RETENTION_YEARS, RecordType, redact_text, retention_cutoff


def test_the_cutoff_is_the_same_moment_the_given_number_of_calendar_years_earlier():
    assert retention_cutoff(datetime(2026, 11, 28, 2, 30, tzinfo=UTC), 10) == datetime(2016, 11, 28, 2, 30, tzinfo=UTC)


def test_from_29_february_the_cutoff_is_28_february():
    assert retention_cutoff(datetime(2028, 2, 29, 8, 0, tzinfo=UTC), 3) == datetime(2025, 2, 28, 8, 0, tzinfo=UTC)


def test_the_proposed_defaults_are_ten_years_for_archived_and_three_for_not_accepted_matters():
    assert DEFAULT_RETENTION_YEARS == {RecordType.ARCHIVED_CASE: 10, RecordType.NOT_ACCEPTED_CASE: 3}


def test_names_id_numbers_and_phones_in_free_text_are_masked():
    text = "陈建国（330681198003150017，13805751234）与欧阳明华、王志强达成协议；座机0575-87012345。"

    redacted = redact_text(text, ["陈建国", "欧阳明华", "王志强"])

    assert redacted == "陈**（330***********0017，138****1234）与欧阳**、王**达成协议；座机0575-****45。"


def test_redacting_twice_changes_nothing_more():
    once = redact_text("回访陈建国，电话13805751234", ["陈建国"])

    assert redact_text(once, ["陈建国", "陈**"]) == once == "回访陈**，电话138****1234"


def test_one_character_names_and_unrelated_numbers_are_left_alone():
    assert redact_text("王反映金额3000元，编号330681-2026-000123", ["王"]) == "王反映金额3000元，编号330681-2026-000123"
