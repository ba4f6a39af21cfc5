"""Deterministic builders shared by the tests and the demo seeder: the mediator pool, and a matter driven through
the real mediation actions to any step of a mediation."""

from datetime import date, timedelta
from decimal import Decimal

from yidi.accounts.models import Unit, User
from yidi.cases.models import Case, CaseParty
from yidi.core import clock
from yidi.core.deadlines import local_date
from yidi.core.models import TaxonomyLabel
from yidi.mediation import actions
from yidi.mediation.actions import AgreementInput, SessionInput
from yidi.mediation.domain import MediationStatus
from yidi.mediation.models import Mediation, MediationRoom, Mediator
from yidi.regions.models import Region


def make_room(name: str, *, unit: Unit, specialties=(), address: str = "", introduction: str = "") -> MediationRoom:
    room, _ = MediationRoom.objects.get_or_create(name=name, defaults={
        "unit": unit, "address": address, "introduction": introduction})
    room.specialties.set(TaxonomyLabel.objects.filter(taxonomy__code="mediation_type", code__in=specialties))
    return room


def make_mediator(
    user: User, *, specialties=("neighbour",), region_code: str = "", organisation_type: str = "people",
    grade: str = "first", availability: str = "available", capacity: int = 5, languages: str = "普通话、诸暨话",
    room: MediationRoom | None = None, training_hours: int = 24, complaints: int = 0, introduction: str = "",
) -> Mediator:
    """A pool profile for an account with the mediator role (serving its unit's region unless told otherwise)."""
    mediator, _ = Mediator.objects.update_or_create(user=user, defaults={
        "organisation_type": organisation_type, "grade": grade,
        "region": Region.objects.get(code=region_code or user.unit.region_id), "room": room,
        "languages": languages, "availability": availability, "capacity": capacity,
        "training_hours": training_hours, "complaints": complaints, "introduction": introduction,
    })
    mediator.specialties.set(TaxonomyLabel.objects.filter(taxonomy__code="mediation_type", code__in=specialties))
    return mediator


def parties(case: Case) -> tuple[CaseParty, CaseParty]:
    """(applicant, respondent) of a matter."""
    rows = list(case.parties.order_by("position", "id"))
    applicant = next(p for p in rows if p.role == "applicant")
    respondent = next(p for p in rows if p.role == "respondent")
    return applicant, respondent


AGREEMENT = AgreementInput(
    facts="申请人陈建国与被申请人王志强系枫源村3组前后邻居，两家共用一条排水沟。被申请人在院墙外加盖杂物间，"
          "堵住排水沟，连日下雨后积水倒灌申请人厨房。",
    disputed_issues="被申请人是否应拆除堵塞排水沟的杂物间并疏通排水沟；申请人厨房受损的赔偿。",
    responsibility="被申请人擅自加盖杂物间堵塞共用排水沟，对积水损失负全部责任。",
    terms="被申请人王志强于2026年6月10日前自行拆除堵塞排水沟的杂物间，并疏通排水沟。\n"
          "被申请人王志强一次性赔偿申请人陈建国厨房受损费用人民币叁仟元整。\n"
          "双方就本纠纷再无其他争议。",
    performance_manner="第一项由被申请人自行施工，村调委会派员查看；第二项现金当面支付，申请人出具收条。",
    performance_place="诸暨市枫桥镇枫源村3组现场；赔偿款在枫源村人民调解委员会调解室交付。",
    performance_period="第一项于2026年6月10日前履行完毕；第二项于协议生效之日起十日内付清。",
)


def session_input(case: Case, *, recorder: str = "王秀英") -> SessionInput:
    applicant, respondent = parties(case)
    return SessionInput(
        kind="joint", mode="on_site", place="枫源村人民调解委员会调解室",
        started_at=clock.now() - timedelta(hours=2), ended_at=clock.now() - timedelta(hours=1),
        party_ids=(applicant.pk, respondent.pk), attendees="村民小组长楼国庆", recorder=recorder,
        statements=(
            ("调解员", "今天召集双方就排水沟堵塞一事进行调解，请双方如实陈述。"),
            (applicant.person.name, "杂物间把排水沟堵死了，下雨天水全倒灌进我家厨房。"),
            (respondent.person.name, "我愿意拆掉杂物间，赔偿可以商量。"),
        ),
        result="双方同意拆除杂物间、疏通排水沟，赔偿数额达成一致。",
    )


def advance_mediation(case: Case, status: MediationStatus, *, actor: User, mediator: Mediator,
                      applied_on: date | None = None) -> Mediation:
    """Drive a matter in hand by mediation through the real actions until its mediation reaches `status`
    (along the main path: designation, notice, consent, a session, a written agreement signed by everyone)."""
    code = case.code
    applicant, respondent = parties(case)
    mediation = actions.do_open_mediation(
        code, actor=actor, source="application", requests="请求被申请人拆除杂物间、疏通排水沟\n请求赔偿厨房损失",
        applied_on=applied_on or local_date(clock.now()),
    )
    actions.do_designate_mediators(code, actor=actor, mediator_ids=[mediator.pk], source="committee")
    actions.do_deliver_rights_notice(code, actor=actor, party_ids=[applicant.pk, respondent.pk],
                                     method="当面告知并送达书面告知书", delivered_on=local_date(clock.now()))
    if status is MediationStatus.PREPARING:
        return Mediation.objects.get(pk=mediation.pk)
    actions.do_notify_other_party(code, actor=actor, party_id=respondent.pk, method="电话")
    if status is MediationStatus.AWAITING_RESPONSE:
        return Mediation.objects.get(pk=mediation.pk)
    actions.do_record_consent(code, actor=actor, party_id=respondent.pk, note="被申请人电话表示同意调解")
    actions.do_record_session(code, actor=actor, session=session_input(case))
    if status is MediationStatus.MEDIATING:
        return Mediation.objects.get(pk=mediation.pk)
    actions.do_draft_agreement(code, actor=actor, content=AGREEMENT)
    if status is MediationStatus.SIGNING:
        return Mediation.objects.get(pk=mediation.pk)
    signers = [f"party:{applicant.pk}", f"party:{respondent.pk}", f"mediator:{mediator.pk}", "seal"]
    actions.do_record_signatures(code, actor=actor, signer_keys=signers)
    actions.do_make_agreement_effective(code, actor=actor)
    if status is MediationStatus.AGREED:
        return Mediation.objects.get(pk=mediation.pk)
    raise ValueError(f"{status} is not on the main path")


def add_obligations(case: Case, *, actor: User, due_on: date) -> list:
    """The agreement's two obligations (both owed by the respondent)."""
    applicant, respondent = parties(case)
    return [
        actions.do_add_obligation(case.code, actor=actor, obligor_id=respondent.pk, obligee_id=applicant.pk,
                                  description="拆除杂物间并疏通排水沟", due_on=due_on),
        actions.do_add_obligation(case.code, actor=actor, obligor_id=respondent.pk, obligee_id=applicant.pk,
                                  description="赔偿厨房受损费用", amount=Decimal("3000"), due_on=due_on),
    ]
