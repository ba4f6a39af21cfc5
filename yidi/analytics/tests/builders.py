"""Hand-built matters at chosen instants, through the real actions (time fixed with time-machine)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from yidi.cases import actions
from yidi.cases.builders import make_case
from yidi.cases.domain import Evaluation, HandlingMode, Outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def on(when: datetime, step):
    with time_machine.travel(when, tick=False):
        return step()


def register(registrar, when: datetime, **overrides):
    return on(when, lambda: make_case(registrar, **overrides))


def accept(case, dispatcher, when):
    return on(when, lambda: actions.do_accept_case(case.code, actor=dispatcher))


def assign(case, dispatcher, unit, when):
    return on(when, lambda: actions.do_assign_case(case.code, actor=dispatcher, lead_unit_code=unit.code,
                                                   override_reason="由调度员指定"))


def sign(case, handler, when):
    return on(when, lambda: actions.do_sign_case(case.code, actor=handler))


def start(case, handler, when, mode=HandlingMode.MEDIATION):
    return on(when, lambda: actions.do_start_handling(case.code, actor=handler, mode=mode))


def conclude(case, handler, when, outcome=Outcome.WRITTEN_AGREEMENT):
    return on(when, lambda: actions.do_conclude_case(case.code, actor=handler, outcome=outcome))


def evaluate(case, dispatcher, when, evaluation=Evaluation.SATISFIED, note=""):
    return on(when, lambda: actions.do_evaluate_case(case.code, actor=dispatcher, evaluation=evaluation, note=note))


def close(case, dispatcher, when):
    return on(when, lambda: actions.do_close_case(case.code, actor=dispatcher))


def handled(registrar, dispatcher, handler, unit, *, registered, accepted, signed, concluded, closed=None,
            outcome=Outcome.WRITTEN_AGREEMENT, mode=HandlingMode.MEDIATION, **overrides):
    """A matter registered, accepted and assigned, signed, handled and concluded (and closed) at those instants."""
    case = register(registrar, registered, **overrides)
    accept(case, dispatcher, accepted)
    assign(case, dispatcher, unit, accepted)
    sign(case, handler, signed)
    start(case, handler, signed, mode)
    case = conclude(case, handler, concluded, outcome)
    if closed is not None:
        case = close(case, dispatcher, closed)
    return case
