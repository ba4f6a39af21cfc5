"""Assertions shared by the action tests."""

from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseEvent


def snapshot(case: Case) -> dict:
    """Everything an action may change about a matter, to prove that a refused one changed nothing."""
    case = Case.objects.get(pk=case.pk)
    return {
        "case": {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields},
        "events": CaseEvent.objects.filter(case=case).count(),
        "audit": AuditEvent.objects.count(),
        "assignments": list(case.assignments.values_list("unit_id", "role", "status").order_by("id")),
        "contacts": case.contacts.count(),
        "visits": case.visits.count(),
        "attachments": case.attachments.count(),
    }


class Counter:
    """Counts the events and audit rows an action writes."""

    def __init__(self, case: Case | None = None):
        self.case = case
        self.events = CaseEvent.objects.count()
        self.audit = AuditEvent.objects.count()

    def added(self) -> tuple[int, int]:
        return CaseEvent.objects.count() - self.events, AuditEvent.objects.count() - self.audit
