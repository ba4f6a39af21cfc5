"""Writes on alerts and the command view: each `do_*` is one transaction with its alert timeline row
(`AlertEvent`) and one audit row; a denied or invalid step changes nothing.

Deduplication (`do_record_finding`):
- an open alert with the finding's fingerprint gets the finding's new matters (and the latest figures); a run
  that finds nothing new changes nothing;
- a group-incident finding that shares a matter with an open group-incident alert is merged into it (the same
  group seen by respondent and by place is one alert);
- when the only alerts with that fingerprint are closed, a new alert is raised only if the finding holds matters
  none of them held.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from yidi.accounts import access
from yidi.accounts.domain import UnitKind
from yidi.accounts.models import Unit, User
from yidi.audit.actions import record, record_many
from yidi.cases import actions as case_actions
from yidi.core import clock
from yidi.core.bulk import insert_values
from yidi.supervision import queries
from yidi.supervision.domain import (
    COMMAND_ROLES,
    INSTRUCTION_ROLES,
    SEVERITY_LABELS,
    AlertAction,
    AlertActionDenied,
    AlertKind,
    AlertRuleViolation,
    AlertStatus,
    Finding,
    Severity,
    common_region,
    denial_reason,
    next_status,
    oversees,
)
from yidi.supervision.models import (
    OPEN_ALERT,
    Alert,
    AlertCase,
    AlertEvent,
    CommandInstruction,
    CommandTask,
    TaskStatus,
)

DETECTION_NAME = "系统（风险研判）"


def _event(alert: Alert, action: AlertAction, *, actor, from_status: str, note: str = "", data=None) -> AlertEvent:
    return AlertEvent.objects.create(
        alert=alert, seq=alert.version, action=action, from_status=from_status, to_status=alert.status,
        at=clock.now(), actor=actor, actor_name=str(actor) if actor is not None else DETECTION_NAME,
        actor_unit_id=actor.unit_id if actor is not None else None, note=note, data=data or {},
    )


def _audit(alert: Alert, action: AlertAction, *, actor, fields=(), note: str = "", data=None) -> None:
    record(actor=actor, action=f"alert.{action}", object_type="alert", object_id=alert.pk, fields=fields,
           reason=note, data=data)


def default_owner(region_code: str) -> Unit | None:
    """The unit that owns a detected alert: the township's 矛调中心 for an alert inside a township, otherwise the
    county's command desk (指挥调度室), else the county's centre."""
    units = Unit.objects.filter(is_active=True)
    if len(region_code) >= 9:
        unit = units.filter(kind=UnitKind.TOWNSHIP_CENTRE, region_id=region_code[:9]).order_by("code").first()
        if unit is not None:
            return unit
    for kind in (UnitKind.COMMAND_DESK, UnitKind.CENTRE):
        unit = units.filter(kind=kind, region_id=region_code[:6]).order_by("code").first()
        if unit is not None:
            return unit
    return None


# --- detection -------------------------------------------------------------------------------------------


CHUNK = 500  # values per IN list when loading what a batch of findings meets


def _chunks(values) -> list:
    values = sorted(values)
    return [values[n:n + CHUNK] for n in range(0, len(values), CHUNK)]


@dataclass(eq=False)
class _Step:
    """One timeline row and audit row of a batch, in the order the findings were applied."""

    alert: Alert
    action: AlertAction
    from_status: str
    seq: int
    note: str
    data: dict
    fields: list
    audit_data: dict


class _Batch:
    """What `do_record_findings` reads and writes: the open alerts the findings meet (locked), the matters they hold,
    the matters of closed alerts with the same fingerprints; the new alerts, links, steps."""

    def __init__(self, findings: list[Finding]):
        self.now = clock.now()
        fingerprints = {finding.fingerprint for finding in findings}
        self.by_fingerprint: dict[str, Alert] = {}
        self.closed: dict[str, set] = {}
        for chunk in _chunks(fingerprints):
            for alert in Alert.objects.select_for_update().filter(OPEN_ALERT, fingerprint__in=chunk):
                self.by_fingerprint[alert.fingerprint] = alert
            for fingerprint, case_id in AlertCase.objects.filter(
                alert__fingerprint__in=chunk, alert__status=AlertStatus.CLOSED
            ).values_list("alert__fingerprint", "case_id"):
                self.closed.setdefault(fingerprint, set()).add(case_id)
        # A group finding without an open alert of its own may be merged into any open group alert holding one of
        # its matters: then every open group alert is read (they are few; each holds tens of matters), with its
        # matters, and indexed by matter.
        merging = any(finding.kind == AlertKind.CLUSTER and finding.fingerprint not in self.by_fingerprint
                      for finding in findings)
        if merging:
            for alert in Alert.objects.select_for_update().filter(OPEN_ALERT, kind=AlertKind.CLUSTER):
                self.by_fingerprint.setdefault(alert.fingerprint, alert)
        self.held: dict = {}
        for chunk in _chunks({alert.pk for alert in self.by_fingerprint.values()}):
            for alert_id, case_id in AlertCase.objects.filter(alert_id__in=chunk).values_list("alert_id", "case_id"):
                self.held.setdefault(alert_id, set()).add(case_id)
        self.new_order: dict[int, int] = {}  # id(new alert) → its place among the new ones
        self.first_holder: dict[int, Alert] = {}  # matter → the first open group alert holding it (`_key` order)
        clusters = [alert for alert in self.by_fingerprint.values() if alert.kind == AlertKind.CLUSTER]
        for alert in sorted(clusters, key=self._key):
            self._index(alert, self._held(alert))
        self.owners: dict[str, Unit | None] = {}
        self.new: list[Alert] = []
        self.changed: dict[int, tuple[Alert, set]] = {}  # alerts on record that changed, with the fields
        self.links: list[tuple[Alert, list[int]]] = []
        self.steps: list[_Step] = []

    def _key(self, alert: Alert) -> tuple:
        """The alert's place in `ORDER BY detected_at, id`: the alerts on record, then the new ones as raised."""
        return (0, alert.detected_at, alert.pk) if alert.pk is not None else (1, self.new_order[id(alert)])

    def _held(self, alert: Alert) -> set:
        return self.held.setdefault(alert.pk if alert.pk is not None else self._key(alert), set())

    def _index(self, alert: Alert, case_ids) -> None:
        if alert.kind != AlertKind.CLUSTER:
            return
        key = self._key(alert)
        for case_id in case_ids:
            first = self.first_holder.get(case_id)
            if first is None or key < self._key(first):
                self.first_holder[case_id] = alert

    def _open_alert_for(self, finding: Finding) -> Alert | None:
        """The open alert with the finding's fingerprint; for a group finding without one, the oldest open group
        alert holding one of its matters (as `ORDER BY detected_at, id`)."""
        alert = self.by_fingerprint.get(finding.fingerprint)
        if alert is not None or finding.kind != AlertKind.CLUSTER:
            return alert
        holders = {id(alert): alert for c in finding.case_ids if (alert := self.first_holder.get(c)) is not None}
        return min(holders.values(), key=self._key, default=None)

    def _owner(self, region: str) -> Unit | None:
        if region not in self.owners:
            self.owners[region] = default_owner(region)
        return self.owners[region]

    def apply(self, finding: Finding) -> tuple[Alert | None, str]:
        alert = self._open_alert_for(finding)
        if alert is not None:
            held = self._held(alert)
            new_ids = [case_id for case_id in finding.case_ids if case_id not in held]
            if not new_ids:
                return alert, "unchanged"
            held.update(new_ids)
            self._index(alert, new_ids)
            self.links.append((alert, new_ids))
            fields = ["version", "updated_at"]
            if alert.fingerprint == finding.fingerprint:
                alert.reason, alert.measures, alert.period_end_on = finding.reason, finding.measures, finding.period_end_on
                fields += ["reason", "measures", "period_end_on"]
            data = {"added": len(new_ids)}
            if alert.status == AlertStatus.NEW and finding.severity.rank > Severity(alert.severity).rank:
                alert.severity, alert.severity_rule = finding.severity, finding.severity_rule
                fields += ["severity", "severity_rule"]
                data["severity_label"] = SEVERITY_LABELS[finding.severity]
            alert.version += 1
            alert.updated_at = self.now
            if alert.pk is not None:
                self.changed.setdefault(alert.pk, (alert, set()))[1].update(fields)
            self.steps.append(_Step(alert, AlertAction.ADD_CASES, alert.status, alert.version, finding.reason, data,
                                    fields, {"case_ids": new_ids}))
            return alert, "updated"
        if not finding.case_ids or set(finding.case_ids) <= self.closed.get(finding.fingerprint, set()):
            return None, "unchanged"
        owner = self._owner(finding.region)
        alert = Alert(
            kind=finding.kind, severity=finding.severity, severity_rule=finding.severity_rule,
            title=finding.title[:160], reason=finding.reason, fingerprint=finding.fingerprint,
            region_id=finding.region, dispute_type_id=finding.dispute_type_id, owner_unit=owner,
            measures=finding.measures, period_start_on=finding.period_start_on,
            period_end_on=finding.period_end_on, detected_at=self.now, updated_at=self.now,
        )
        self.new_order[id(alert)] = len(self.new)
        self.new.append(alert)
        self.by_fingerprint[alert.fingerprint] = alert
        self._held(alert).update(finding.case_ids)
        self._index(alert, finding.case_ids)
        self.links.append((alert, list(finding.case_ids)))
        self.steps.append(_Step(alert, AlertAction.RAISE, "", 1, finding.reason,
                                {"severity_label": SEVERITY_LABELS[finding.severity], "added": len(finding.case_ids),
                                 "owner_unit_name": owner.name if owner is not None else ""},
                                [], {"fingerprint": finding.fingerprint, "case_ids": list(finding.case_ids)}))
        return alert, "raised"

    def write(self) -> None:
        """Everything in a fixed number of statements: the new alerts, the changed ones, the links, the timeline
        rows, and one audit append (in the order the findings were applied)."""
        Alert.objects.bulk_create(self.new)  # each pk is set (RETURNING), for the rows below
        for alert, fields in self.changed.values():
            alert.save(update_fields=sorted(fields))
        insert_values(AlertCase, ["alert_id", "case_id", "added_at"],
                      [(alert.pk, case_id, self.now) for alert, ids in self.links for case_id in ids])
        insert_values(AlertEvent, ["alert_id", "seq", "action", "from_status", "to_status", "at", "actor_id",
                                   "actor_name", "actor_unit_id", "note", "data"],
                      [(step.alert.pk, step.seq, step.action, step.from_status, step.alert.status, self.now, None,
                        DETECTION_NAME, None, step.note, step.data) for step in self.steps])
        record_many(actor=None, entries=[
            {"action": f"alert.{step.action}", "object_type": "alert", "object_id": step.alert.pk,
             "fields": step.fields, "data": step.audit_data}
            for step in self.steps
        ])


