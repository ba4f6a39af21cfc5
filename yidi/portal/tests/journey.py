"""Staff-side steps of the citizen's journey test (`test_browser_journey.py`), run in the served instance's own
environment: `python -m yidi.portal.tests.journey setup` builds a small county; `advance CODE STATUS` moves a
matter along the main path with the real actions, as the centre's staff would.

The browser plays the citizen (and the staff worklist); these steps play the departments in between, which
their own tests cover page by page.
"""

import sys

import django


def setup() -> None:
    from yidi.accounts.actions import do_save_responsibility
    from yidi.accounts.domain import Role, UnitKind
    from yidi.accounts.models import Unit
    from yidi.cases.builders import make_unit, make_user
    from yidi.regions.loader import load_county

    load_county("330681")
    centre = make_unit("centre", kind=UnitKind.CENTRE, region_code="330681", name="诸暨市社会矛盾纠纷调处化解中心")
    command = make_unit("command", kind=UnitKind.COMMAND_DESK, region_code="330681", name="指挥调度室",
                        parent_code="centre")
    platform = make_unit("fq-platform", kind=UnitKind.TOWNSHIP_PLATFORM, region_code="330681109",
                         name="枫桥镇综治工作平台", platform_type_code="comprehensive_governance")
    Unit.objects.filter(pk=platform.pk).update(phone="0575-87001234")  # shown to the citizen as the office phone
    make_unit("fy-committee", kind=UnitKind.VILLAGE_COMMITTEE, region_code="330681109290", name="枫源村人民调解委员会")
    do_save_responsibility(unit_code="fq-platform", dispute_type_code="neighbour", level="township")
    make_user("registrar", Role.REGISTRAR, unit=centre, name="李窗口")
    make_user("dispatcher", Role.DISPATCHER, unit=command, name="赵调度")
    make_user("handler", Role.HANDLER, unit=platform, name="孙承办")


def advance(code: str, status: str) -> None:
    from yidi.accounts.models import Unit, User
    from yidi.cases import actions
    from yidi.cases.builders import advance_case
    from yidi.cases.domain import CaseStatus, HandlingMode, Outcome
    from yidi.cases.models import Case

    dispatcher, handler = User.objects.get(username="dispatcher"), User.objects.get(username="handler")
    case = Case.objects.get(code=code)
    if case.status == CaseStatus.IN_PROGRESS:  # a reopened matter: the lead unit concludes it again
        actions.do_conclude_case(code, actor=handler, outcome=Outcome.OPINION_EXPLAIN, summary="重新核实后答复")
        case = actions.do_close_case(code, actor=dispatcher)
    else:
        case = advance_case(case, CaseStatus(status), dispatcher=dispatcher, handler=handler,
                            lead_unit=Unit.objects.get(code="fq-platform"), outcome=Outcome.OPINION_EXPLAIN,
                            mode=HandlingMode.ADMINISTRATIVE)
    print(case.status)


def main(argv: list[str]) -> int:
    django.setup()
    if argv[0] == "setup":
        setup()
    elif argv[0] == "advance":
        advance(argv[1], argv[2])
    else:
        raise SystemExit(f"unknown step {argv[0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
