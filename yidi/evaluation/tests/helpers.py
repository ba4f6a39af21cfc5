"""Builders and assertions shared by the evaluation tests (matters driven through the real actions)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from yidi.accounts.models import Unit
from yidi.cases.builders import advance_case, make_case
from yidi.cases.domain import CaseStatus, HandlingMode, Outcome
from yidi.cases.models import Case, CaseEvent
from yidi.cases.tests.helpers import snapshot
from yidi.core import clock
from yidi.evaluation.models import Evaluation, ReturnVisit

SH = ZoneInfo("Asia/Shanghai")
NOTIFY_EVENTS = ("notify_sent", "notify_failed")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def hotline_matter(registrar, dispatcher, handler, *, status=CaseStatus.CLOSED, when: datetime) -> Case:
    """A 12345 hotline matter of 枫源村 handled by the 枫桥镇 platform, driven to `status` at `when`."""
    with clock.at(when):
        case = make_case(registrar, channel_code="hotline_12345", external_ref="12345-20260430-0001")
        return advance_case(case, status, dispatcher=dispatcher, handler=handler,
                            lead_unit=Unit.objects.get(code="fq-platform"), mode=HandlingMode.ADMINISTRATIVE,
                            outcome=Outcome.OPINION_SUPPORT)


def timeline(case: Case) -> list[tuple]:
    """(seq, action, actor name) of the matter's events, without the notification app's delivery rows."""
    return list(CaseEvent.objects.filter(case=case).exclude(action__in=NOTIFY_EVENTS).order_by("seq")
                .values_list("seq", "action", "actor_name"))


def assert_consecutive(case: Case) -> None:
    case.refresh_from_db()
    seqs = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert case.version == seqs[-1]


def full_snapshot(case: Case) -> dict:
    """Everything an evaluation or visit action may change, to prove that a refused one changed nothing."""
    return {
        **snapshot(case),
        "evaluations": sorted(Evaluation.objects.filter(case=case).values_list()),
        "visits": sorted(ReturnVisit.objects.filter(case=case).values_list()),
    }


def swap_visit(case: Case) -> ReturnVisit:
    """A scheduled return visit of `case`, for the object-swap registry (`yidi.security.tests`): a bare row, since
    that fixture's matter is not closed; the same one on every call."""
    visit, _ = ReturnVisit.objects.get_or_create(
        case=case, rule=None, round=1, follow_up_of=None,
        defaults={"due_on": clock.now().date(), "unit_id": case.lead_unit_id, "region_id": case.region_id,
                  "scheduled_at": clock.now()},
    )
    return visit
