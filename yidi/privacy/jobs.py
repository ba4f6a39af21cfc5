"""The retention job: anonymise the personal data of every matter past its retention period.

- Periods come from the active `RetentionRule` rows (data); a record type without an active rule is kept.
- Each matter is anonymised in its own transaction with its own audit row, so one failure does not stop the
  others: it is logged, counted, and retried at the next run.
- Idempotent: anonymised matters are never selected again. `dry_run` only lists what would be done.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from yidi.core import clock
from yidi.privacy import actions, domain, queries
from yidi.privacy.models import RetentionRule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpiredCase:
    case_id: int
    code: str
    record_type: domain.RecordType
    retention_years: int
    retention_started_at: datetime


@dataclass
class AnonymisationReport:
    dry_run: bool
    found: list[ExpiredCase] = field(default_factory=list)
    anonymised: int = 0
    failures: int = 0

    def __str__(self) -> str:
        if self.dry_run:
            return f"试运行：{len(self.found)} 件事项已超过保存期限，将做匿名化处理（未做任何修改）"
        return f"已匿名化 {self.anonymised} 件事项，失败 {self.failures} 件"


def list_expired(now: datetime) -> list[ExpiredCase]:
    expired = []
    for rule in RetentionRule.objects.filter(is_active=True).order_by("record_type"):
        record_type = rule.record_type_enum
        cutoff = domain.retention_cutoff(now, rule.retention_years)
        expired += [
            ExpiredCase(case_id, code, record_type, rule.retention_years, started_at)
            for case_id, code, started_at in queries.list_expired_cases(record_type, cutoff=cutoff)
        ]
    return expired


def anonymise_expired(now: datetime | None = None, *, dry_run: bool = False) -> AnonymisationReport:
    now = now or clock.now()
    report = AnonymisationReport(dry_run=dry_run, found=list_expired(now))
    if dry_run:
        return report
    for item in report.found:
        try:
            done = actions.do_anonymise_case(
                item.case_id, record_type=item.record_type, retention_years=item.retention_years,
                retention_started_at=item.retention_started_at, now=now,
            )
        except Exception:  # one bad matter must not stop the rest; it is retried at the next run
            logger.exception("anonymising matter %s failed", item.code)
            report.failures += 1
            continue
        report.anonymised += done is not None
    return report
