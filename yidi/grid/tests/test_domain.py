"""The grid pages' pure rules: reading a typed or scanned code, and who works on the grid pages."""

import pytest

from yidi.accounts.domain import Role
from yidi.grid.domain import is_grid_user, normalise_case_code


@pytest.mark.parametrize("typed", [
    "330681-2026-000123",
    " 330681 - 2026 - 000123 ",
    "３３０６８１－２０２６－０００１２３",
    "3306812026000123",
    "330681—2026—000123",
    "330681_2026_000123",
    "https://yidi.example.cn/p/track/330681-2026-000123?from=qr",
    "事项编码：330681-2026-000123",
])
def test_a_code_typed_or_scanned_in_any_usual_form_reads_as_the_stored_code(typed):
    assert normalise_case_code(typed) == "330681-2026-000123"


@pytest.mark.parametrize("typed", ["", "   ", "330681-2026-12", "33068120260001234", "abc", "330681-26-000123"])
def test_text_without_a_whole_code_reads_as_no_code(typed):
    assert normalise_case_code(typed) == ""


@pytest.mark.parametrize(("roles", "unit_kind", "expected"), [
    ({Role.GRID_WORKER}, "village_committee", True),
    ({Role.GRID_WORKER}, "township_platform", True),
    ({Role.REGISTRAR}, "village_committee", True),
    ({Role.REGISTRAR}, "centre", False),
    ({Role.HANDLER}, "village_committee", False),
    ({Role.CITIZEN}, "", False),
])
def test_grid_pages_are_for_grid_workers_and_village_committee_clerks(roles, unit_kind, expected):
    assert is_grid_user(frozenset(roles), unit_kind) is expected
