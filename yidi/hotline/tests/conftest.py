from datetime import datetime

import pytest
import time_machine

from yidi.hotline.domain import SHANGHAI

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)  # far from the Spring Festival: triage's festival rule is off


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW
