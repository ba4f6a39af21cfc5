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
  advanced once per batch, after every row is written under a placeholder code (the sequence stays locked until
  the commit, so only the listeners and the audit rows run while it is held); the audit chain is extended
  once, in the batch's order;
- a draft that breaks a rule is not written and comes back as its `InvalidInput` (or `RuleViolation`) in its
  place; the other drafts of the batch are written. Any other error undoes the whole batch and is raised;
- triage runs in this process, or over `triage_pool` (a `concurrent.futures` executor whose workers run the pure
  engine), in the order of the drafts.
"""

from collections.abc import Sequence
from concurrent.futures import Executor
from functools import partial

from django.db import connection, transaction

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
    assign_codes,
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
    CaseEvent,
    CaseParty,
    Contact,
)
from yidi.cases.triage import index_new_cases
from yidi.core import clock
from yidi.core.bulk import insert_values
from yidi.core.codes import placeholder_code
from yidi.integrations import actions as outbox
from yidi.integrations.domain import MessageStatus
from yidi.integrations.models import OutboxMessage
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


def _write(planned: list[tuple[int, Registration]], *, actor, now) -> list[Case]:
    """Write the planned matters: one insert per table (the matter's code taken after them), then the listeners
    of the events, then the audit rows."""
    if not planned:
        return []
    registrations = [registration for _, registration in planned]
    cases, clocks = [], []
    for registration in registrations:
        case, started = new_case(registration, actor=actor, now=now, code=placeholder_code())
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
    _insert(parties)
    labels, feedback, contacts, visits = [], [], [], []
    for case, registration, applicant in zip(cases, registrations, applicants, strict=True):
        case_labels, case_feedback = label_rows(case, registration, actor=actor, now=now)
        labels += case_labels
        feedback += case_feedback
        for row in first_contact(case, registration, applicant, actor=actor, now=now):
            (contacts if isinstance(row, Contact) else visits).append(row)
    _insert(labels)
    _insert(feedback)
    index_new_cases(cases)
    _insert(contacts)
    _insert(visits)
    _insert(clocks)
    actor_name, actor_unit_id = str(actor), actor.unit_id
    events = [
        CaseEvent(
            case=case, seq=case.version, action=CaseAction.REGISTER, from_status="", to_status=case.status, at=now,
            actor=actor, actor_name=actor_name, actor_unit_id=actor_unit_id, reason="",
            data=registration_event_data(registration),
        )
        for case, registration in zip(cases, registrations, strict=True)
    ]
    _insert(events)
    assign_codes(cases, now=now)  # from here on the code sequences are locked: listeners and audit only
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


def _insert(rows: list) -> None:
    """Insert unsaved model rows of one model with `insert_values` (one plain statement, COPY on PostgreSQL):
    their ids are not read back (nothing written after them needs one), and Django's `bulk_create` would
    cost several times as much per row. Foreign keys are taken from the related rows saved meanwhile."""
    if not rows:
        return
    model = type(rows[0])
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    values = []
    for row in rows:
        line = []
        for field in fields:
            value = getattr(row, field.attname)
            if value is None and field.is_relation and field.is_cached(row):
                related = getattr(row, field.name)
                value = related.pk if related is not None else None
            line.append(value)
        values.append(line)
    insert_values(model, [field.attname for field in fields], values)


# --- for the listeners' batch forms ---------------------------------------------------------------------------


def enqueue_outbox_many(messages: Sequence[dict]) -> list[OutboxMessage]:
    """`yidi.integrations.actions.enqueue` for many messages (each a dict of its keyword arguments), with the
    same effect as calling it on each in order, in two statements: one read of the keys that exist, one insert.

    - nothing while the outbox is muted; `OutsideTransaction` outside a transaction;
    - a key that exists already, or came earlier in `messages`, adds nothing (the first one wins);
    - each new message is queued for delivery once the transaction commits.
    Returns the messages written.
    """
    if outbox.is_muted() or not messages:
        return []
    if not connection.in_atomic_block:
        raise outbox.OutsideTransaction("enqueue must be called inside the transaction of the step that sends the message")
    if not all(message["idempotency_key"] for message in messages):
        raise ValueError("an outbox message needs an idempotency key")
    keys = [message["idempotency_key"] for message in messages]
    seen = set()
    for start in range(0, len(keys), 500):
        seen.update(OutboxMessage.objects.filter(idempotency_key__in=keys[start:start + 500])
                    .values_list("idempotency_key", flat=True))
    now = clock.now()
    fresh = []
    for message in messages:
        if message["idempotency_key"] in seen:
            continue
        seen.add(message["idempotency_key"])
        fresh.append(OutboxMessage(
            kind=message["kind"], destination=message["destination"], text=message.get("text", ""),
            payload=message.get("payload") or {}, subject=message.get("subject", ""),
            subject_type=message.get("subject_type", ""), subject_id=message.get("subject_id", ""),
            template=message.get("template", ""), idempotency_key=message["idempotency_key"],
            status=MessageStatus.PENDING, next_attempt_at=now, created_at=now,
        ))
    OutboxMessage.objects.bulk_create(fresh, batch_size=500)
    if any(message.pk is None for message in fresh):  # a database that does not return the new keys
        ids = dict(OutboxMessage.objects.filter(idempotency_key__in=[m.idempotency_key for m in fresh])
                   .values_list("idempotency_key", "pk"))
        for message in fresh:
            message.pk = ids[message.idempotency_key]
    for message in fresh:
        transaction.on_commit(partial(outbox._deliver_soon, message.pk), robust=True)
    return fresh
