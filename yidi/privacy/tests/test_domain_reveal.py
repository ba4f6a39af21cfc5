"""Who may reveal a full value, the reason rule and the hourly limit (pure rules, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from yidi.accounts.domain import Role
from yidi.privacy.domain import (
    Denial,
    InvalidReason,
    RevealBasis,
    RevealDecision,
    clean_reason,
    decide_reveal,
    next_reveal_at,
)

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "assigned", "expected"),
    [
        (Role.DISPATCHER, False, RevealDecision(True, Role.DISPATCHER, RevealBasis.READ_SCOPE)),
        (Role.LEADER, False, RevealDecision(True, Role.LEADER, RevealBasis.READ_SCOPE)),
        (Role.REGISTRAR, False, RevealDecision(True, Role.REGISTRAR, RevealBasis.READ_SCOPE)),
        (Role.HANDLER, True, RevealDecision(True, Role.HANDLER, RevealBasis.ASSIGNMENT)),
        (Role.HANDLER, False, RevealDecision(False, Role.HANDLER, RevealBasis.ASSIGNMENT, Denial.NOT_ASSIGNED)),
        (Role.MEDIATOR, True, RevealDecision(True, Role.MEDIATOR, RevealBasis.ASSIGNMENT)),
        (Role.MEDIATOR, False, RevealDecision(False, Role.MEDIATOR, RevealBasis.ASSIGNMENT, Denial.NOT_ASSIGNED)),
        (Role.SUPERVISOR, True, RevealDecision(False, denial=Denial.ROLE)),
        (Role.GRID_WORKER, True, RevealDecision(False, denial=Denial.ROLE)),
        (Role.CITIZEN, True, RevealDecision(False, denial=Denial.ROLE)),
        (Role.AUDITOR, True, RevealDecision(False, denial=Denial.ROLE)),
        (Role.SECURITY_ADMIN, True, RevealDecision(False, denial=Denial.ROLE)),
        (Role.SYSTEM_ADMIN, True, RevealDecision(False, denial=Denial.ROLE)),
    ],
)
def test_each_role_reveals_on_its_basis_or_never(role, assigned, expected):
    assert decide_reveal(frozenset({role}), unit_is_assigned=assigned) == expected


def test_a_dispatcher_who_is_also_a_handler_reveals_by_region_scope_without_an_assignment():
    decision = decide_reveal(frozenset({Role.HANDLER, Role.DISPATCHER}), unit_is_assigned=False)

    assert decision == RevealDecision(True, Role.DISPATCHER, RevealBasis.READ_SCOPE)


def test_an_admin_role_never_reveals_even_beside_a_business_role():
    decision = decide_reveal(frozenset({Role.AUDITOR, Role.DISPATCHER}), unit_is_assigned=True)

    assert decision == RevealDecision(False, denial=Denial.ROLE)


@pytest.mark.parametrize("reason", ["", "   ", "核实", "核实身\n"])
def test_a_reason_shorter_than_four_characters_is_refused_in_chinese(reason):
    with pytest.raises(InvalidReason, match=r"^请填写查看理由（至少 4 个字），说明为何需要完整信息$"):
        clean_reason(reason)


def test_a_reason_is_stripped_and_its_whitespace_collapsed():
    assert clean_reason("  电话回访\n 核实调解协议履行情况 ") == "电话回访 核实调解协议履行情况"


def test_a_reason_longer_than_five_hundred_characters_is_refused():
    with pytest.raises(InvalidReason, match=r"^导出理由不能超过 500 个字$"):
        clean_reason("理" * 501, purpose="导出")


def test_reveals_below_the_limit_are_allowed_now():
    recent = [NOW - timedelta(minutes=minutes) for minutes in (50, 30, 10)]

    assert next_reveal_at(recent, now=NOW, limit=4) is None


def test_at_the_limit_the_next_reveal_waits_until_the_oldest_leaves_the_hour():
    recent = [NOW - timedelta(minutes=minutes) for minutes in (50, 30, 10)]

    assert next_reveal_at(recent, now=NOW, limit=3) == NOW + timedelta(minutes=10)
    assert next_reveal_at(recent, now=NOW, limit=2) == NOW + timedelta(minutes=30)


def test_reveals_older_than_an_hour_do_not_count():
    recent = [NOW - timedelta(minutes=90), NOW - timedelta(minutes=60), NOW - timedelta(minutes=5)]

    assert next_reveal_at(recent, now=NOW, limit=2) is None