@transaction.atomic
def do_record_findings(findings: list[Finding]) -> list[tuple[Alert | None, str]]:
    """Record detectors' findings in order, each as `do_record_finding` would, in a fixed number of statements
    (a detection run over a year records thousands). The open alerts the findings meet are locked first."""
    if not findings:
        return []
    batch = _Batch(findings)
    outcomes = [batch.apply(finding) for finding in findings]
    batch.write()
    return outcomes


def do_record_finding(finding: Finding) -> tuple[Alert | None, str]:
    """Raise an alert for a detector's finding, or add its new matters to the open one.

    Returns the alert (None when nothing was raised) and what happened: "raised", "updated" or "unchanged".
    """
    return do_record_findings([finding])[0]


@transaction.atomic
def do_raise_manual_alert(*, actor, title: str, reason: str, severity: str, case_codes: list[str]) -> Alert:
    """人工上报: a dispatcher, supervisor or leader raises an alert over matters they see."""
    title, reason = title.strip(), reason.strip()
    if not title:
        raise AlertRuleViolation("请填写预警标题", "title")
    if not reason:
        raise AlertRuleViolation("请填写预警理由", "reason")
    if severity not in Severity._value2member_map_:
        raise AlertRuleViolation("请选择预警等级（红、橙、黄）", "severity")
    codes = [code.strip() for code in case_codes if code.strip()]
    if not codes:
        raise AlertRuleViolation("请至少填写一件事项编码", "case_codes")
    cases = [access.get_case_for_user(actor, code) for code in dict.fromkeys(codes)]
    region = common_region([case.region_id for case in cases])
    if not oversees(queries.actor_of(actor), region):
        raise AlertActionDenied("只有本区域的指挥调度员、督查员或领导可以上报预警")
    now = clock.now()
    alert = Alert.objects.create(
        kind=AlertKind.MANUAL, severity=severity, severity_rule=f"由{actor}人工定级", title=title[:160], reason=reason,
        fingerprint=f"manual:{actor.pk}:{now.timestamp()}", region_id=region, owner_unit=default_owner(region),
        detected_at=now, raised_by=actor,
    )
    AlertCase.objects.bulk_create([AlertCase(alert=alert, case=case, added_at=now) for case in cases])
    _event(alert, AlertAction.RAISE, actor=actor, from_status="", note=reason,
           data={"severity_label": SEVERITY_LABELS[Severity(severity)], "added": len(cases)})
    _audit(alert, AlertAction.RAISE, actor=actor, note=reason, data={"case_codes": [c.code for c in cases]})
    return alert


