"""Deterministic builders shared by the tests and the demo seeder. Everything goes through the real actions."""

from dataclasses import replace
from decimal import Decimal

from yidi.accounts.actions import do_create_unit, do_create_user
from yidi.accounts.domain import Role, UnitKind
from yidi.accounts.models import Unit, User
from yidi.cases import actions
from yidi.cases.domain import CaseDraft, CaseStatus, HandlingMode, Outcome, PartyDraft, RequestType
from yidi.cases.models import Case

DEFAULT_PASSWORD = "Yidi-demo-2026"


def make_unit(code: str, *, kind: UnitKind, region_code: str, name: str = "", **extra) -> Unit:
    return do_create_unit(code=code, name=name or code, kind=kind, region_code=region_code, **extra)


def make_user(
    username: str, *roles: Role, unit: Unit | None = None, name: str = "", password: str | None = DEFAULT_PASSWORD
) -> User:
    """An account with a usable password (`password=None` makes an account that cannot log in yet)."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return do_create_user(
        username=username, password=password, roles=list(roles), unit_code=unit.code if unit else "",
        display_name=name or username,
    )


def make_party(role: str = "applicant", **overrides) -> PartyDraft:
    values = {"role": role, "name": "陈建国", "id_number": "330681198003150017", "phone": "13805751234",
              "address": "诸暨市枫桥镇枫源村3组18号"}
    values.update(overrides)
    return PartyDraft(**values)


def make_draft(**overrides) -> CaseDraft:
    """A neighbour dispute in 枫源村, 枫桥镇, reported at the window; override any field."""
    draft = CaseDraft(
        channel_code="walk_in",
        request_type=RequestType.MEDIATION,
        title="枫源村两户因排水沟堵塞发生争执",
        description="来访人陈建国反映，邻居王某在自家院墙外加盖杂物间，堵住了两家共用的排水沟，"
        "连日下雨后积水倒灌进自家厨房，双方多次争吵，请求调解。",
        region_code="330681109290",
        address="枫源村3组",
        people_involved=2,
        amount_involved=Decimal("3000"),
        primary_type_code="neighbour",
        grade="blue",
        complexity="simple",
        parties=(make_party(), make_party("respondent", name="王志强", id_number="", phone="13905759876",
                                          address="诸暨市枫桥镇枫源村3组20号")),
        in_person=True,
    )
    return replace(draft, **overrides)


def make_case(actor: User, **overrides) -> Case:
    return actions.do_register_case(make_draft(**overrides), actor=actor)


def advance_case(case: Case, status: CaseStatus, *, dispatcher: User, handler: User, lead_unit: Unit,
                 outcome: Outcome = Outcome.WRITTEN_AGREEMENT, mode: HandlingMode = HandlingMode.MEDIATION) -> Case:
    """Drive a registered matter through the real actions until it reaches `status` (along the main path)."""
    path = [
        (CaseStatus.ACCEPTED, lambda: actions.do_accept_case(case.code, actor=dispatcher)),
        (CaseStatus.ASSIGNED, lambda: actions.do_assign_case(
            case.code, actor=dispatcher, lead_unit_code=lead_unit.code, override_reason="由调度员指定")),
        (CaseStatus.SIGNED, lambda: actions.do_sign_case(case.code, actor=handler)),
        (CaseStatus.IN_PROGRESS, lambda: actions.do_start_handling(case.code, actor=handler, mode=mode)),
        (CaseStatus.CONCLUDED, lambda: actions.do_conclude_case(case.code, actor=handler, outcome=outcome)),
        (CaseStatus.CLOSED, lambda: actions.do_close_case(case.code, actor=dispatcher)),
        (CaseStatus.ARCHIVED, lambda: actions.do_archive_case(case.code, actor=dispatcher)),
    ]
    for reached, step in path:
        case = step()
        if reached == status:
            return case
    raise ValueError(f"{status} is not on the main path")
