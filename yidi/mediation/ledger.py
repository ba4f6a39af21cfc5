"""以案定补: the per-case subsidy ledger of mediators and its monthly statements (per mediator, per unit) as CSV
(UTF-8 with BOM, for Excel) and .xlsx.

Rules:
- a mediation that ends in a written agreement taking effect or an oral agreement earns the case's amount for
  its difficulty (`SubsidyRate`, the matter's complexity; blank counts as simple), split equally between the
  designated mediators; the entries are written inside that action (its one event names the amount);
- only dispatchers, leaders and supervisors see the ledger, limited to the matters in their scope; every export
  is audited.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Sum
from openpyxl import Workbook

from yidi.accounts import access
from yidi.accounts.domain import Role
from yidi.audit.actions import record
from yidi.core.deadlines import local_date
from yidi.mediation.domain import month_bounds, split_subsidy
from yidi.mediation.models import Designation, Mediation, SubsidyEntry, SubsidyRate

LEDGER_ROLES = frozenset({Role.DISPATCHER, Role.LEADER, Role.SUPERVISOR})


def can_see_ledger(user) -> bool:
    return access.can_read_cases(user) and bool(user.role_set & LEDGER_ROLES)


def add_subsidy_entries(case, mediation: Mediation, *, at: datetime) -> Decimal:
    """Write the mediators' shares for a successful mediation; returns the case's amount (0 without a rate)."""
    complexity = case.complexity or "simple"
    rate = SubsidyRate.objects.filter(complexity=complexity).first()
    designations = list(
        Designation.objects.filter(mediation=mediation, ended_at=None).select_related("mediator__user")
        .order_by("-is_lead", "designated_at", "id")
    )
    if rate is None or not designations:
        return Decimal("0")
    shares = split_subsidy(rate.amount, len(designations))
    SubsidyEntry.objects.bulk_create([
        SubsidyEntry(
            mediation=mediation, case=case, mediator=d.mediator, unit_id=d.mediator.user.unit_id,
            complexity=complexity, case_amount=rate.amount, mediator_count=len(designations), amount=share,
            earned_on=local_date(at), created_at=at,
        )
        for d, share in zip(designations, shares, strict=True)
    ])
    return rate.amount


@dataclass(frozen=True)
class Statement:
    month: date
    entries: list
    per_mediator: list[dict]
    per_unit: list[dict]
    total: Decimal


def get_statement(user, month: date) -> Statement:
    if not can_see_ledger(user):
        raise access.CaseNotFound("页面不存在")
    first, following = month_bounds(month)
    entries = (
        SubsidyEntry.objects.filter(case__in=access.visible_cases(user), earned_on__gte=first, earned_on__lt=following)
        .select_related("case", "mediator__user", "unit").order_by("earned_on", "id")
    )
    per_mediator = list(
        entries.order_by().values("mediator_id", "mediator__user__display_name", "unit__name")
        .annotate(cases=Count("id"), total=Sum("amount")).order_by("unit__name", "mediator__user__display_name")
    )
    per_unit = list(
        entries.order_by().values("unit_id", "unit__name").annotate(cases=Count("case_id", distinct=True),
                                                                   total=Sum("amount")).order_by("unit__name")
    )
    total = sum((row["total"] for row in per_unit), Decimal("0.00"))
    return Statement(first, list(entries), per_mediator, per_unit, total)


def _rows(statement: Statement) -> list[list]:
    rows = [[f"以案定补月度结算表 {statement.month.year}年{statement.month.month}月"], [],
            ["一、明细"], ["结案日期", "事项编码", "调解员", "所在单位", "难易程度", "每案补贴（元）", "调解员人数", "本人金额（元）"]]
    rows += [[e.earned_on.isoformat(), e.case.code, str(e.mediator), e.unit.name, e.get_complexity_display(),
              e.case_amount, e.mediator_count, e.amount] for e in statement.entries]
    rows += [[], ["二、按调解员汇总"], ["调解员", "所在单位", "案件数", "金额（元）"]]
    rows += [[r["mediator__user__display_name"], r["unit__name"], r["cases"], r["total"]] for r in statement.per_mediator]
    rows += [[], ["三、按单位汇总"], ["单位", "案件数", "金额（元）"]]
    rows += [[r["unit__name"], r["cases"], r["total"]] for r in statement.per_unit]
    rows += [[], ["合计（元）", statement.total]]
    return rows


def statement_csv(statement: Statement) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _rows(statement):
        writer.writerow([f"{value:.2f}" if isinstance(value, Decimal) else value for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def statement_xlsx(statement: Statement) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"{statement.month:%Y-%m}"
    for row in _rows(statement):
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, (Decimal, float)):
                cell.number_format = "0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


EXPORTS = {
    "csv": (statement_csv, "text/csv; charset=utf-8"),
    "xlsx": (statement_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def do_export_statement(user, month: date, fmt: str) -> tuple[bytes, str, str]:
    """The month's statement as a file (content, content type, filename); audited."""
    statement = get_statement(user, month)
    write, content_type = EXPORTS[fmt]
    record(actor=user, action="mediation.export_subsidy_statement", object_type="subsidy_statement",
           object_id=f"{statement.month:%Y-%m}", data={"format": fmt, "entries": len(statement.entries),
                                                       "total": f"{statement.total:.2f}"})
    return write(statement), content_type, f"以案定补结算-{statement.month:%Y-%m}.{fmt}"