# --- the lifecycle ---------------------------------------------------------------------------------------


def _begin(alert_id: int, action: AlertAction, *, actor) -> Alert:
    alert = queries.get_alert_for_user(actor, alert_id, for_update=True)
    reason = denial_reason(queries.actor_of(actor), queries.facts_of(alert), action)
    if reason:
        raise AlertActionDenied(reason)
    return alert


def _required(text: str, message: str, field: str = "note") -> str:
    text = text.strip()
    if not text:
        raise AlertRuleViolation(message, field)
    return text


def _step(alert: Alert, action: AlertAction, *, actor, note: str, fields: list[str], data=None) -> Alert:
    from_status = alert.status
    alert.status = next_status(AlertStatus(alert.status), action)
    alert.version += 1
    alert.save(update_fields=["status", "version", "updated_at", *fields])
    _event(alert, action, actor=actor, from_status=from_status, note=note, data=data)
    _audit(alert, action, actor=actor, fields=["status", *fields], note=note, data=data)
    return alert


@transaction.atomic
def do_assess_alert(alert_id: int, *, actor, note: str, severity: str = "", owner_unit_code: str = "",
                    owner_username: str = "") -> Alert:
    """研判: the assessment note, and optionally a new severity and owner (the owner unit, and a person in it).

    Only the region's dispatchers, supervisors and leaders may change the owner.
    """
    alert = _begin(alert_id, AlertAction.ASSESS, actor=actor)
    next_status(AlertStatus(alert.status), AlertAction.ASSESS)
    note = _required(note, "请填写研判意见")
    fields, data = [], {}
    if severity:
        if severity not in Severity._value2member_map_:
            raise AlertRuleViolation("预警等级不正确（红、橙、黄）", "severity")
        if severity != alert.severity:
            alert.severity, alert.severity_rule = severity, f"研判调整：{note}"[:300]
            fields += ["severity", "severity_rule"]
            data["severity_label"] = SEVERITY_LABELS[Severity(severity)]
    if owner_unit_code or owner_username:
        if not oversees(queries.actor_of(actor), alert.region_id):
            raise AlertActionDenied("只有本区域的指挥调度员、督查员或领导可以调整责任单位")
        unit = Unit.objects.filter(code=owner_unit_code, is_active=True).first() if owner_unit_code else alert.owner_unit
        if unit is None:
            raise AlertRuleViolation("责任单位不存在或已停用", "owner_unit")
        person = None
        if owner_username:
            person = User.objects.filter(username=owner_username, unit=unit, is_active=True).first()
            if person is None:
                raise AlertRuleViolation("责任人须为责任单位的在职人员", "owner_user")
        if unit.pk != alert.owner_unit_id or (person and person.pk != alert.owner_user_id):
            alert.owner_unit, alert.owner_user = unit, person
            fields += ["owner_unit", "owner_user"]
            data["owner_unit_name"] = unit.name
            if person:
                data["owner_user_name"] = str(person)
    return _step(alert, AlertAction.ASSESS, actor=actor, note=note, fields=fields, data=data)


