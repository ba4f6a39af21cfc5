"""The risk detection run (`detect_risks`): every active detector over every county (or one region), the findings
recorded through `actions.do_record_findings`, which deduplicates. Run daily by the task `detect_risks_task` and the
command `manage.py detect_risks`; `--from` re-runs the detectors over a past period (backfill, benchmark).

A run over a period leaves exactly the alerts that one run per day of the period would leave (same alerts, kinds,
fingerprints, severities, matters, titles, reasons and figures). The detectors compute every day's signals from a
few aggregates over the whole period (`detection`); `_Ledger` then applies `do_record_finding`'s rules to them in
day order in memory, over the alerts on record, and writes the outcome in one batch through the same rules
(`do_record_findings`): each new alert raised by its first finding, then at most one further finding per alert
adding every matter the later days added (with the latest figures and the highest severity reached); a new alert
other than a group alert (which another group's finding may meet) is raised with all of it at once. A period's
timeline thus has one 新增关联事项 step per alert at most where daily runs have one per day. Runs are serialised
by locking the detection rules, so two runs never raise the same alert twice."""

import logging
from dataclasses import dataclass, field, replace
from datetime import date

from django.db import transaction
from django.utils import timezone

from yidi.accounts.domain import UnitKind
from yidi.accounts.models import Unit
from yidi.regions.domain import code_range
from yidi.supervision import actions
from yidi.supervision.detection import DETECTORS, Signal, zone
from yidi.supervision.domain import AlertKind, AlertStatus, Finding, Severity
from yidi.supervision.models import OPEN_ALERT, Alert, AlertCase, DetectionRule

logger = logging.getLogger(__name__)
CHUNK = 500  # values per IN list when loading the alerts on record
KIND_ORDER = {kind: n for n, kind in enumerate(DETECTORS)}


@dataclass
class DetectionResult:
    findings: int = 0
    raised: int = 0
    updated: int = 0
    unchanged: int = 0
    by_kind: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return (f"发现信号 {self.findings} 项：新增预警 {self.raised} 条，"
                f"已有预警新增关联事项 {self.updated} 条，无变化 {self.unchanged} 条")


def default_regions() -> list[str]:
    """The counties that have a 矛调中心 (one detection region each)."""
    return sorted(set(Unit.objects.filter(kind=UnitKind.CENTRE, is_active=True).values_list("region_id", flat=True)))


def detect_risks(*, region: str = "", as_of: date | None = None, first_on: date | None = None,
                 kinds: tuple[str, ...] = ()) -> DetectionResult:
    """Run the active detectors over [first_on, as_of] (default: the day `as_of`, itself default today), with the
    outcome of one run per day of the period."""
    as_of = as_of or timezone.localtime(timezone.now(), zone()).date()
    first_on = min(first_on or as_of, as_of)
    rules = {rule.kind: rule for rule in DetectionRule.objects.filter(is_active=True)}
    result = DetectionResult()
    for code in [region] if region else default_regions():
        signals = []
        for kind, detect in DETECTORS.items():
            rule = rules.get(kind)
            if rule is None or (kinds and kind not in kinds):
                continue
            signals += detect(code, first_on=first_on, last_on=as_of, rule=rule)
        signals.sort(key=lambda s: (s.day, KIND_ORDER[s.kind]))  # stable: each detector's order within a day
        with transaction.atomic():
            # One run records at a time: a second waits here, then reads the alerts the first left.
            list(DetectionRule.objects.select_for_update().filter(pk__in=[rule.pk for rule in rules.values()]))
            ledger = _Ledger(code, signals)
            for signal in signals:
                outcome = ledger.record(signal)
                result.findings += 1
                result.by_kind[signal.kind.value] = result.by_kind.get(signal.kind.value, 0) + 1
                setattr(result, outcome, getattr(result, outcome) + 1)
            ledger.write()
    logger.info("risk detection %s..%s: %s", first_on, as_of, result)
    return result


@dataclass(eq=False)
class _Alert:
    """An alert as `do_record_finding` would leave it after each signal so far: what its rules read."""

    fingerprint: str
    kind: str
    status: str
    severity: Severity
    order: tuple  # the overlap rule's order: alerts on record by (detected_at, id), then new ones as raised
    held: set
    on_record: Alert | None = None
    raised_by: Signal | None = None
    added: set = field(default_factory=set)  # matters added after the raise (or to an alert on record)
    last_own: Signal | None = None  # the last signal with this fingerprint that added matters: the figures
    upgraded_by: Signal | None = None  # the signal that last raised the severity


