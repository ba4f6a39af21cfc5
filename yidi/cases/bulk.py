"""Registering many matters at once (the 12345 import): the same steps as `do_register_case`, written with one
statement per table for the whole batch.

Rules:
- one transaction per batch (the caller's, or this function's own); each matter ends up with exactly the rows
  `do_register_case` gives it: the matter with its code and deadline summary, parties in the person index
  (encrypted fields and search hashes), labels, triage feedback, text keys, first contact (and visit), clocks,
  the `register` timeline event with every `EVENT_LISTENERS` effect (webhooks, hotline sync …) and its audit row;
- each listener runs once per matter, in the batch's order, after all the batch's events are written; a listener
  that offers a batch form (`listener.for_batch(pairs)`, see `EVENT_LISTENERS`) is called once with every
  (case, event) pair instead;
- reference rows (places, channels, code lists) are read once per batch; the code sequence of each prefix is
  advanced once per batch; the audit chain is extended once, in the batch's order;
- a draft that breaks a rule is not written and comes back as its `InvalidInput` (or `RuleViolation`) in its
  place; the other drafts of the batch are written. Any other error undoes the whole batch and is raised;
- triage runs in this process, or over `triage_pool` (a `concurrent.futures` executor whose workers run the pure
  engine), in the order of the drafts.
"""

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor

from django.db import transaction
from django.utils import timezone

from yidi.accounts import access
from yidi.audit.actions import record_many
from yidi.cases import domain
from yidi.cases.actions import (
    EVENT_LISTENERS,
    REGISTRATION_AUDIT_FIELDS,
    TRIAGED_TAXONOMIES,
    PersonIndex,
    ReferenceRows,
    Registration,
    check_registration,
    first_contact,
    label_rows,
    new_case,
    plan_registration,
    registration_event_data,
    triage_context,
)
from yidi.cases.domain import CaseAction, CaseDraft, InvalidInput, RuleViolation
from yidi.cases.models import (
    Case,
    CaseDeadline,
    CaseEvent,
    CaseLabel,
    CaseParty,
    Contact,
    TriageFeedback,
    Visit,
)
from yidi.cases.triage import index_new_cases
from yidi.core import clock
from yidi.core.codes import format_case_code, next_numbers
from yidi.triage.engine import Analysis, TriageContext, analyse

Refused = InvalidInput | RuleViolation


def _analyse(job: tuple[str, TriageContext]) -> Analysis:
    text, context = job
    return analyse(text, context=context)


