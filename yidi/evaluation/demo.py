"""The demo's return visits: the seed closes matters over a whole year, and the rules schedule a visit for each;
the visits that fell due more than a few days before the demo's day are recorded the way a unit would have
(by phone, through the real action), so the worklist shows today's work, not a year of backlog. Two of them
found remaining risk, so the dispatchers' risk list has something to show."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from yidi.accounts.models import User
from yidi.core import clock
from yidi.evaluation import actions
from yidi.evaluation.domain import Lawsuit, Performance, Satisfaction, VisitMethod
from yidi.evaluation.models import ReturnVisit, VisitStatus
from yidi.evaluation.queries import RECORD_ROLES

KEEP_OPEN_DAYS = 5  # visits due within this many days of the demo's day stay on the worklist
RISK_SIGNS = "对方仍未履行，申请人情绪激动，扬言要到镇政府门口拉横幅"


def build(*, until) -> dict:
    visitors: dict[int, User | None] = {}
    recorded = risky = 0
    due = ReturnVisit.objects.filter(  # the follow-ups of the risky ones stay open: the risk list's work
        status=VisitStatus.SCHEDULED, due_on__lt=until - timedelta(days=KEEP_OPEN_DAYS), follow_up_of__isnull=True)
    for visit in due.select_related("case").order_by("due_on", "id"):
        if visit.unit_id not in visitors:
            visitors[visit.unit_id] = (
                User.objects.filter(unit_id=visit.unit_id, is_active=True, roles__role__in=RECORD_ROLES)
                .order_by("id").first()
            )
        # a unit with no account in the demo: the centre's window calls back for it
        visitor = visitors[visit.unit_id] or User.objects.filter(username="registrar").first()
        if visitor is None:
            continue
        with_risk = risky < 2 and visit.case.outcome == "written_agreement"
        agreement = visit.case.outcome in ("written_agreement", "oral_agreement")
        with clock.at(timezone.make_aware(datetime.combine(visit.due_on, time(10, 30)))):
            actions.do_record_return_visit(
                visit.pk, actor=visitor, method=VisitMethod.PHONE,
                summary="电话回访申请人，了解办理结果落实情况" if not with_risk else "电话回访申请人，协议尚未履行完毕",
                performance=(Performance.PARTIAL if with_risk else Performance.FULL) if agreement
                else Performance.NOT_APPLICABLE,
                satisfaction=Satisfaction.NOT_STATED, lawsuit=Lawsuit.NONE,
                risk_remaining=with_risk, risk_signs=RISK_SIGNS if with_risk else "",
                measures="已约谈被申请人，督促其在一周内履行" if with_risk else "",
            )
        recorded += 1
        risky += with_risk
    return {"recorded": recorded, "risky": risky}