class _Ledger:
    """`actions.do_record_finding`'s deduplication applied in memory to a run's signals in day order, then written
    through `do_record_finding`: new alerts first (their raising finding), then one call per alert that gained
    matters. Every new alert's first finding meets no more of the alerts' matters when written than it did in
    day order, so it raises the same alert; the later calls carry the alert's own fingerprint, so they land on it.
    """

    def __init__(self, region: str, signals: list[Signal]):
        self.alerts: list[_Alert] = []
        self.open: dict[str, _Alert] = {}
        self.closed: dict[str, set] = {}
        self.owner: dict[int, _Alert] = {}  # matter → the first open group alert holding it
        self.marks: dict[tuple[str, int], tuple[list, int]] = {}  # (fingerprint, alert) → its last window's end
        fingerprints = sorted({signal.fingerprint for signal in signals})
        if fingerprints:
            self._load(region, fingerprints, any(signal.kind == AlertKind.CLUSTER for signal in signals))

    def _load(self, region: str, fingerprints: list[str], clusters: bool) -> None:
        on_record: dict[int, Alert] = {}
        for n in range(0, len(fingerprints), CHUNK):
            chunk = fingerprints[n:n + CHUNK]
            on_record.update((a.pk, a) for a in Alert.objects.filter(OPEN_ALERT, fingerprint__in=chunk))
            for fingerprint, case_id in AlertCase.objects.filter(
                alert__fingerprint__in=chunk, alert__status=AlertStatus.CLOSED
            ).values_list("alert__fingerprint", "case_id"):
                self.closed.setdefault(fingerprint, set()).add(case_id)
        if clusters:
            low, high = code_range(region)
            holding = AlertCase.objects.filter(case__region_id__gte=low, case__region_id__lt=high).values("alert_id")
            on_record.update((a.pk, a) for a in Alert.objects.filter(OPEN_ALERT, kind=AlertKind.CLUSTER,
                                                                     pk__in=holding))
        held: dict[int, set] = {pk: set() for pk in on_record}
        pks = sorted(on_record)
        for n in range(0, len(pks), CHUNK):
            for alert_id, case_id in AlertCase.objects.filter(alert_id__in=pks[n:n + CHUNK]).values_list(
                "alert_id", "case_id"
            ):
                held[alert_id].add(case_id)
        for alert in sorted(on_record.values(), key=lambda a: (a.detected_at, a.pk)):
            self._add(_Alert(alert.fingerprint, alert.kind, alert.status, Severity(alert.severity),
                             (0, alert.detected_at, alert.pk), held[alert.pk], on_record=alert))

    def _add(self, alert: _Alert) -> None:
        self.alerts.append(alert)
        self.open[alert.fingerprint] = alert
        self._index(alert, alert.held)

    def _index(self, alert: _Alert, case_ids) -> None:
        if alert.kind != AlertKind.CLUSTER:
            return
        for case_id in case_ids:
            first = self.owner.get(case_id)
            if first is None or alert.order < first.order:
                self.owner[case_id] = alert

    def _overlapping(self, signal: Signal) -> _Alert | None:
        window = signal.window
        found = {self.owner[c] for c in window.items[window.lo:window.hi] if c in self.owner}
        return min(found, key=lambda a: a.order) if found else None

    def _new_ids(self, alert: _Alert, signal: Signal) -> set:
        """The signal's matters the alert does not hold. The window up to the end of the last window of the same
        series that reached this alert is held already (windows only move forward), so only the rest is looked at.
        """
        window = signal.window
        start = window.lo
        mark = self.marks.get((signal.fingerprint, id(alert)))
        if mark is not None and mark[0] is window.items:
            start = max(start, mark[1])
        self.marks[(signal.fingerprint, id(alert))] = (window.items, window.hi)
        return {c for c in window.items[start:window.hi] if c not in alert.held}

    def record(self, signal: Signal) -> str:
        """What `do_record_finding` does with the signal's finding: "raised", "updated" or "unchanged"."""
        alert = self.open.get(signal.fingerprint)
        if alert is None and signal.kind == AlertKind.CLUSTER:
            alert = self._overlapping(signal)
        if alert is not None:
            new_ids = self._new_ids(alert, signal)
            if not new_ids:
                return "unchanged"
            alert.held |= new_ids
            alert.added |= new_ids
            self._index(alert, new_ids)
            if alert.fingerprint == signal.fingerprint:
                alert.last_own = signal
            if alert.status == AlertStatus.NEW and signal.severity.rank > alert.severity.rank:
                alert.severity, alert.upgraded_by = signal.severity, signal
            return "updated"
        case_ids = set(signal.window.ids())
        if not case_ids or case_ids <= self.closed.get(signal.fingerprint, set()):
            return "unchanged"
        alert = _Alert(signal.fingerprint, signal.kind, AlertStatus.NEW, signal.severity, (1, len(self.alerts)),
                       case_ids, raised_by=signal)
        self.marks[(signal.fingerprint, id(alert))] = (signal.window.items, signal.window.hi)
        self._add(alert)
        return "raised"

    def write(self) -> None:
        """Record the run in one batch (`actions.do_record_findings`): the new alerts first, then one finding per
        alert that gained matters after its raise."""
        raises, additions, folded = [], [], set()
        for alert in self.alerts:
            if alert.raised_by is None:
                continue
            finding = alert.raised_by.finding()
            if alert.added and alert.kind != AlertKind.CLUSTER:
                finding = self._folded(alert, finding)
                folded.add(alert)
            raises.append((alert, finding))
        for alert in self.alerts:
            if alert.added and alert not in folded:
                additions.append((alert, self._additions(alert)))
        outcomes = actions.do_record_findings([finding for _, finding in raises + additions])
        for (alert, _), (_, outcome), expected in zip(raises + additions, outcomes,
                                                      ["raised"] * len(raises) + ["updated"] * len(additions),
                                                      strict=True):
            if outcome != expected:
                logger.warning("risk detection: %s was %s, not %s (changed during the run)",
                               alert.fingerprint, outcome, expected)

    def _folded(self, alert: _Alert, raising: Finding) -> Finding:
        """A new alert raised at once with all it gained in day order: the first finding's title and start, the
        latest figures of its series, the severity (and rule) it reached. Not for group alerts: another group's
        finding may meet a group alert's matters, so it must hold no more when raised than in day order (which also
        keeps `do_record_finding`'s look-up of overlapping group alerts to the few matters of the first finding)."""
        severity, severity_rule = raising.severity, raising.severity_rule
        if alert.upgraded_by is not None:
            upgraded = alert.upgraded_by.finding()
            severity, severity_rule = upgraded.severity, upgraded.severity_rule
        last = alert.last_own.finding() if alert.last_own is not None else raising
        return replace(raising, case_ids=tuple(sorted(alert.held)), severity=severity, severity_rule=severity_rule,
                       reason=last.reason, measures=last.measures, period_end_on=last.period_end_on)

    def _additions(self, alert: _Alert) -> Finding:
        """One finding adding all the alert gained after its raise: the latest figures of its own series, and the
        severity (with its rule) it reached."""
        if alert.last_own is not None:
            base = alert.last_own.finding()
        elif alert.raised_by is not None:
            base = alert.raised_by.finding()
        else:  # an alert on record that only gained matters of another group sharing some
            held = alert.on_record
            base = Finding(kind=AlertKind(held.kind), fingerprint=held.fingerprint, title=held.title,
                           reason=held.reason, severity=Severity(held.severity), severity_rule=held.severity_rule,
                           region=held.region_id, case_ids=(), dispute_type_id=held.dispute_type_id,
                           period_start_on=held.period_start_on, period_end_on=held.period_end_on,
                           measures=held.measures)
        severity, severity_rule = base.severity, base.severity_rule
        if alert.upgraded_by is not None:
            upgraded = alert.upgraded_by.finding()
            severity, severity_rule = upgraded.severity, upgraded.severity_rule
        elif severity.rank > alert.severity.rank:
            severity = alert.severity  # never raised in day order: leave the alert's severity as it is
        return replace(base, fingerprint=alert.fingerprint, case_ids=tuple(sorted(alert.added)), severity=severity,
                       severity_rule=severity_rule)
