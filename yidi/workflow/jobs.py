"""The deadline sweep: finds matters whose deadline needs attention (the indexed `Case.next_deadline_at`) and
applies the 督办 ladder to each — warnings, urging, escalation, offering another legal route — as actions.

- Claiming: each batch is selected with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never process
  the same matter; on SQLite the write transaction (BEGIN IMMEDIATE) serialises workers, and a processed row
  has moved its `next_deadline_at` on, so the second worker finds nothing.
- Idempotent: every effect is recorded on its clock (`CaseDeadline.applied`) in the same transaction as the
  effect, and the pure ladder never returns an applied effect again. Running the sweep twice does nothing more.
- One failure does not stop the sweep: that matter's `next_deadline_at` is pushed `RETRY_DELAY` forward and
  the error is logged; the others go on.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from yidi.cases import actions
from yidi.cases.models import Case
from yidi.core import clock

logger = logging.getLogger(__name__)
RETRY_DELAY = timedelta(minutes=15)
BATCH_SIZE = 500
# What the sweep reads and writes of a matter (loading whole rows with their relations costs more than the
# effects); the lead unit's code picks its working calendar.
CLAIMED_FIELDS = (
    "id", "code", "status", "version", "updated_at", "lead_unit__code",
    "due_at", "deadline_state", "next_deadline_at", "deadline_policy",
)


@dataclass
class SweepResult:
    processed: int = 0
    effects: int = 0
    failures: int = 0

    def __str__(self) -> str:
        return f"处理事项 {self.processed} 件，执行督办动作 {self.effects} 项，失败 {self.failures} 件"


def process_case(case: Case, *, now: datetime) -> int:
    """Apply the effects now due on one matter's clocks; returns how many were applied."""
    return actions.do_apply_deadline_effects([case], now=now).effects


def _claim(now: datetime, size: int) -> list[Case]:
    queryset = Case.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.select_related("lead_unit").only(*CLAIMED_FIELDS)[:size])


def sweep_deadlines(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepResult:
    """Process every matter due at `now` (default: the current time), batch by batch.

    A batch is applied in bulk; if it fails, its matters are retried one by one, each in its own savepoint,
    so one bad matter is pushed back `RETRY_DELAY` and the others still get their effects.
    """
    now = now or clock.now()
    result = SweepResult()
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            batch = [case for case in _claim(now, batch_size) if case.pk not in seen]
            if not batch:
                return result
            seen.update(case.pk for case in batch)
            try:
                with transaction.atomic(), clock.at(now):
                    applied = actions.do_apply_deadline_effects(batch, now=now)
                result.processed += applied.processed
                result.effects += applied.effects
                continue
            except Exception:
                logger.exception("deadline sweep batch failed; retrying its %s matters one by one", len(batch))
            for case in batch:
                try:
                    with transaction.atomic(), clock.at(now):
                        case.refresh_from_db()
                        result.effects += process_case(case, now=now)
                    result.processed += 1
                except Exception:
                    logger.exception("deadline sweep failed on %s; retrying later", case.code)
                    Case.objects.filter(pk=case.pk).update(next_deadline_at=now + RETRY_DELAY)
                    result.failures += 1