def analyse_many(jobs: list[tuple[str, TriageContext]], *, pool: Executor | None = None) -> list[Analysis]:
    """The engine's analysis of each (text, context), in order; spread over `pool` when one is given (the
    engine is pure, so its workers need no database)."""
    if pool is None or len(jobs) < 2:
        return [_analyse(job) for job in jobs]
    return list(pool.map(_analyse, jobs, chunksize=max(1, len(jobs) // 8)))


@transaction.atomic
def do_register_cases(drafts: Sequence[CaseDraft], *, actor, triage_pool: Executor | None = None
                      ) -> list[Case | Refused]:
    """Register a batch of matters (登记赋码) in one transaction: for each draft, in order, its new `Case` or
    the reason it was refused (nothing of it written). `ActionDenied` when the actor may not register."""
    if not actor.role_set & domain.ACTION_ROLES[CaseAction.REGISTER]:
        raise access.ActionDenied("您的角色无权登记事项")
    results: list[Case | Refused | None] = [None] * len(drafts)
    refs = ReferenceRows()
    refs.load_places({draft.region_code for draft in drafts}, {draft.channel_code for draft in drafts})
    refs.load_taxonomies({*TRIAGED_TAXONOMIES, "mediation_type", *(t for d in drafts for t in d.labels)})
    now = clock.now()
    checked = []
    for index, draft in enumerate(drafts):
        try:
            checked.append((index, *check_registration(draft, actor=actor, refs=refs)))
        except (InvalidInput, RuleViolation) as error:
            results[index] = error
    analyses = analyse_many(
        [(draft.description, triage_context(region, now=now)) for _, draft, region, _ in checked], pool=triage_pool
    )
    planned: list[tuple[int, Registration]] = []
    for (index, draft, region, channel), suggestion in zip(checked, analyses, strict=True):
        try:
            planned.append((index, plan_registration(draft, region, channel, suggestion, refs=refs)))
        except (InvalidInput, RuleViolation) as error:
            results[index] = error
    for index, case in zip((index for index, _ in planned), _write(planned, actor=actor, now=now), strict=True):
        results[index] = case
    return results  # type: ignore[return-value]


def _codes(registrations: list[Registration], *, now) -> list[str]:
    """The next codes, in order: each prefix's sequence advanced once for all its matters of the batch."""
    year = timezone.localtime(now).year
    prefixes = [domain.case_code_prefix(registration.region.code) for registration in registrations]
    numbers = {prefix: iter(next_numbers(prefix, year, count)) for prefix, count in Counter(prefixes).items()}
    return [format_case_code(prefix, year, next(numbers[prefix])) for prefix in prefixes]


def _write(planned: list[tuple[int, Registration]], *, actor, now) -> list[Case]:
    """Write the planned matters: one insert per table, then the listeners of each event, then the audit rows."""
    if not planned:
        return []
    registrations = [registration for _, registration in planned]
    cases, clocks = [], []
    for registration, code in zip(registrations, _codes(registrations, now=now), strict=True):
        case, started = new_case(registration, actor=actor, now=now, code=code)
        cases.append(case)
        clocks.extend(started)
    Case.objects.bulk_create(cases)
    people = PersonIndex(now=now)
    people.prefetch(party for registration in registrations for party in registration.draft.parties)
    parties, applicants = [], []
    for case, registration in zip(cases, registrations, strict=True):
        applicant = None
        for position, party in enumerate(registration.draft.parties):
            person = people.find_or_add(party)
            parties.append(CaseParty(case=case, person=person, role=party.role, position=position))
            if applicant is None and party.role == "applicant":
                applicant = person
        applicants.append(applicant)
    people.save()
    CaseParty.objects.bulk_create(parties)
    labels, feedback, contacts, visits = [], [], [], []
    for case, registration, applicant in zip(cases, registrations, applicants, strict=True):
        case_labels, case_feedback = label_rows(case, registration, actor=actor, now=now)
        labels += case_labels
        feedback += case_feedback
        for row in first_contact(case, registration, applicant, actor=actor, now=now):
            (contacts if isinstance(row, Contact) else visits).append(row)
    CaseLabel.objects.bulk_create(labels)
    TriageFeedback.objects.bulk_create(feedback)
    index_new_cases(cases)
    Contact.objects.bulk_create(contacts)
    Visit.objects.bulk_create(visits)
    CaseDeadline.objects.bulk_create(clocks)
    actor_name, actor_unit_id = str(actor), actor.unit_id
    events = CaseEvent.objects.bulk_create([
        CaseEvent(
            case=case, seq=case.version, action=CaseAction.REGISTER, from_status="", to_status=case.status, at=now,
            actor=actor, actor_name=actor_name, actor_unit_id=actor_unit_id, reason="",
            data=registration_event_data(registration),
        )
        for case, registration in zip(cases, registrations, strict=True)
    ])
    pairs = list(zip(cases, events, strict=True))
    for listener in EVENT_LISTENERS:
        for_batch = getattr(listener, "for_batch", None)
        if for_batch is not None:
            for_batch(pairs)
        else:
            for case, event in pairs:
                listener(case, event)
    record_many(actor=actor, entries=[
        {"action": f"case.{CaseAction.REGISTER}", "object_type": "case", "object_id": case.code,
         "fields": REGISTRATION_AUDIT_FIELDS}
        for case in cases
    ])
    return cases
