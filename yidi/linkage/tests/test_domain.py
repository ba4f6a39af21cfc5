import pytest

from yidi.linkage.domain import (
    LinkageError,
    MessageType,
    belongs_to,
    idempotency_key,
    is_newer,
    is_reported_step,
    parse_key,
    parse_month,
)


def test_a_key_names_its_peer_type_and_step_and_parses_back():
    key = idempotency_key(7, MessageType.CASE_REPORT, "330681-2026-000123", 4)

    assert key == "linkage:7:case.report:330681-2026-000123:4"
    parsed = parse_key(key)
    assert (parsed.peer_id, parsed.message_type, parsed.parts) == (7, MessageType.CASE_REPORT,
                                                                    ("330681-2026-000123", "4"))


@pytest.mark.parametrize("key", ["webhook:7:x", "linkage:x:case.report", "linkage:7:unknown:1", "linkage:7"])
def test_foreign_or_malformed_keys_do_not_parse(key):
    assert parse_key(key) is None


@pytest.mark.parametrize(("action", "before", "after", "reported"), [
    ("register", "", "registered", True),
    ("accept", "registered", "accepted", True),
    ("accept_transfer", "signed", "signed", True),
    ("set_labels", "accepted", "accepted", True),
    ("urge", "signed", "signed", False),
    ("add_contact", "in_progress", "in_progress", False),
])
def test_status_changes_and_a_few_side_steps_are_reported(action, before, after, reported):
    assert is_reported_step(action, before, after) is reported


def test_only_a_higher_version_replaces_the_mirror():
    assert is_newer(None, 1) and is_newer(3, 4)
    assert not is_newer(4, 4) and not is_newer(5, 4)


def test_a_matter_code_belongs_to_its_county_only():
    assert belongs_to("330681-2026-000001", "330681")
    assert not belongs_to("330602-2026-000001", "330681")
    assert not belongs_to("330681-2026-000001", "3306")


@pytest.mark.parametrize("value", ["2026-13", "2026-3", "26-03", ""])
def test_a_month_must_be_year_dash_month(value):
    with pytest.raises(LinkageError) as error:
        parse_month(value)
    assert error.value.code == "invalid_month"
    assert parse_month("2026-03") == (2026, 3)
