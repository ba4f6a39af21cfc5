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
- triage runs in this process, or is taken from `Triage`, which can start a later batch's analyses on a pool of
  processes while this process writes the batch before (the engine is pure: the same text and context give the
  same analysis wherever it runs).
"""

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import fields
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
from yidi.cases.triage import index_new_cases, text_keys
from yidi.core import clock
from yidi.core.bulk import insert_objects, unsaved
from yidi.core.codes import placeholder_code
from yidi.integrations import actions as outbox
from yidi.integrations.domain import MessageStatus
from yidi.integrations.models import OutboxMessage
from yidi.triage.engine import Analysis, TriageContext, analyse

Refused = InvalidInput | RuleViolation


Job = tuple[str, TriageContext]  # (text, context)


def _analyse_all(jobs: list[Job]) -> list[tuple[Analysis, list[str]]]:
    """Each job's analysis, with its text's keys for the duplicate index (both pure: the pool's work)."""
    return [(analyse(text, context=context), text_keys(text)) for text, context in jobs]


def _job_key(job: Job) -> tuple | None:
    """What an analysis depends on; None for a context with models of its own (never computed ahead)."""
    text, context = job
    if context.models:
        return None
    return (text, *(getattr(context, field.name) for field in fields(context) if field.name != "models"))


class Triage:
    """The engine's analyses for a registration batch.

    Without a pool every analysis is computed here, when asked. With a pool (`concurrent.futures` processes
    forked after the engine's models are loaded), `start` hands the analyses of a batch to come to the workers,
    so they run on the other cores while this process writes the batch before; `analyse_many` then takes each
    finished analysis by its text and context, and computes here any it was not given ahead (a draft whose
    context turned out different, e.g. after midnight). Starting a job is only ever a saving: what is never
    asked for is dropped with the pool.
    """

    def __init__(self, pool: Executor | None = None, *, workers: int = 1) -> None:
        self.pool = pool
        self.workers = max(1, workers)
        self.ahead: dict[tuple, tuple[Future, int]] = {}
        self.keys: dict[str, list[str]] = {}

    def start(self, jobs: list[Job]) -> None:
        if self.pool is None or not jobs:
            return
        size = -(-len(jobs) // self.workers)
        for first in range(0, len(jobs), size):
            chunk = jobs[first:first + size]
            future = self.pool.submit(_analyse_all, chunk)
            for position, job in enumerate(chunk):
                key = _job_key(job)
                if key is not None:
                    self.ahead.setdefault(key, (future, position))

    def analyse_many(self, jobs: list[Job]) -> list[Analysis]:
        """The analysis of each (text, context), in order."""
        if self.pool is not None and len(jobs) > 1 and not self.ahead:
            self.start(jobs)  # nothing started ahead: at least spread this batch over the workers
        self.keys.clear()  # those of the batch before that were never asked for
        results, used = [], set()
        for job in jobs:
            key = _job_key(job)
            started = self.ahead.pop(key, None) if key is not None else None
            if started is None:
                results.append(analyse(job[0], context=job[1]))
                continue
            used.add(started[0])
            analysis, keys = started[0].result()[started[1]]
            results.append(analysis)
            self.keys[job[0]] = keys
        # what was started with this batch but not asked for (a row refused before triage) is dropped now
        self.ahead = {key: started for key, started in self.ahead.items() if started[0] not in used}
        return results

    def text_keys(self, text: str) -> list[str]:
        """The keys of a text analysed by `analyse_many` (computed on the pool when it was), for the index."""
        keys = self.keys.pop(text, None)
        return text_keys(text) if keys is None else keys


@transaction.atomic
def do_register_cases(drafts: Sequence[CaseDraft], *, actor, triage: Triage | None = None) -> list[Case | Refused]:
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
    triage = triage or Triage()
    analyses = triage.analyse_many(
        [(draft.description, triage_context(region.code, now=now)) for _, draft, region, _ in checked]
    )
    planned: list[tuple[int, Registration]] = []
    for (index, draft, region, channel), suggestion in zip(checked, analyses, strict=True):
        try:
            planned.append((index, plan_registration(draft, region, channel, suggestion, refs=refs)))
        except (InvalidInput, RuleViolation) as error:
            results[index] = error
    written = _write(planned, actor=actor, now=now, text_keys=triage.text_keys)
    for index, case in zip((index for index, _ in planned), written, strict=True):
        results[index] = case
    return results  # type: ignore[return-value]


def _write(planned: list[tuple[int, Registration]], *, actor, now, text_keys) -> list[Case]:
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
    insert_objects(cases, with_ids=True)
    people = PersonIndex(now=now)
    people.prefetch(party for registration in registrations for party in registration.draft.parties)
    persons = [[people.find_or_add(party) for party in registration.draft.parties] for registration in registrations]
    people.save()
    parties, applicants = [], []
    for case, registration, found in zip(cases, registrations, persons, strict=True):
        applicant = None
        for position, (party, person) in enumerate(zip(registration.draft.parties, found, strict=True)):
            parties.append(unsaved(CaseParty, case_id=case.pk, person_id=person.pk, role=party.role,
                                   position=position))
            if applicant is None and party.role == "applicant":
                applicant = person
        applicants.append(applicant)
    insert_objects(parties)
    labels, feedback, contacts, visits = [], [], [], []
    for case, registration, applicant in zip(cases, registrations, applicants, strict=True):
        case_labels, case_feedback = label_rows(case, registration, actor=actor, now=now)
        labels += case_labels
        feedback += case_feedback
        for row in first_contact(case, registration, applicant, actor=actor, now=now):
            (contacts if isinstance(row, Contact) else visits).append(row)
    insert_objects(labels)
    insert_objects(feedback)
    index_new_cases(cases, text_keys=text_keys)
    insert_objects(contacts)
    insert_objects(visits)
    insert_objects(clocks)
    actor_name, actor_unit_id = str(actor), actor.unit_id
    events = [
        unsaved(
            CaseEvent, case_id=case.pk, seq=case.version, action=CaseAction.REGISTER, from_status="",
            to_status=case.status, at=now, actor_id=actor.pk, actor_name=actor_name, actor_unit_id=actor_unit_id,
            reason="", data=registration_event_data(registration),
        )
        for case, registration in zip(cases, registrations, strict=True)
    ]
    for case, event in zip(cases, events, strict=True):  # as `CaseEvent(case=…, actor=…)` caches them
        CaseEvent.case.field.set_cached_value(event, case)
        CaseEvent.actor.field.set_cached_value(event, actor)
    insert_objects(events)
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
