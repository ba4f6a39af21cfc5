"""The risk detection run (`detect_risks`): every active detector over every county (or one region), each finding
recorded through `actions.do_record_finding`, which deduplicates. Run daily by the task `detect_risks_task` and the
command `manage.py detect_risks`; `--from` re-runs the detectors over a past period (backfill, benchmark)."""

import logging
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from yidi.accounts.domain import UnitKind
from yidi.accounts.models import Unit
from yidi.supervision import actions
from yidi.supervision.detection import DETECTORS, zone
from yidi.supervision.domain import AlertKind
from yidi.supervision.models import DetectionRule

logger = logging.getLogger(__name__)


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
    """Run the active detectors over [first_on, as_of] (default: the day `as_of`, itself default today)."""
    as_of = as_of or timezone.localtime(timezone.now(), zone()).date()
    first_on = min(first_on or as_of, as_of)
    rules = {rule.kind: rule for rule in DetectionRule.objects.filter(is_active=True)}
    result = DetectionResult()
    for code in [region] if region else default_regions():
        for kind, detect in DETECTORS.items():
            rule = rules.get(kind)
            if rule is None or (kinds and kind not in kinds):
                continue
            findings = detect(code, first_on=first_on, last_on=as_of, rule=rule)
            result.findings += len(findings)
            result.by_kind[AlertKind(kind).value] = result.by_kind.get(kind, 0) + len(findings)
            for finding in findings:
                _, outcome = actions.do_record_finding(finding)
                setattr(result, outcome, getattr(result, outcome) + 1)
    logger.info("risk detection %s..%s: %s", first_on, as_of, result)
    return result
