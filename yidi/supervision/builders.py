"""Deterministic builders for risk scenarios, shared by the tests and the demo seed (everything through the
real registration action)."""

from datetime import datetime

from yidi.cases.builders import make_case, make_party
from yidi.core import clock

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643
_ID_CHECK = "10X98765432"


def id_number(serial: int, *, region: str = "330681", born: str = "19800101") -> str:
    """A valid 18-character resident ID number (GB 11643 check character) for person number `serial`."""
    body = f"{region}{born}{serial % 1000:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def worker(serial: int, *, surname: str = "陈") -> object:
    """The applicant number `serial`: a distinct person (own ID number and phone)."""
    return make_party(name=f"{surname}{'一二三四五六七八九十'[serial % 10]}{'甲乙丙丁戊己庚辛壬癸'[serial // 10 % 10]}",
                      id_number=id_number(serial), phone=f"1380575{serial:04d}", address="诸暨市枫桥镇")


def company(name: str = "诸暨市枫华建筑工程有限公司", credit_code: str = "91330681MA2BCDEF1X") -> object:
    return make_party("respondent", kind="organisation", name=name, id_number="", phone="", address="",
                      credit_code=credit_code)


def register_at(actor, at: datetime, **overrides):
    """A matter registered at `at` (the clock is set for the action); `make_draft` fields may be overridden."""
    with clock.at(at):
        return make_case(actor, **overrides)