@transaction.atomic
def do_handle_alert(alert_id: int, *, actor, note: str) -> Alert:
    """处置: what was done about the risk."""
    alert = _begin(alert_id, AlertAction.HANDLE, actor=actor)
    next_status(AlertStatus(alert.status), AlertAction.HANDLE)
    return _step(alert, AlertAction.HANDLE, actor=actor, note=_required(note, "请填写处置情况"), fields=[])


@transaction.atomic
def do_close_alert(alert_id: int, *, actor, note: str) -> Alert:
    """办结: the centre confirms the risk is dealt with (or, after assessment, that it needs no disposal)."""
    alert = _begin(alert_id, AlertAction.CLOSE, actor=actor)
    next_status(AlertStatus(alert.status), AlertAction.CLOSE)
    note = _required(note, "请填写办结意见")
    alert.closed_at = clock.now()
    return _step(alert, AlertAction.CLOSE, actor=actor, note=note, fields=["closed_at"])


# --- the command view ------------------------------------------------------------------------------------


def _begin_command(alert_id: int, *, actor, roles) -> Alert:
    alert = queries.get_alert_for_user(actor, alert_id, for_update=True)
    who = queries.actor_of(actor)
    if not (who.roles & roles and who.unit_region and alert.region_id.startswith(who.unit_region)):
        names = "领导" if roles == INSTRUCTION_ROLES else "指挥调度员或领导"
        raise AlertActionDenied(f"只有本区域的{names}可以执行此操作")
    if not alert.is_command_eligible:
        raise AlertRuleViolation("只有红色预警或群体性事件可以启用指挥")
    if alert.status == AlertStatus.CLOSED:
        raise AlertRuleViolation("预警已办结，不能再下达指挥任务或批示")
    return alert


