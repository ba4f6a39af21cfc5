"""Grid personas: a grid worker of 枫源村 (village committee), one of 暨阳街道, and the clerk of 枫源村's committee."""

import pytest

from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.cases.builders import make_user


@pytest.fixture
def grid_worker(db):
    return make_user("grid", Role.GRID_WORKER, unit=Unit.objects.get(code="fy-committee"), name="冯网格")


@pytest.fixture
def far_grid_worker(db):
    return make_user("grid-jy", Role.GRID_WORKER, unit=Unit.objects.get(code="jy-platform"), name="蒋网格")


@pytest.fixture
def village_clerk(db):
    return make_user("village-clerk", Role.REGISTRAR, unit=Unit.objects.get(code="fy-committee"), name="韩村干")
