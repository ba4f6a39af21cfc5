"""Fixtures for the privacy tests: more personas, the retention rules, matters assigned or archived long ago.

Personas beyond the root conftest: leader and a second dispatcher at the county centre, a dispatcher of the
枫桥镇 township centre and one of the 暨阳街道 platform, a grid worker in 枫源村, the auditor.
"""

import importlib
from datetime import datetime

import pytest
from django.apps import apps

from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.cases import actions as case_actions
from yidi.cases.builders import advance_case, make_case, make_user
from yidi.cases.domain import CaseStatus
from yidi.core import clock

seed_retention_rules = importlib.import_module("yidi.privacy.migrations.0002_seed_retention_rules").seed


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    """Never the real checkpoint folder: the test database's audit chain is not the dev database's."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture
def retention_rules(db):
    """The seeded rules (put back if a flush emptied the table)."""
    seed_retention_rules(apps, None)
    return {rule.record_type: rule for rule in apps.get_model("privacy", "RetentionRule").objects.all()}


def _unit(code):
    return Unit.objects.get(code=code)


@pytest.fixture
def leader(db):
    return make_user("leader", Role.LEADER, unit=_unit("centre"), name="王领导")


@pytest.fixture
def second_dispatcher(db):
    return make_user("dispatcher2", Role.DISPATCHER, unit=_unit("command"), name="冯调度")


@pytest.fixture
def township_dispatcher(db):
    return make_user("fq-dispatcher", Role.DISPATCHER, unit=_unit("fq-centre"), name="褚镇调度")


@pytest.fixture
def other_township_dispatcher(db):
    return make_user("jy-dispatcher", Role.DISPATCHER, unit=_unit("jy-platform"), name="卫街道调度")


@pytest.fixture
def grid_worker(db):
    return make_user("grid", Role.GRID_WORKER, unit=_unit("fy-committee"), name="蒋网格")


@pytest.fixture
def auditor(db):
    return make_user("auditor", Role.AUDITOR, name="沈审计")


@pytest.fixture
def case(registrar):
    """A neighbour dispute in 枫源村 (枫桥镇), registered at the centre; parties 陈建国 and 王志强."""
    return make_case(registrar)


@pytest.fixture
def assigned_case(case, dispatcher, handler, fq_platform):
    """The matter accepted and assigned to the 枫桥镇 platform (the handler's unit), not yet signed."""
    return advance_case(case, CaseStatus.ASSIGNED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)


def party_id(case, role="applicant"):
    return case.parties.get(role=role).pk


def archived_case(*, at: datetime, registrar, dispatcher, handler, lead_unit, **overrides):
    """A matter registered, handled, closed and archived at `at` (replayed through the real actions)."""
    with clock.at(at):
        case = make_case(registrar, **overrides)
        return advance_case(case, CaseStatus.ARCHIVED, dispatcher=dispatcher, handler=handler, lead_unit=lead_unit)


def declined_case(*, at: datetime, registrar, dispatcher, **overrides):
    with clock.at(at):
        case = make_case(registrar, **overrides)
        return case_actions.do_decline_case(case.code, actor=dispatcher, reason="不属于本中心受理范围",
                                            route_told="已告知当事人向人民法院起诉")
