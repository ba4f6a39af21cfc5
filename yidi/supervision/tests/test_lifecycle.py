"""The alert lifecycle 研判 → 处置 → 办结: allowed and denied steps; a denied or invalid step changes nothing."""

import pytest

from yidi.audit.models import AuditEvent
from yidi.supervision import actions
from yidi.supervision.domain import AlertActionDenied, AlertRuleViolation, IllegalTransition
from yidi.supervision.models import Alert, AlertEvent
from yidi.supervision.queries import AlertNotFound

pytestmark = pytest.mark.django_db


def snapshot(alert):
    alert = Alert.objects.get(pk=alert.pk)
    return (alert.status, alert.severity, alert.owner_unit_id, alert.version, alert.events.count(),
            AuditEvent.objects.filter(object_type="alert", object_id=str(alert.pk)).count())


def test_a_raised_alert_is_owned_by_the_township_centre_and_has_its_first_step(alert):
    assert (alert.status, alert.owner_unit.code, alert.version) == ("new", "fq-centre", 1)
    assert list(alert.events.values_list("seq", "action", "actor_name")) == [(1, "raise", "系统（风险研判）")]


def test_the_full_lifecycle_writes_one_step_and_one_audit_row_each(alert, dispatcher, supervisor):
    actions.do_assess_alert(alert.pk, actor=dispatcher, note="确属欠薪群体苗头", severity="orange",
                            owner_unit_code="hrss")
    actions.do_handle_alert(alert.pk, actor=dispatcher, note="人社局约谈企业，工资分两期支付")
    actions.do_close_alert(alert.pk, actor=supervisor, note="核实工资已结清")

    alert.refresh_from_db()
    assert (alert.status, alert.severity, alert.owner_unit.code, alert.version) == ("closed", "orange", "hrss", 4)
    assert alert.closed_at is not None
    steps = list(alert.events.order_by("seq").values_list("action", "from_status", "to_status", "note"))
    assert steps == [
        ("raise", "", "new", "测试理由"),
        ("assess", "new", "assessed", "确属欠薪群体苗头"),
        ("handle", "assessed", "handled", "人社局约谈企业，工资分两期支付"),
        ("close", "handled", "closed", "核实工资已结清"),
    ]
    audit = list(AuditEvent.objects.filter(object_type="alert", object_id=str(alert.pk)).order_by("id")
                 .values_list("action", flat=True))
    assert audit == ["alert.raise", "alert.assess", "alert.handle", "alert.close"]


def test_the_owner_unit_may_assess_and_handle_but_not_close(alert, registrar, dispatcher, fq_dispatcher, handler):
    from yidi.supervision.models import Alert as Model

    Model.objects.filter(pk=alert.pk).update(owner_unit_id=handler.unit_id)  # 枫桥镇综治工作平台 owns it
    actions.do_assess_alert(alert.pk, actor=handler, note="已研判")
    actions.do_handle_alert(alert.pk, actor=handler, note="已处置")
    before = snapshot(alert)

    with pytest.raises(AlertActionDenied, match="责任单位不能自行办结"):
        actions.do_close_alert(alert.pk, actor=handler, note="自行办结")

    assert snapshot(alert) == before


def test_a_step_out_of_order_is_refused_and_changes_nothing(alert, dispatcher):
    before = snapshot(alert)

    with pytest.raises(IllegalTransition, match=r"待研判.*办结"):
        actions.do_close_alert(alert.pk, actor=dispatcher, note="直接办结")

    assert snapshot(alert) == before


def test_a_step_without_its_note_is_refused_and_changes_nothing(alert, dispatcher):
    before = snapshot(alert)

    with pytest.raises(AlertRuleViolation, match="请填写研判意见"):
        actions.do_assess_alert(alert.pk, actor=dispatcher, note="  ", severity="red")

    assert snapshot(alert) == before


def test_someone_outside_the_alert_region_does_not_even_see_it(alert, outsider):
    before = snapshot(alert)

    with pytest.raises(AlertNotFound):
        actions.do_assess_alert(alert.pk, actor=outsider, note="越权研判")

    assert snapshot(alert) == before


@pytest.mark.parametrize(("persona", "allowed"), [
    ("dispatcher", True), ("supervisor", True), ("leader", True), ("fq_dispatcher", True),
    ("handler", False), ("mediator", False), ("registrar", False),
])
def test_who_may_assess_an_alert_of_fengqiao(alert, request, persona, allowed):
    user = request.getfixturevalue(persona)
    before = snapshot(alert)
    if allowed:
        actions.do_assess_alert(alert.pk, actor=user, note="研判")
        assert Alert.objects.get(pk=alert.pk).status == "assessed"
    else:
        with pytest.raises((AlertActionDenied, AlertNotFound)):
            actions.do_assess_alert(alert.pk, actor=user, note="研判")
        assert snapshot(alert) == before


def test_only_overseers_change_the_owner(alert, handler):
    Alert.objects.filter(pk=alert.pk).update(owner_unit_id=handler.unit_id)
    before = snapshot(alert)

    with pytest.raises(AlertActionDenied, match="调整责任单位"):
        actions.do_assess_alert(alert.pk, actor=handler, note="改给人社局", owner_unit_code="hrss")

    assert snapshot(alert) == before


def test_an_unknown_owner_unit_is_refused(alert, dispatcher):
    before = snapshot(alert)

    with pytest.raises(AlertRuleViolation, match="责任单位不存在"):
        actions.do_assess_alert(alert.pk, actor=dispatcher, note="研判", owner_unit_code="nope")

    assert snapshot(alert) == before
    assert AlertEvent.objects.filter(alert=alert).count() == 1


def test_a_closed_alert_is_not_raised_again_for_the_same_matters(alert, dispatcher, registrar):
    from yidi.supervision.actions import do_record_finding
    from yidi.supervision.domain import AlertKind, Finding, Severity

    actions.do_assess_alert(alert.pk, actor=dispatcher, note="研判")
    actions.do_close_alert(alert.pk, actor=dispatcher, note="无需处置")
    ids = tuple(alert.alert_cases.values_list("case_id", flat=True))
    finding = Finding(kind=AlertKind.CLUSTER, fingerprint="cluster:test", title="t", reason="r",
                      severity=Severity.YELLOW, severity_rule="", region="330681109290", case_ids=ids)

    assert do_record_finding(finding) == (None, "unchanged")
    assert Alert.objects.count() == 1