def _side(alert: Alert, action: AlertAction, *, actor, note: str, data: dict) -> None:
    alert.version += 1
    alert.save(update_fields=["version", "updated_at"])
    _event(alert, action, actor=actor, from_status=alert.status, note=note, data=data)
    _audit(alert, action, actor=actor, note=note, data=data)


@transaction.atomic
def do_assign_command_task(alert_id: int, *, actor, unit_code: str, action: str, due_at: datetime | None) -> CommandTask:
    """下达指挥任务: an action for a unit, with a deadline."""
    alert = _begin_command(alert_id, actor=actor, roles=COMMAND_ROLES)
    text = _required(action, "请填写任务内容", "action")
    if len(text) > 300:
        raise AlertRuleViolation("任务内容不能超过 300 字", "action")
    unit = Unit.objects.filter(code=unit_code, is_active=True).first()
    if unit is None:
        raise AlertRuleViolation("请选择有效的承办单位", "unit")
    now = clock.now()
    if due_at is None or due_at <= now:
        raise AlertRuleViolation("完成期限须晚于当前时间", "due_at")
    task = CommandTask.objects.create(alert=alert, unit=unit, action=text, due_at=due_at, assigned_at=now,
                                      assigned_by=actor)
    _side(alert, AlertAction.ASSIGN_TASK, actor=actor, note=f"完成期限 {timezone.localtime(due_at):%Y-%m-%d %H:%M}",
          data={"task": text, "unit_name": unit.name, "task_id": task.pk})
    return task


@transaction.atomic
def do_complete_command_task(task_id: int, *, actor, result: str) -> CommandTask:
    """The unit reports its command task done, with what it did."""
    task = (
        CommandTask.objects.select_for_update(of=("self",)).select_related("alert", "unit")
        .filter(pk=task_id, alert__in=queries.visible_alerts(actor)).first()
    )
    if task is None:
        raise queries.AlertNotFound("任务不存在或无权查看")
    if task.unit_id != actor.unit_id:
        raise AlertActionDenied("只有承办单位可以报告任务完成")
    if task.status == TaskStatus.DONE:
        raise AlertRuleViolation("该任务已完成")
    result = _required(result, "请填写完成情况", "result")
    task.status, task.done_at, task.done_by, task.result = TaskStatus.DONE, clock.now(), actor, result
    task.save(update_fields=["status", "done_at", "done_by", "result"])
    alert = Alert.objects.select_for_update().get(pk=task.alert_id)
    _side(alert, AlertAction.COMPLETE_TASK, actor=actor, note=result,
          data={"task": task.action, "unit_name": task.unit.name, "task_id": task.pk})
    return task


@transaction.atomic
def do_record_command_instruction(alert_id: int, *, actor, text: str, case_codes: list[str] = ()) -> CommandInstruction:
    """领导批示 at command level; also written on each chosen matter of the alert (`do_record_leader_instruction`)."""
    alert = _begin_command(alert_id, actor=actor, roles=INSTRUCTION_ROLES)
    text = _required(text, "请填写批示内容", "text")
    codes = list(dict.fromkeys(code.strip() for code in case_codes if code.strip()))
    linked = set(AlertCase.objects.filter(alert=alert, case__code__in=codes).values_list("case__code", flat=True))
    missing = [code for code in codes if code not in linked]
    if missing:
        raise AlertRuleViolation(f"事项 {'、'.join(missing)} 不在本预警中", "case_codes")
    for code in codes:
        case_actions.do_record_leader_instruction(code, actor=actor, instruction=text)
    instruction = CommandInstruction.objects.create(alert=alert, text=text, case_codes=codes, given_at=clock.now(),
                                                    given_by=actor)
    _side(alert, AlertAction.RECORD_INSTRUCTION, actor=actor, note=text, data={"case_codes": codes})
    return instruction

