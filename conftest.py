"""Shared fixtures: the real regions of 诸暨市 loaded once per test database, and the personas.

Personas (STYLE §9): registrar (centre window), dispatcher (command desk), handler (枫桥镇 platform),
outsider (暨阳街道 platform: another township), supervisor, mediator (枫源村 committee), labour_handler
(人社局, responsible for labour disputes), admin (system admin), citizen.
"""

import pytest
from hypothesis import HealthCheck, settings

from yidi.accounts.domain import Role, UnitKind
from yidi.cases.builders import make_unit, make_user

# Shared CI machines are noisy: a slow draw under load is not a failure of the property, and no deadline either.
settings.register_profile("yidi", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("yidi")

COUNTY = "330681"
FENGQIAO = "330681109"
FENGYUAN = "330681109290"
JIYANG = "330681001"


def build_world() -> None:
    """The regions of 诸暨市 and the units the personas belong to; idempotent."""
    from yidi.accounts.actions import do_save_responsibility
    from yidi.regions.loader import load_county

    load_county(COUNTY)
    make_unit("centre", kind=UnitKind.CENTRE, region_code=COUNTY, name="诸暨市社会矛盾纠纷调处化解中心")
    make_unit("command", kind=UnitKind.COMMAND_DESK, region_code=COUNTY, name="指挥调度室", parent_code="centre")
    make_unit("fq-centre", kind=UnitKind.TOWNSHIP_CENTRE, region_code=FENGQIAO, name="枫桥镇矛调中心")
    make_unit("fq-platform", kind=UnitKind.TOWNSHIP_PLATFORM, region_code=FENGQIAO, name="枫桥镇综治工作平台",
              platform_type_code="comprehensive_governance")
    make_unit("jy-platform", kind=UnitKind.TOWNSHIP_PLATFORM, region_code=JIYANG, name="暨阳街道综治工作平台",
              platform_type_code="comprehensive_governance")
    make_unit("fy-committee", kind=UnitKind.VILLAGE_COMMITTEE, region_code=FENGYUAN, name="枫源村人民调解委员会")
    make_unit("hrss", kind=UnitKind.DEPARTMENT, region_code=COUNTY, name="市人力资源和社会保障局",
              residency_mode="permanent")
    do_save_responsibility(unit_code="hrss", dispute_type_code="labour", level="county")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        build_world()


def _unit(code):
    from yidi.accounts.models import Unit

    return Unit.objects.get(code=code)


@pytest.fixture
def registrar(db):
    return make_user("registrar", Role.REGISTRAR, unit=_unit("centre"), name="李窗口")


@pytest.fixture
def dispatcher(db):
    return make_user("dispatcher", Role.DISPATCHER, unit=_unit("command"), name="赵调度")


@pytest.fixture
def handler(db):
    return make_user("handler", Role.HANDLER, unit=_unit("fq-platform"), name="钱承办")


@pytest.fixture
def outsider(db):
    return make_user("outsider", Role.HANDLER, unit=_unit("jy-platform"), name="孙外镇")


@pytest.fixture
def supervisor(db):
    return make_user("supervisor", Role.SUPERVISOR, unit=_unit("centre"), name="周督查")


@pytest.fixture
def mediator(db):
    return make_user("mediator", Role.MEDIATOR, unit=_unit("fy-committee"), name="吴调解")


@pytest.fixture
def labour_handler(db):
    return make_user("labour", Role.HANDLER, unit=_unit("hrss"), name="郑人社")


@pytest.fixture
def admin(db):
    return make_user("sysadmin", Role.SYSTEM_ADMIN, name="系统管理员")


@pytest.fixture
def citizen(db):
    return make_user("citizen", Role.CITIZEN, name="陈建国")


@pytest.fixture
def fq_platform(db):
    return _unit("fq-platform")


@pytest.fixture
def jy_platform(db):
    return _unit("jy-platform")


@pytest.fixture(autouse=True)
def _fresh_reference_caches():
    """Per-process caches (reference tables, the dashboards' figures) must not carry rows from one test into another."""
    from django.core.cache import cache

    from yidi.core import worktime
    from yidi.routing.queries import clear_rule_cache

    worktime.clear_cache()
    clear_rule_cache()
    cache.clear()
    yield
    worktime.clear_cache()
    clear_rule_cache()
    cache.clear()


@pytest.fixture(autouse=True)
def _no_personal_data_leaks():
    """Fail the test if a response or log line it produced shows an unmasked ID or phone number."""
    import logging

    from yidi.security.leaks import LeakLogHandler, collector

    handler = LeakLogHandler(level=logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # INFO lines too, not only warnings: the access and audit logs are INFO
    collector.take()
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    leaks = collector.take()
    if leaks:
        pytest.fail("个人信息泄露（未脱敏）：\n" + "\n".join(str(leak) for leak in leaks), pytrace=False)
