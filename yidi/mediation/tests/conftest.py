"""Fixtures of the mediation tests: the persona mediator's pool profile, a second mediator from another unit, and a
matter in hand by mediation at 枫源村 (lead unit: the persona mediator's committee)."""

import pytest

from yidi.accounts.domain import Role, UnitKind
from yidi.cases.builders import make_unit, make_user
from yidi.mediation.builders import make_mediator, make_room
from yidi.mediation.tests.helpers import matter_in_mediation

FENGQIAO = "330681109"


@pytest.fixture
def wu(mediator):
    """吴调解 of 枫源村人民调解委员会, in the pool: neighbour and family disputes, serving 枫源村."""
    return make_mediator(mediator, specialties=("neighbour", "marriage_family"))


@pytest.fixture
def room_unit(db):
    return make_unit("room-laoyang", kind=UnitKind.MEDIATION_ROOM, region_code=FENGQIAO, name="老杨调解室")


@pytest.fixture
def yang(room_unit):
    """杨光明 of 老杨调解室 (another unit, serving 枫桥镇): neighbour and property disputes."""
    user = make_user("yang", Role.MEDIATOR, unit=room_unit, name="杨光明")
    room = make_room("老杨调解室", unit=room_unit, specialties=("neighbour",))
    return make_mediator(user, specialties=("neighbour", "housing_homestead"), grade="chief", room=room)


@pytest.fixture
def in_mediation(registrar, dispatcher, mediator):
    """A neighbour dispute of 枫源村 in hand by mediation, led by 枫源村人民调解委员会."""
    return matter_in_mediation(registrar, dispatcher, mediator)
