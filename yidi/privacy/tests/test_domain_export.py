"""Export approval rules: states, who approves, downloads, expiry (pure rules, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from yidi.accounts.domain import Role
from yidi.privacy.domain import (
    Denial,
    ExportState,
    approval_denial,
    download_denial,
    export_expires_at,
    export_state,
)

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "expires_at", "downloads", "expected"),
    [
        ("pending", None, 0, ExportState.PENDING),
        ("refused", None, 0, ExportState.REFUSED),
        ("approved", LATER, 0, ExportState.READY),
        ("approved", LATER, 2, ExportState.READY),
        ("approved", LATER, 3, ExportState.USED_UP),
        ("approved", NOW, 0, ExportState.EXPIRED),
        ("approved", NOW - timedelta(seconds=1), 3, ExportState.EXPIRED),
    ],
)
def test_the_state_follows_status_expiry_and_downloads(status, expires_at, downloads, expected):
    assert export_state(status, expires_at=expires_at, download_count=downloads, max_downloads=3, now=NOW) == expected


def test_the_requester_never_approves_their_own_request_even_as_a_dispatcher():
    denial = approval_denial(approver_id=7, requester_id=7, approver_roles=frozenset({Role.DISPATCHER}),
                             status="pending")

    assert denial is Denial.SELF_APPROVAL


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.DISPATCHER, None),
        (Role.LEADER, None),
        (Role.SUPERVISOR, None),
        (Role.REGISTRAR, Denial.ROLE),
        (Role.HANDLER, Denial.ROLE),
        (Role.MEDIATOR, Denial.ROLE),
        (Role.GRID_WORKER, Denial.ROLE),
        (Role.AUDITOR, Denial.ROLE),
        (Role.SECURITY_ADMIN, Denial.ROLE),
    ],
)
def test_only_dispatchers_leaders_and_supervisors_approve(role, expected):
    assert approval_denial(approver_id=8, requester_id=7, approver_roles=frozenset({role}), status="pending") is expected


@pytest.mark.parametrize("status", ["approved", "refused"])
def test_a_decided_request_is_not_decided_again(status):
    denial = approval_denial(approver_id=8, requester_id=7, approver_roles=frozenset({Role.LEADER}), status=status)

    assert denial is Denial.NOT_PENDING


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (ExportState.READY, None),
        (ExportState.PENDING, Denial.NOT_APPROVED),
        (ExportState.REFUSED, Denial.NOT_APPROVED),
        (ExportState.EXPIRED, Denial.EXPIRED),
        (ExportState.USED_UP, Denial.USED_UP),
    ],
)
def test_only_a_ready_export_is_downloaded(state, expected):
    assert download_denial(state) is expected


def test_an_approved_export_expires_the_configured_hours_after_approval():
    assert export_expires_at(NOW, valid_hours=24) == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
