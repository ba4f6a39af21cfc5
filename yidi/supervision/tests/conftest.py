import pytest

from yidi.accounts.domain import Role
from yidi.accounts.models import Unit
from yidi.cases.builders import make_case, make_user
from yidi.supervision.actions import do_record_finding
from yidi.supervision.builders import company, worker
from yidi.supervision.domain import AlertKind, Finding, Severity


@pytest.fixture
def leader(db):
    return make_user("leader", Role.LEADER, unit=Unit.objects.get(code="centre"), name="周领导")


@pytest.fixture
def fq_dispatcher(db):
    """A dispatcher of 枫桥镇's centre: oversees the township only."""
    return make_user("fq-dispatcher", Role.DISPATCHER, unit=Unit.objects.get(code="fq-centre"), name="冯镇调度")


def raise_alert(actor, *, region="330681109290", people=5, severity=Severity.YELLOW, kind=AlertKind.CLUSTER,
                fingerprint="cluster:test"):
    cases = [make_case(actor, region_code=region, primary_type_code="labour", parties=(worker(n), company()),
                       address="工地") for n in range(people)]
    alert, _ = do_record_finding(Finding(
        kind=kind, fingerprint=fingerprint, title="群体性苗头：5 人反映同一被申请人", reason="测试理由",
        severity=severity, severity_rule="测试", region=region, case_ids=tuple(c.pk for c in cases),
    ))
    return alert, cases


@pytest.fixture
def alert(registrar):
    return raise_alert(registrar)[0]
