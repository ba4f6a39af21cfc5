"""Recording findings in one batch (`do_record_findings`) leaves exactly what recording them one at a time
(`do_record_finding`) leaves: the same alerts, matters, timeline rows and audit rows, in the same order.

The findings exercise every rule: a raise, matters added to it (with a severity rise), an unchanged repeat, a group
finding merged into an open group alert on record through a shared matter, one merged into a group alert raised
earlier in the same batch, a finding whose matters a closed alert already held (nothing raised), and a finding
that brings a new matter past a closed alert (raised again).
"""

import pytest
from django.db import transaction

from yidi.audit.models import AuditEvent
from yidi.cases.builders import make_case
from yidi.supervision.actions import do_record_finding, do_record_findings
from yidi.supervision.builders import company, worker
from yidi.supervision.domain import AlertKind, Finding, Severity
from yidi.supervision.models import Alert, AlertEvent

pytestmark = pytest.mark.django_db
REGION = "330681109290"


def finding(fingerprint: str, case_ids, *, kind=AlertKind.SPIKE, severity=Severity.YELLOW, reason="理由") -> Finding:
    return Finding(kind=kind, fingerprint=fingerprint, title=f"预警 {fingerprint}", reason=reason, severity=severity,
                   severity_rule=f"规则 {severity}", region=REGION, case_ids=tuple(case_ids),
                   measures={"reason": reason})


def scenario(registrar) -> list[Finding]:
    ids = [make_case(registrar, region_code=REGION, primary_type_code="labour", parties=(worker(n), company()),
                     address="工地").pk for n in range(12)]
    do_record_finding(finding("cluster:on-record", ids[0:2], kind=AlertKind.CLUSTER))
    closed, _ = do_record_finding(finding("repeat:closed", ids[2:4], kind=AlertKind.REPEAT))
    Alert.objects.filter(pk=closed.pk).update(status="closed")
    return [
        finding("spike:a", ids[4:6]),
        finding("spike:a", ids[4:8], severity=Severity.ORANGE, reason="升级"),
        finding("spike:a", ids[4:8], reason="未变"),
        finding("cluster:by-place", [ids[1], ids[8]], kind=AlertKind.CLUSTER, reason="与已有群体预警重叠"),
        finding("cluster:new", ids[9:11], kind=AlertKind.CLUSTER),
        finding("cluster:same-group", [ids[10], ids[11]], kind=AlertKind.CLUSTER, reason="与本批新预警重叠"),
        finding("repeat:closed", ids[2:4], kind=AlertKind.REPEAT, reason="已办结"),
        finding("repeat:closed", ids[2:5], kind=AlertKind.REPEAT, reason="新增一件"),
    ]


def state() -> tuple[list, list, list]:
    alerts = [(a.kind, a.fingerprint, a.status, a.severity, a.severity_rule, a.title, a.reason, a.measures, a.version,
               a.owner_unit_id, sorted(a.alert_cases.values_list("case_id", flat=True)))
              for a in Alert.objects.order_by("detected_at", "id")]
    events = [(e.alert.fingerprint, e.seq, e.action, e.from_status, e.to_status, e.note, e.data)
              for e in AlertEvent.objects.select_related("alert").order_by("id")]
    audit = [(a.action, Alert.objects.get(pk=a.object_id).fingerprint, a.fields, a.data)
             for a in AuditEvent.objects.filter(object_type="alert").order_by("chain", "seq")]
    return alerts, events, audit


def test_a_batch_leaves_what_the_findings_recorded_one_at_a_time_leave(registrar):
    findings = scenario(registrar)
    with transaction.atomic():
        one_at_a_time = [outcome for _, outcome in map(do_record_finding, findings)]
        expected = state()
        transaction.set_rollback(True)
    batched = [outcome for _, outcome in do_record_findings(findings)]
    assert batched == one_at_a_time == [
        "raised", "updated", "unchanged", "updated", "raised", "updated", "unchanged", "raised"]
    assert state() == expected
    alerts = {a.fingerprint: a for a in Alert.objects.filter(status="new")}
    assert alerts["spike:a"].severity == Severity.ORANGE and alerts["spike:a"].reason == "升级"
    assert alerts["cluster:on-record"].alert_cases.count() == 3  # merged by the shared matter
    assert alerts["cluster:new"].alert_cases.count() == 3  # merged with the group raised earlier in the batch
    assert "cluster:by-place" not in alerts and "cluster:same-group" not in alerts
    assert alerts["repeat:closed"].alert_cases.count() == 3


def test_an_empty_batch_writes_nothing(registrar):
    before = (Alert.objects.count(), AlertEvent.objects.count(), AuditEvent.objects.count())
    assert do_record_findings([]) == []
    assert (Alert.objects.count(), AlertEvent.objects.count(), AuditEvent.objects.count()) == before
