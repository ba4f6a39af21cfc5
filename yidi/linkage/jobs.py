"""Periodic work of 三级联动: the month's figures, sent up once a day (`tasks.report_figures_task`)."""

from datetime import date

from yidi.linkage.actions import do_report_figures
from yidi.linkage.domain import PeerDirection, month_of
from yidi.linkage.models import FiguresReport
from yidi.linkage.queries import active_peers, previous_month

LATE_DAYS = 5  # in the first days of a month, the previous month is reported again (late registrations)


def report_figures(month: str | None = None, *, today: date) -> list[FiguresReport]:
    """Report `month`, or by default the current month (and the previous one in its first `LATE_DAYS` days).
    Nothing is computed when no platform above is configured, unless a month is named."""
    if month:
        return [do_report_figures(month)]
    if not active_peers(PeerDirection.ABOVE):
        return []
    current = month_of(today.year, today.month)
    months = [previous_month(current), current] if today.day <= LATE_DAYS else [current]
    return [do_report_figures(item) for item in months]
