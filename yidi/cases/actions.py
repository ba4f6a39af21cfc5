"""Every write to a matter. Each `do_*` function is one use case in one transaction that changes state,
writes exactly one timeline event (`CaseEvent`) and one audit row, and changes nothing if any step fails."""

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from yidi.accounts import access
from yidi.accounts.domain import HANDLING_LEVEL_LABELS, Role
from yidi.accounts.models import Unit
from yidi.audit.actions import record, record_many
from yidi.cases import deadlines, domain
from yidi.cases.domain import (
    CaseAction,
    CaseDraft,
    CaseStatus,
    DiversionRoute,
    Evaluation,
    HandlingMode,
    InvalidInput,
    Outcome,
    PartyDraft,
    RuleViolation,
    next_status,
)
from yidi.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    AttachmentKind,
    Case,
    CaseDeadline,
    CaseEvent,
    CaseLabel,
    CaseParty,
    Channel,
    Consultation,
    Contact,
    ExtensionRequest,
    Person,
    PersonKind,
    RequestStatus,
    RoutingRecord,
    Transfer,
    TriageFeedback,
    Urging,
    UrgingLevel,
    Visit,
)
from yidi.cases.triage import index_case
from yidi.cases.uploads import check_upload
from yidi.core import clock, worktime
from yidi.core.bulk import insert_objects, insert_values, unsaved, update_rows
from yidi.core.codes import format_case_code, next_numbers, placeholder_code
from yidi.core.deadlines import PARTY_STAGES, Effect, Stage, can_extend, deadline_state, local_date
from yidi.core.identifiers import is_valid_id_number, is_valid_phone
from yidi.core.models import Taxonomy, TaxonomyLabel
from yidi.core.personal import lookup_hash
from yidi.regions.domain import is_within
from yidi.regions.models import Region
from yidi.routing.queries import suggest_route
from yidi.triage.engine import Analysis, TriageContext, analyse

SYSTEM_NAME = "系统（期限巡检）"
# Called with (case, event) after every timeline row written by `add_event`, in the same transaction: the apps
# that react to a step (notifications to the person, return-visit scheduling) register here in `ready()`.
# A listener that raises undoes the action, so what it writes (an outbox row) commits with the step or not at all.
# A listener may offer a batch form as its attribute `for_batch`: called with a list of (case, event) pairs, it must
# have the same effect as calling the listener on each pair in order. `yidi.cases.bulk` (the 12345 import) uses it
# to do once per batch what would otherwise be a query or more per matter.
EVENT_LISTENERS: list[Callable[[Case, CaseEvent], None]] = []


# --- the matter's record: used by every action here, and by the apps that extend a matter (mediation) -----------


def add_event(case: Case, action: str, *, actor, from_status: str, reason: str = "", data=None,
              system_name: str = SYSTEM_NAME) -> CaseEvent:
    """One timeline row. `actor` None is the system, shown as `system_name` (default: the deadline sweep).

    Every action bumps the matter's `version` once and writes one event, so the event's number is the version.
    """
    event = _event_row(case, action, actor=actor, from_status=from_status, reason=reason, data=data,
                       system_name=system_name)
    event.save(force_insert=True)
    _run_listeners(case, event)
    return event


def _event_row(case: Case, action: str, *, actor, from_status: str, reason: str = "", data=None,
               system_name: str = SYSTEM_NAME) -> CaseEvent:
    """The unsaved timeline row of `add_event`."""
    return CaseEvent(
        case=case,
        seq=case.version,
        action=action,
        from_status=from_status,
        to_status=case.status,
        at=clock.now(),
        actor=actor,
        actor_name=str(actor) if actor is not None else system_name,
        actor_unit_id=actor.unit_id if actor is not None else None,
        reason=reason,
        data=data or {},
    )


def _run_listeners(case: Case, event: CaseEvent) -> None:
    for listener in EVENT_LISTENERS:
        listener(case, event)


def audit_case(case: Case, action: str, *, actor, fields=(), reason: str = "", data=None) -> None:
    record(
        actor=actor, action=f"case.{action}", object_type="case", object_id=case.code,
        fields=fields, reason=reason, data=data,
    )


def _require_reason(action: CaseAction, reason: str) -> str:
    reason = reason.strip()
    if action in domain.REASON_REQUIRED and not reason:
        raise InvalidInput("reason", f"“{action.label}”必须填写理由")
    return reason


# --- registration -------------------------------------------------------------------------------------
# The steps of registering a matter, shared by `do_register_case` (one matter) and `yidi.cases.bulk` (a batch
# of matters written with one statement per table): check the draft, triage it, choose its labels, build the
# unsaved rows, write them.


class ReferenceRows:
    """The reference rows registrations look up (places, channels, code-list labels), each read once: per
    registration in `do_register_case`, per batch in `yidi.cases.bulk`. Nothing is kept between transactions,
    so an edited code list is seen by the next registration."""

    def __init__(self) -> None:
        self.regions: dict[str, Region | None] = {}
        self.channels: dict[str, Channel | None] = {}
        self.labels: dict[tuple[str, str], TaxonomyLabel] = {}
        self.loaded_taxonomies: set[str] = set()
        self.missing_labels: set[tuple[str, str]] = set()

    def load_places(self, region_codes, channel_codes) -> None:
        regions = set(region_codes) - self.regions.keys()
        if regions:
            found = {region.code: region for region in Region.objects.filter(code__in=regions, is_active=True)}
            self.regions.update({code: found.get(code) for code in regions})
        channels = set(channel_codes) - self.channels.keys()
        if channels:
            found = {channel.code: channel for channel in Channel.objects.filter(code__in=channels, is_active=True)}
            self.channels.update({code: found.get(code) for code in channels})

    def region(self, code: str) -> Region | None:
        self.load_places([code], [])
        return self.regions[code]

    def channel(self, code: str) -> Channel | None:
        self.load_places([], [code])
        return self.channels[code]

    def load_taxonomies(self, taxonomies) -> None:
        """Every label of `taxonomies` (active or not), in one query."""
        wanted = set(taxonomies) - self.loaded_taxonomies
        if wanted:
            for label in TaxonomyLabel.objects.filter(taxonomy__code__in=wanted).select_related("taxonomy"):
                self.labels[(label.taxonomy.code, label.code)] = label
            self.loaded_taxonomies |= wanted

    def load_labels(self, pairs) -> None:
        """The labels (taxonomy code, label code) not looked up yet, in one query."""
        wanted = {
            pair for pair in pairs
            if pair not in self.labels and pair not in self.missing_labels and pair[0] not in self.loaded_taxonomies
        }
        if not wanted:
            return
        found = TaxonomyLabel.objects.filter(
            taxonomy__code__in={taxonomy for taxonomy, _ in wanted}, code__in={code for _, code in wanted}
        ).select_related("taxonomy")
        for label in found:
            self.labels[(label.taxonomy.code, label.code)] = label
        self.missing_labels |= wanted - self.labels.keys()

    def label(self, taxonomy: str, code: str, *, active_only: bool = True) -> TaxonomyLabel | None:
        self.load_labels([(taxonomy, code)])
        label = self.labels.get((taxonomy, code))
        return None if label is None or (active_only and not label.is_active) else label


def _check_parties(parties: tuple[PartyDraft, ...]) -> None:
    for index, party in enumerate(parties):
        if not party.name.strip():
            raise InvalidInput(f"parties-{index}-name", "请填写当事人姓名或名称")
        if party.id_number and not is_valid_id_number(party.id_number):
            raise InvalidInput(f"parties-{index}-id_number", "身份证号码格式或校验位不正确")
        if party.phone and not is_valid_phone(party.phone):
            raise InvalidInput(f"parties-{index}-phone", "联系电话格式不正确（手机号11位，座机请加区号）")
        if party.kind not in PersonKind.values:
            raise InvalidInput(f"parties-{index}-kind", "当事人类型不正确")


def check_registration(draft: CaseDraft, *, actor, refs: ReferenceRows) -> tuple[CaseDraft, Region, Channel]:
    """The draft (title and description trimmed) with its place and channel; `InvalidInput` for the first
    rule it breaks (the role is checked by the caller)."""
    draft = replace(draft, title=draft.title.strip(), description=draft.description.strip())
    domain.check_draft(draft)
    _check_parties(draft.parties)
    region = refs.region(draft.region_code)
    if region is None:
        raise InvalidInput("region", f"未知的区划代码“{draft.region_code}”")
    if not is_within(region.code, actor.unit.region_id):
        raise InvalidInput("region", f"发生地“{region.short_name}”不在本单位（{actor.unit.name}）辖区内")
    channel = refs.channel(draft.channel_code)
    if channel is None:
        raise InvalidInput("channel", f"未知的来源渠道“{draft.channel_code}”")
    return draft, region, channel


TRIAGED_TAXONOMIES = ("mediation_type", "hotline_category", "request_type", "petition_category")


def triage_context(region_code: str, *, now) -> TriageContext:
    """What the engine is told about a matter being registered in `region_code` (no duplicate candidates: it is
    new)."""
    return TriageContext(
        county_code=region_code[:6], reference_on=timezone.localdate(now), taxonomies=TRIAGED_TAXONOMIES,
    )


@dataclass
class Registration:
    """A checked and triaged draft with the labels it gets: everything needed to write the matter."""

    draft: CaseDraft
    region: Region
    channel: Channel
    suggestion: Analysis
    primary_type: TaxonomyLabel | None
    chosen: dict[str, TaxonomyLabel]  # taxonomy → the clerk's label (and the request type's)
    triage_labels: dict[str, tuple[TaxonomyLabel, float, str]]  # taxonomy → (label, confidence, model version)


def _resolve_label(taxonomy_code: str, label_code: str, field_name: str, *,
                   refs: ReferenceRows | None = None) -> TaxonomyLabel:
    """An active label of a code list; `InvalidInput` on `field_name` when there is none."""
    label = (refs or ReferenceRows()).label(taxonomy_code, label_code)
    if label is None:
        raise InvalidInput(field_name, f"未知的分类“{label_code}”")
    return label


def _proposed_labels(analysis: Analysis) -> dict:
    return {
        taxonomy: prediction for taxonomy, prediction in analysis.labels.items() if getattr(prediction, "label", None)
    }


def plan_registration(draft: CaseDraft, region: Region, channel: Channel, suggestion: Analysis, *,
                      refs: ReferenceRows) -> Registration:
    """Choose the matter's labels: the clerk's (unknown ones are `InvalidInput`), the request type's, and the
    engine's for the taxonomies the clerk left open; the engine's grade and complexity fill blanks."""
    proposed = _proposed_labels(suggestion)
    refs.load_labels([
        *([("mediation_type", draft.primary_type_code)] if draft.primary_type_code else []),
        *sorted(draft.labels.items()),
        ("request_type", str(draft.request_type)),
        *((taxonomy, prediction.label) for taxonomy, prediction in proposed.items()),
    ])
    primary_type = (
        _resolve_label("mediation_type", draft.primary_type_code, "primary_type", refs=refs)
        if draft.primary_type_code else None
    )
    other_labels = [
        _resolve_label(taxonomy, label, f"label_{taxonomy}", refs=refs) for taxonomy, label in sorted(draft.labels.items())
    ]
    triage_labels = {
        taxonomy: (label, prediction.confidence, getattr(prediction, "model_version", "") or "")
        for taxonomy, prediction in proposed.items()
        if (label := refs.label(taxonomy, prediction.label)) is not None
    }
    primary_from_triage = primary_type is None and "mediation_type" in triage_labels
    if primary_from_triage:
        primary_type = triage_labels["mediation_type"][0]
    chosen = {label.taxonomy.code: label for label in other_labels}
    if primary_type is not None and not primary_from_triage:
        chosen["mediation_type"] = primary_type
    chosen_request = refs.label("request_type", str(draft.request_type), active_only=False)
    if chosen_request is not None:
        chosen.setdefault("request_type", chosen_request)
    draft = replace(
        draft, grade=draft.grade or suggestion.grade.grade, complexity=draft.complexity or suggestion.grade.complexity
    )
    return Registration(draft, region, channel, suggestion, primary_type, chosen, triage_labels)


def new_case(registration: Registration, *, actor, now, code: str) -> tuple[Case, list[CaseDeadline]]:
    """The unsaved matter with its clocks started (unsaved too) and its deadline summary set."""
    draft = registration.draft
    case = Case(
        code=code,
        status=next_status(None, CaseAction.REGISTER),
        channel=registration.channel,
        request_type=draft.request_type,
        title=draft.title,
        description=draft.description,
        region=registration.region,
        address=draft.address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        occurred_at=draft.occurred_at,
        people_involved=draft.people_involved,
        amount_involved=draft.amount_involved,
        primary_type=registration.primary_type,
        grade=draft.grade,
        complexity=draft.complexity,
        is_urgent=draft.is_urgent,
        registering_unit=actor.unit,
        registered_by=actor,
        registered_at=now,
    )
    return case, start_clocks(case, at=now)


def start_clocks(case: Case, *, at) -> list[CaseDeadline]:
    """`deadlines.on_case_event(case, "registered")` for a matter not saved yet: it has no clocks to complete
    or cancel, so none are read; the new ones are returned unsaved and the summary is set on `case`."""
    policy = deadlines.policy_for(case)
    case.deadline_policy = policy.id if policy else ""
    started = []
    if policy is not None:
        calendar = deadlines.calendar_for(case)
        for limit in policy.stages:
            if limit.start_event not in deadlines.STARTS["registered"]:
                continue
            deadline = CaseDeadline(
                case=case, stage=limit.stage, policy_code=policy.id, day_unit=limit.unit, limit_days=limit.limit,
                started_at=at,
            )
            deadlines.recompute(deadline, calendar)
            deadline.state = deadline_state(at, deadline.due_at, deadline.yellow_at, deadline.red_at)
            started.append(deadline)
    deadlines.refresh_summary(case, now=at, running=started, save=False)
    return started


def label_rows(case: Case, registration: Registration, *, actor, now) -> tuple[list[CaseLabel], list[TriageFeedback]]:
    """For a matter already saved: the clerk's labels, then the engine's labels the clerk did not set; and the
    clerk's decision on those they did set (confirmation or correction) as training feedback."""
    labels = [  # `unsaved`, keys rather than instances: a batch builds thousands of these
        unsaved(CaseLabel, case_id=case.pk, taxonomy_id=label.taxonomy_id, label_id=label.pk, set_at=now,
                set_by_id=actor.pk)
        for label in registration.chosen.values()
    ]
    feedback = []
    for taxonomy, (label, confidence, version) in registration.triage_labels.items():
        if taxonomy in registration.chosen:
            feedback.append(unsaved(
                TriageFeedback, case_id=case.pk, taxonomy=taxonomy, suggested_label=label.code, suggested_confidence=confidence,
                chosen_label=registration.chosen[taxonomy].code, model_version=version, decided_at=now,
                decided_by_id=actor.pk,
            ))
        else:
            labels.append(unsaved(CaseLabel, case_id=case.pk, taxonomy_id=label.taxonomy_id, label_id=label.pk,
                                  source="triage", confidence=confidence, set_at=now, set_by_id=None))
    return labels, feedback


def first_contact(case: Case, registration: Registration, applicant, *, actor, now) -> list[Contact | Visit]:
    """For a matter and applicant already saved: the contact that reported the matter, and the visit when the
    person came in."""
    draft = registration.draft
    person_id = applicant.pk if applicant is not None else None
    rows: list[Contact | Visit] = [unsaved(
        Contact, case_id=case.pk, channel_id=registration.channel.pk, contacted_at=now, person_id=person_id,
        summary=draft.description, external_ref=draft.external_ref, recorded_by_id=actor.pk,
    )]
    if draft.in_person:
        rows.append(unsaved(
            Visit, case_id=case.pk, person_id=person_id, place=actor.unit.name, unit_id=actor.unit_id,
            visited_at=now, purpose="登记反映", recorded_by_id=actor.pk,
        ))
    return rows


def registration_event_data(registration: Registration) -> dict:
    grade = registration.suggestion.grade
    return {
        "channel": registration.channel.code, "triage_grade": grade.grade,
        "triage_signals": [signal.name for signal in grade.signals],
    }


REGISTRATION_AUDIT_FIELDS = ("parties", "description")


class PersonIndex:
    """Finds parties in the person index (ID number first, then name + phone) or adds them; a person found
    again keeps their stored details and gets blanks filled from the new report.

    One lookup per party (`find_or_add`, used by `do_register_case`), or, for a batch, `prefetch` reads every
    party's candidates in one query and later parties of the batch find the people added by earlier ones;
    `save` then inserts the new people and writes the filled blanks.
    """

    def __init__(self, *, now) -> None:
        self.now = now
        self.by_id: dict[str, Person] = {}
        self.by_name_phone: dict[str, Person] = {}
        self.prefetched = False
        self.added: list[Person] = []
        self.changed: dict[int, tuple[Person, set[str]]] = {}

    @staticmethod
    def hashes(party: PartyDraft) -> tuple[str, str, str]:
        id_hash = lookup_hash(party.id_number, purpose="id_number") if party.id_number else ""
        phone_hash = lookup_hash(party.phone, purpose="phone") if party.phone else ""
        name_phone_hash = lookup_hash(f"{party.name}|{party.phone}", purpose="name_phone") if party.phone else ""
        return id_hash, phone_hash, name_phone_hash

    def prefetch(self, parties) -> None:
        id_hashes, name_phone_hashes = set(), set()
        for party in parties:
            id_hash, _, name_phone_hash = self.hashes(party)
            id_hashes.add(id_hash)
            name_phone_hashes.add(name_phone_hash)
        id_hashes.discard("")
        name_phone_hashes.discard("")
        found = Person.objects.filter(id_number_hash__in=id_hashes) | Person.objects.filter(
            name_phone_hash__in=name_phone_hashes
        )
        for person in found.order_by("pk"):
            if person.id_number_hash in id_hashes:
                self.by_id.setdefault(person.id_number_hash, person)
            if person.name_phone_hash in name_phone_hashes:
                self.by_name_phone.setdefault(person.name_phone_hash, person)
        self.prefetched = True

    def _find(self, id_hash: str, name_phone_hash: str) -> Person | None:
        if self.prefetched:
            person = self.by_id.get(id_hash) if id_hash else None
            return person or (self.by_name_phone.get(name_phone_hash) if name_phone_hash else None)
        person = Person.objects.filter(id_number_hash=id_hash).first() if id_hash else None
        if person is None and name_phone_hash:
            person = Person.objects.filter(name_phone_hash=name_phone_hash).first()
        return person

    def find_or_add(self, party: PartyDraft) -> Person:
        id_hash, phone_hash, name_phone_hash = self.hashes(party)
        person = self._find(id_hash, name_phone_hash)
        if person is None:
            person = Person(
                kind=party.kind, name=party.name, id_number=party.id_number, phone=party.phone,
                address=party.address, credit_code=party.credit_code, id_number_hash=id_hash, phone_hash=phone_hash,
                name_phone_hash=name_phone_hash, created_at=self.now,
            )
            if self.prefetched:
                self.added.append(person)
                self._remember(person)
            else:
                person.save(force_insert=True)
            return person
        changed = []
        for field_name, value in (("id_number", party.id_number), ("phone", party.phone), ("address", party.address)):
            if value and not getattr(person, field_name):
                setattr(person, field_name, value)
                changed.append(field_name)
        if party.id_number and not person.id_number_hash:
            person.id_number_hash = id_hash
            changed.append("id_number_hash")
        if party.phone and not person.phone_hash:
            person.phone_hash, person.name_phone_hash = phone_hash, name_phone_hash
            changed += ["phone_hash", "name_phone_hash"]
        if changed:
            if not self.prefetched:
                person.save(update_fields=changed)
            else:
                self._remember(person)
                if person.pk is not None:
                    self.changed.setdefault(person.pk, (person, set()))[1].update(changed)
        return person

    def _remember(self, person: Person) -> None:
        if person.id_number_hash:
            self.by_id.setdefault(person.id_number_hash, person)
        if person.name_phone_hash:
            self.by_name_phone.setdefault(person.name_phone_hash, person)

    def save(self) -> None:
        """Insert the people added and write the blanks filled (batch mode)."""
        insert_objects(self.added, with_ids=True)
        for person, fields in self.changed.values():
            person.save(update_fields=sorted(fields))


def _index_person(party: PartyDraft, *, now) -> Person:
    """One party found in (or added to) the person index, at once."""
    return PersonIndex(now=now).find_or_add(party)


def assign_codes(cases: list[Case], *, now) -> None:
    """Give matters written under a placeholder code (`placeholder_code`) their codes, in order: each prefix's
    sequence advanced once. Call it as late in the transaction as possible: the sequence row stays locked until
    the transaction ends."""
    year = timezone.localtime(now).year
    prefixes = [domain.case_code_prefix(case.region_id) for case in cases]
    numbers = {prefix: iter(next_numbers(prefix, year, count)) for prefix, count in Counter(prefixes).items()}
    for case, prefix in zip(cases, prefixes, strict=True):
        case.code = format_case_code(prefix, year, next(numbers[prefix]))
    if len(cases) == 1:
        Case.objects.filter(pk=cases[0].pk).update(code=cases[0].code)
    else:
        update_rows(cases, ["code"])


@transaction.atomic
def do_register_case(draft: CaseDraft, *, actor) -> Case:
    """Register a matter and give it its code (登记赋码), with its parties, first contact and any visit.

    The rows are written under a placeholder code; the code is taken last, followed only by the listeners (which
    need it) and the audit row, so concurrent registrations wait for the code sequence only during the end of
    each other's transactions. Codes stay gap-free per committed transaction.
    """
    if not actor.role_set & domain.ACTION_ROLES[CaseAction.REGISTER]:
        raise access.ActionDenied("您的角色无权登记事项")
    refs = ReferenceRows()
    draft, region, channel = check_registration(draft, actor=actor, refs=refs)
    now = clock.now()
    suggestion = analyse(draft.description, context=triage_context(region.code, now=now))
    registration = plan_registration(draft, region, channel, suggestion, refs=refs)
    people = PersonIndex(now=now)
    persons = [people.find_or_add(party) for party in registration.draft.parties]
    case, clocks = new_case(registration, actor=actor, now=now, code=placeholder_code())
    case.save(force_insert=True)
    parties, applicant = [], None
    for position, (party, person) in enumerate(zip(registration.draft.parties, persons, strict=True)):
        parties.append(CaseParty(case=case, person=person, role=party.role, position=position))
        if applicant is None and party.role == "applicant":
            applicant = person
    CaseParty.objects.bulk_create(parties)
    labels, feedback = label_rows(case, registration, actor=actor, now=now)
    CaseLabel.objects.bulk_create(labels)
    TriageFeedback.objects.bulk_create(feedback)
    index_case(case)
    for row in first_contact(case, registration, applicant, actor=actor, now=now):
        row.save(force_insert=True)
    CaseDeadline.objects.bulk_create(clocks)
    event = _event_row(case, CaseAction.REGISTER, actor=actor, from_status="",
                       data=registration_event_data(registration))
    event.save(force_insert=True)
    assign_codes([case], now=now)  # from here on the code sequence is locked: listeners and audit only
    _run_listeners(case, event)
    audit_case(case, CaseAction.REGISTER, actor=actor, fields=REGISTRATION_AUDIT_FIELDS)
    return case


# --- status changes ------------------------------------------------------------------------------------


def _begin(code: str, action: CaseAction, *, actor) -> tuple[Case, str, CaseStatus]:
    """Lock the matter, check scope, role, unit and the transition table; return it with its next status."""
    case = access.get_case_for_user(actor, code, for_update=True)
    access.require_action(actor, case, action)
    return case, case.status, next_status(case.status_enum, action)


def finish_transition(
    case: Case, action: CaseAction, *, actor, from_status: str, to_status: CaseStatus, fields: list[str],
    reason: str = "", data: dict[str, Any] | None = None,
) -> Case:
    case.status = to_status
    case.version += 1  # the row is locked by `_begin`
    if action in domain.CLOCK_EVENTS:
        deadlines.on_case_event(case, domain.CLOCK_EVENTS[action], at=clock.now(), save=False)
        fields = [*fields, *deadlines.SUMMARY_FIELDS]
    case.save(update_fields=["status", "version", "updated_at", *fields])
    add_event(case, action, actor=actor, from_status=from_status, reason=reason, data=data)
    audit_case(case, action, actor=actor, fields=["status", *fields], reason=reason, data=data)
    return case


LEVEL_RANK = {"village": 0, "township": 1, "county": 2}


def _record_route_suggestion(case: Case) -> RoutingRecord:
    """Route the matter by the rules and keep the decision with the rule that fired and why.

    A matter escalated above the level the rule proposes is left to the dispatcher (the rule cannot know).
    """
    suggestion = suggest_route(case)
    reasons = list(suggestion.reasons) + list(suggestion.problems)
    lead = suggestion.lead_unit
    level = suggestion.handling_level or ""
    if lead is not None and case.handling_level and LEVEL_RANK.get(level, 0) < LEVEL_RANK[case.handling_level]:
        reasons.append(f"事项已提级至{HANDLING_LEVEL_LABELS[case.handling_level]}，规则建议的层级较低，请调度员指定")
        lead = None
    return RoutingRecord.objects.create(
        case=case, decided_at=clock.now(), rule_code=suggestion.rule_id or "", matched=lead is not None,
        handling_level=level, lead_unit_code=lead.code if lead else "",
        co_unit_codes=[unit.code for unit in suggestion.co_units] if lead else [], reasons=reasons,
        policy_code=(suggestion.policy_id or "") if lead else "",
    )


@transaction.atomic
def do_accept_case(code: str, *, actor) -> Case:
    """Accept a registered matter (受理); the routing rules propose where it goes, and it waits for assignment."""
    case, before, after = _begin(code, CaseAction.ACCEPT, actor=actor)
    case.accepted_at = clock.now()
    case = finish_transition(case, CaseAction.ACCEPT, actor=actor, from_status=before, to_status=after, fields=["accepted_at"])
    _record_route_suggestion(case)
    return case


@transaction.atomic
def do_decline_case(code: str, *, actor, reason: str, route_told: str) -> Case:
    """Do not accept (不予受理): the reason and the route told to the person are both required."""
    reason = _require_reason(CaseAction.DECLINE, reason)
    if not route_told.strip():
        raise InvalidInput("route_told", "请填写已告知当事人的其他解决途径")
    case, before, after = _begin(code, CaseAction.DECLINE, actor=actor)
    return finish_transition(
        case, CaseAction.DECLINE, actor=actor, from_status=before, to_status=after, fields=[],
        reason=reason, data={"route_told": route_told.strip()},
    )


@transaction.atomic
def do_assign_case(
    code: str, *, actor, lead_unit_code: str, co_unit_codes: tuple[str, ...] = (), note: str = "",
    handling_level: str = "", override_reason: str = "",
) -> Case:
    """Assign (交办) the matter to a lead unit and optional co-units, which must serve its place.

    When the routing rules proposed another lead unit, the dispatcher's override needs a reason and is kept.
    """
    case, before, after = _begin(code, CaseAction.ASSIGN, actor=actor)
    suggestion = case.routings.filter(is_override=False).order_by("-decided_at", "-id").first()
    overrides = suggestion is not None and suggestion.matched and suggestion.lead_unit_code != lead_unit_code
    if overrides and not override_reason.strip():
        raise InvalidInput(
            "override_reason", f"所选主办单位与分派规则建议（{_unit_name(suggestion.lead_unit_code)}）不同，请说明调整理由"
        )
    codes = [lead_unit_code, *[c for c in co_unit_codes if c and c != lead_unit_code]]
    units = {unit.code: unit for unit in Unit.objects.filter(code__in=codes, is_active=True)}
    for index, unit_code in enumerate(codes):
        field_name = "lead_unit" if index == 0 else "co_units"
        unit = units.get(unit_code)
        if unit is None:
            raise InvalidInput(field_name, f"未知或已停用的单位“{unit_code}”")
        if not is_within(case.region_id, unit.region_id):
            raise InvalidInput(field_name, f"“{unit.name}”不负责“{case.region.short_name}”，不能交办")
    now = clock.now()
    for index, unit_code in enumerate(codes):
        Assignment.objects.create(
            case=case, unit=units[unit_code], role=AssignmentRole.LEAD if index == 0 else AssignmentRole.CO,
            assigned_at=now, assigned_by=actor, note=note,
        )
    if overrides:
        RoutingRecord.objects.create(
            case=case, decided_at=now, rule_code=suggestion.rule_code, matched=True, handling_level=handling_level,
            lead_unit_code=lead_unit_code, co_unit_codes=codes[1:], reasons=[], is_override=True,
            override_reason=override_reason.strip(), decided_by=actor,
        )
    case.lead_unit = units[lead_unit_code]
    follows_rule = suggestion is not None and suggestion.matched and not overrides
    case.routed_policy = suggestion.policy_code if follows_rule else ""
    fields = ["lead_unit", "routed_policy"]
    if handling_level:
        case.handling_level = handling_level
        fields.append("handling_level")
    return finish_transition(
        case, CaseAction.ASSIGN, actor=actor, from_status=before, to_status=after, fields=fields, reason=note,
        data={
            "lead_unit": lead_unit_code, "co_units": codes[1:], "lead_unit_name": units[lead_unit_code].name,
            "co_unit_names": [units[c].name for c in codes[1:]],
            "rule": suggestion.rule_code if suggestion else "", "override_reason": override_reason.strip(),
        },
    )


def _unit_name(code: str) -> str:
    return Unit.objects.filter(code=code).values_list("name", flat=True).first() or code


def _lead_assignment(case: Case) -> Assignment:
    return Assignment.objects.select_for_update().get(
        case=case, role=AssignmentRole.LEAD, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]
    )


@transaction.atomic
def do_sign_case(code: str, *, actor) -> Case:
    """The lead unit signs for the matter (签收) and owns it from then on (首办责任)."""
    case, before, after = _begin(code, CaseAction.SIGN, actor=actor)
    assignment = _lead_assignment(case)
    assignment.status, assignment.signed_at = AssignmentStatus.SIGNED, clock.now()
    assignment.save(update_fields=["status", "signed_at"])
    return finish_transition(case, CaseAction.SIGN, actor=actor, from_status=before, to_status=after, fields=[])


@transaction.atomic
def do_return_case(code: str, *, actor, reason: str) -> Case:
    """The lead unit returns the matter to the dispatcher (回退) with a reason; its access ends."""
    reason = _require_reason(CaseAction.RETURN, reason)
    case, before, after = _begin(code, CaseAction.RETURN, actor=actor)
    now = clock.now()
    Assignment.objects.filter(case=case, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).update(
        status=AssignmentStatus.RETURNED, ended_at=now
    )
    case.lead_unit = None
    return finish_transition(
        case, CaseAction.RETURN, actor=actor, from_status=before, to_status=after, fields=["lead_unit"],
        reason=reason, data={"returned_by": actor.unit.code, "returned_by_name": actor.unit.name},
    )


@transaction.atomic
def do_start_handling(code: str, *, actor, mode: HandlingMode) -> Case:
    """The lead unit starts handling: by mediation, administrative handling or petition procedure."""
    mode = HandlingMode(mode)
    case, before, after = _begin(code, CaseAction.START_HANDLING, actor=actor)
    case.handling_mode = mode
    return finish_transition(
        case, CaseAction.START_HANDLING, actor=actor, from_status=before, to_status=after,
        fields=["handling_mode"], data={"mode": mode.value},
    )


@transaction.atomic
def do_divert_case(code: str, *, actor, route: DiversionRoute, reason: str, data: dict | None = None) -> Case:
    """Divert to litigation, arbitration, administrative review, the 信访 procedure or discipline; the matter waits
    for the outcome. `data` adds the hand-off's details to the timeline event (`yidi.mediation.handoffs`)."""
    route = DiversionRoute(route)
    reason = _require_reason(CaseAction.DIVERT, reason)
    case, before, after = _begin(code, CaseAction.DIVERT, actor=actor)
    case.diversion_route = route
    return finish_transition(
        case, CaseAction.DIVERT, actor=actor, from_status=before, to_status=after, fields=["diversion_route"],
        reason=reason, data={**(data or {}), "route": route.value},
    )


# Apps that carry a matter's outcome themselves register here (in their AppConfig.ready): each guard returns
# why the matter cannot be concluded directly now (Chinese), or "" to allow it.
CONCLUDE_GUARDS: list[Callable[[Case], str]] = []


@transaction.atomic
def do_conclude_case(code: str, *, actor, outcome: Outcome, summary: str = "") -> Case:
    """Record the outcome (agreement, failure, refusal, written opinion, or the result of a diversion).

    Refused while another app is still working on the matter (`CONCLUDE_GUARDS`: an open mediation, a hand-off
    waiting for the receiving body's outcome): those record the outcome themselves."""
    outcome = Outcome(outcome)
    case, before, after = _begin(code, CaseAction.CONCLUDE, actor=actor)
    for guard in CONCLUDE_GUARDS:
        if reason := guard(case):
            raise RuleViolation(reason)
    mode = HandlingMode(case.handling_mode) if case.handling_mode else None
    domain.check_outcome(status=case.status_enum, mode=mode, outcome=outcome)
    case.outcome, case.concluded_at = outcome, clock.now()
    return finish_transition(
        case, CaseAction.CONCLUDE, actor=actor, from_status=before, to_status=after,
        fields=["outcome", "concluded_at"], reason=summary.strip(), data={"outcome": outcome.value},
    )


@transaction.atomic
def do_request_judicial_confirmation(code: str, *, actor) -> Case:
    """The parties applied for judicial confirmation; never after the window (30 days from the agreement taking
    effect) has closed, when the mediation started that clock (`yidi.mediation` records the court's data)."""
    case, before, after = _begin(code, CaseAction.REQUEST_JUDICIAL_CONFIRMATION, actor=actor)
    domain.check_judicial_confirmation(Outcome(case.outcome) if case.outcome else None)
    window = case.deadlines.filter(stage=Stage.JUDICIAL_CONFIRMATION).order_by("-started_at", "-id").first()
    if window is not None and clock.now() > window.due_at:
        closed_on = local_date(window.due_at)
        raise RuleViolation(
            f"申请司法确认的期限已于{closed_on.year}年{closed_on.month}月{closed_on.day}日届满"
            "（调解协议生效之日起30日内），不能再申请"
        )
    return finish_transition(
        case, CaseAction.REQUEST_JUDICIAL_CONFIRMATION, actor=actor, from_status=before, to_status=after, fields=[]
    )


@transaction.atomic
def do_monitor_performance(code: str, *, actor) -> Case:
    case, before, after = _begin(code, CaseAction.MONITOR_PERFORMANCE, actor=actor)
    domain.check_performance_monitoring(Outcome(case.outcome) if case.outcome else None)
    return finish_transition(case, CaseAction.MONITOR_PERFORMANCE, actor=actor, from_status=before, to_status=after, fields=[])


@transaction.atomic
def do_record_return_visit(code: str, *, actor, summary: str, data: dict | None = None) -> Case:
    """回访: the lifecycle step after the result (or a side action once visited, evaluated or closed). `data` adds
    the visit's record to the timeline event (`yidi.evaluation` completes its scheduled visit with it)."""
    if not summary.strip():
        raise InvalidInput("summary", "请填写回访情况")
    case, before, after = _begin(code, CaseAction.RECORD_RETURN_VISIT, actor=actor)
    return finish_transition(
        case, CaseAction.RECORD_RETURN_VISIT, actor=actor, from_status=before, to_status=after, fields=[],
        reason=summary.strip(), data=data,
    )


@transaction.atomic
def do_resolve_on_spot(code: str, *, actor, outcome: Outcome, summary: str) -> Case:
    """当场化解 (即接即办, 小事不出村): who registered a small matter settled it on the spot, by agreement.

    The matter is concluded under the actor's unit, which becomes its lead unit, and goes on to the return
    visit, the evaluation and closing like any other. Only an agreement counts; anything else is handled the
    usual way (accept, assign).
    """
    outcome = Outcome(outcome)
    if outcome not in domain.AGREEMENT_OUTCOMES:
        raise InvalidInput("outcome", "当场化解须达成协议（书面或口头）；未化解的请按流程受理交办")
    summary = summary.strip()
    if not summary:
        raise InvalidInput("summary", "请填写化解经过和协议内容")
    case, before, after = _begin(code, CaseAction.RESOLVE_ON_SPOT, actor=actor)
    if case.registering_unit_id != actor.unit_id:
        raise access.ActionDenied("只有登记该事项的单位可以当场化解")
    now = clock.now()
    Assignment.objects.create(
        case=case, unit_id=actor.unit_id, role=AssignmentRole.LEAD, status=AssignmentStatus.SIGNED,
        assigned_at=now, assigned_by=actor, signed_at=now, note="当场化解",
    )
    case.lead_unit_id, case.handling_mode, case.outcome = actor.unit_id, HandlingMode.MEDIATION, outcome
    case.accepted_at = case.accepted_at or now
    case.concluded_at = now
    return finish_transition(
        case, CaseAction.RESOLVE_ON_SPOT, actor=actor, from_status=before, to_status=after,
        fields=["lead_unit", "handling_mode", "outcome", "accepted_at", "concluded_at"], reason=summary,
        data={"outcome": outcome.value},
    )


@transaction.atomic
def do_evaluate_case(code: str, *, actor, evaluation: Evaluation, note: str = "", method: str = "phone") -> Case:
    """Record the person's evaluation, taken by staff on their behalf (`method`: by phone or at the window).

    One evaluation per round (a reopening starts a new round): a second one is refused. `yidi.evaluation` keeps
    it and, for 不满意, reopens the matter by rule in the same transaction."""
    evaluation = Evaluation(evaluation)
    if method not in ("phone", "window"):
        raise InvalidInput("method", "请选择评价方式（电话或窗口代为评价）")
    if evaluation == Evaluation.DISSATISFIED and not note.strip():
        raise InvalidInput("note", "“不满意”须记录群众的具体意见")
    case, before, after = _begin(code, CaseAction.EVALUATE, actor=actor)
    last_reopen = case.events.filter(action=CaseAction.REOPEN).order_by("-seq").values_list("seq", flat=True).first()
    if case.events.filter(action=CaseAction.EVALUATE, seq__gt=last_reopen or 0).exists():
        raise RuleViolation("本轮已登记群众评价，不能重复评价；群众不满意的，由督查员研判后重办")
    case.evaluation = evaluation
    return finish_transition(
        case, CaseAction.EVALUATE, actor=actor, from_status=before, to_status=after, fields=["evaluation"],
        reason=note.strip(), data={"evaluation": evaluation.value, "on_behalf": True, "method": method},
    )


@transaction.atomic
def do_close_case(code: str, *, actor, note: str = "") -> Case:
    """Close the matter (办结) after verification; every assignment ends."""
    case, before, after = _begin(code, CaseAction.CLOSE, actor=actor)
    now = clock.now()
    Assignment.objects.filter(case=case, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).update(
        status=AssignmentStatus.ENDED, ended_at=now
    )
    case.closed_at = now
    return finish_transition(
        case, CaseAction.CLOSE, actor=actor, from_status=before, to_status=after, fields=["closed_at"],
        reason=note.strip(),
    )


@transaction.atomic
def do_reopen_case(code: str, *, actor, reason: str) -> Case:
    """Reopen (重办) a matter whose result the person did not accept; the last lead unit takes it again."""
    reason = _require_reason(CaseAction.REOPEN, reason)
    case, before, after = _begin(code, CaseAction.REOPEN, actor=actor)
    last_lead = (
        Assignment.objects.filter(case=case, role=AssignmentRole.LEAD).order_by("-assigned_at", "-id").first()
    )
    if last_lead is None:
        raise RuleViolation("该事项没有主办单位，无法重办，请重新交办")
    now = clock.now()
    Assignment.objects.filter(case=case, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).update(
        status=AssignmentStatus.ENDED, ended_at=now
    )
    Assignment.objects.create(
        case=case, unit_id=last_lead.unit_id, role=AssignmentRole.LEAD, status=AssignmentStatus.SIGNED,
        assigned_at=now, assigned_by=actor, signed_at=now, note=f"重办：{reason}",
    )
    case.lead_unit_id, case.closed_at, case.outcome, case.evaluation = last_lead.unit_id, None, "", ""
    return finish_transition(
        case, CaseAction.REOPEN, actor=actor, from_status=before, to_status=after,
        fields=["lead_unit", "closed_at", "outcome", "evaluation"], reason=reason,
    )


@transaction.atomic
def do_archive_case(code: str, *, actor, data: dict | None = None) -> Case:
    """Archive the matter; `data` adds the 卷宗's details to the timeline event (`yidi.mediation.archive`)."""
    case, before, after = _begin(code, CaseAction.ARCHIVE, actor=actor)
    return finish_transition(case, CaseAction.ARCHIVE, actor=actor, from_status=before, to_status=after, fields=[], data=data)


# --- additions that do not change status -----------------------------------------------------------------


def _begin_addition(code: str, *, actor) -> Case:
    case = access.get_case_for_user(actor, code, for_update=True)
    if not actor.role_set & domain.ADDITION_ROLES:
        raise access.ActionDenied("您的角色无权补充事项材料")
    return case


@transaction.atomic
def do_add_contact(code: str, *, actor, channel_code: str, summary: str, party: PartyDraft | None = None,
                   external_ref: str = "") -> Contact:
    """Keep another report of the same matter (a second call, a second visit): nothing is merged away."""
    case = _begin_addition(code, actor=actor)
    if not summary.strip():
        raise InvalidInput("summary", "请填写反映内容")
    channel = Channel.objects.filter(code=channel_code, is_active=True).first()
    if channel is None:
        raise InvalidInput("channel", f"未知的来源渠道“{channel_code}”")
    now = clock.now()
    person = None
    if party is not None:
        _check_parties((party,))
        person = _index_person(party, now=now)
    contact = Contact.objects.create(
        case=case, channel=channel, contacted_at=now, person=person, summary=summary.strip(),
        external_ref=external_ref, recorded_by=actor,
    )
    side_event(case, "add_contact", actor=actor, data={"channel": channel.code}, audit_fields=["contacts"])
    return contact


@transaction.atomic
def do_record_visit(code: str, *, actor, place: str, purpose: str = "") -> Visit:
    """Record that the person came in person (to the window, a township, a department)."""
    case = _begin_addition(code, actor=actor)
    if not place.strip():
        raise InvalidInput("place", "请填写来访地点")
    applicant = case.parties.filter(role="applicant").order_by("position").first()
    visit = Visit.objects.create(
        case=case, person=applicant.person if applicant else None, place=place.strip(), unit=actor.unit,
        visited_at=clock.now(), purpose=purpose.strip(), recorded_by=actor,
    )
    side_event(case, "record_visit", actor=actor, data={"place": visit.place}, audit_fields=["visits"])
    return visit


@transaction.atomic
def do_add_attachment(code: str, *, actor, upload, description: str = "",
                      kind: str = AttachmentKind.EVIDENCE) -> Attachment:
    """Attach a file: evidence, a party's identity document, a power of attorney. The file type is decided by
    the content, not the name."""
    if kind not in AttachmentKind.values:
        raise InvalidInput("kind", "请选择材料类型")
    case = _begin_addition(code, actor=actor)
    return attach_file(case, upload, actor=actor, kind=kind, description=description)


def attach_file(case: Case, upload, *, actor, kind: str = AttachmentKind.EVIDENCE, description: str = "",
                check=check_upload) -> Attachment:
    """Store a checked upload on a matter the caller has already locked and cleared (the staff action above,
    the citizen portal, the grid worker's report), with its timeline event. The type is read from the bytes."""
    if kind not in AttachmentKind.values:
        raise InvalidInput("kind", "请选择材料类型")
    content_type, data = check(upload)
    digest = hashlib.sha256(data).hexdigest()
    attachment = Attachment(
        case=case, kind=kind, original_name=upload.name[:200], content_type=content_type, size=len(data),
        sha256=digest, description=description.strip(), uploaded_at=clock.now(), uploaded_by=actor,
    )
    _store_file(attachment, upload.name[-80:], data)
    attachment.save()
    side_event(case, "add_attachment", actor=actor, data={"name": attachment.original_name, "sha256": digest,
                                                           "kind": kind, "kind_label": AttachmentKind(kind).label},
                audit_fields=["attachments"])
    return attachment


STORAGE_FULL = "存储空间不足，附件未能保存。请联系系统管理员清理或扩充存储空间后重新上传。"
STORAGE_FAILED = "附件未能保存（存储故障），请稍后重试；如仍失败，请联系系统管理员。"


def _store_file(attachment: Attachment, filename: str, data: bytes) -> None:
    """Write an attachment's bytes to storage whole, or leave nothing there (disk full, I/O error).

    - the name is chosen before the write, so what a failed write left can be found: a file at that name shorter
      than the upload is its remains and is removed (a whole one would be a twin upload's, and is kept);
    - the failure is `InvalidInput` on the file field with a clear message, so every caller shows it and its
      transaction rolls back: no attachment row, no timeline step.
    """
    import errno
    import logging

    field_file, max_length = attachment.file, attachment.file.field.max_length
    storage = field_file.storage
    name = storage.get_available_name(field_file.field.generate_filename(attachment, filename), max_length=max_length)
    try:
        field_file.name = storage.save(name, ContentFile(data), max_length=max_length)
    except OSError as error:
        logger = logging.getLogger(__name__)
        logger.error("attachment of %s not stored: %s", attachment.case.code, error.strerror or error)
        try:
            if storage.exists(name) and storage.size(name) < len(data):
                storage.delete(name)
        except OSError as cleanup:
            logger.error("partly written attachment of %s not removed: %s", attachment.case.code, cleanup)
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        raise InvalidInput("file", STORAGE_FULL if full else STORAGE_FAILED) from error


@transaction.atomic
def do_set_labels(code: str, *, actor, grade: str = "", complexity: str = "", labels: dict[str, str]) -> Case:
    """Confirm or correct the classification and grade (确认分类分级)."""
    case = access.get_case_for_user(actor, code, for_update=True)
    if not actor.role_set & {Role.REGISTRAR, Role.DISPATCHER}:
        raise access.ActionDenied("您的角色无权修改分类分级")
    now = clock.now()
    resolved = {tax: _resolve_label(tax, label, f"label_{tax}") for tax, label in labels.items() if label}
    for taxonomy_code, label in resolved.items():
        CaseLabel.objects.update_or_create(
            case=case, taxonomy=Taxonomy.objects.get(code=taxonomy_code),
            defaults={"label": label, "source": "manual", "confidence": None, "set_at": now, "set_by": actor},
        )
    fields = []
    if "mediation_type" in resolved:
        case.primary_type = resolved["mediation_type"]
        fields.append("primary_type")
    if grade:
        case.grade = domain.Grade(grade)
        fields.append("grade")
    if complexity:
        case.complexity = domain.Complexity(complexity)
        fields.append("complexity")
    case.version += 1
    case.save(update_fields=[*fields, "version", "updated_at"])
    data = {"labels": labels, "grade": grade, "complexity": complexity}
    add_event(case, "set_labels", actor=actor, from_status=case.status, data=data)
    audit_case(case, "set_labels", actor=actor, fields=fields, data=data)
    return case


# --- escalation, transfer, consultation, leader instruction, urgency -------------------------------------


def _end_active_assignments(case: Case, *, at) -> None:
    Assignment.objects.filter(case=case, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).update(
        status=AssignmentStatus.ENDED, ended_at=at
    )


@transaction.atomic
def do_escalate_case(code: str, *, actor, reason: str) -> Case:
    """上报/提级: the lead unit (or a dispatcher) sends the matter up one handling level, back to the command
    desk for assignment there. `actor` None is the deadline sweep escalating an overdue matter."""
    reason = _require_reason(CaseAction.ESCALATE, reason)
    if actor is None:
        case = Case.objects.select_for_update().select_related("region").get(code=code)
    else:
        case, _, _ = _begin(code, CaseAction.ESCALATE, actor=actor)
    before = case.status
    after = next_status(case.status_enum, CaseAction.ESCALATE)
    from_level = case.handling_level
    _end_active_assignments(case, at=clock.now())
    case.lead_unit, case.handling_level, case.routed_policy = None, domain.higher_level(case.handling_level), ""
    case = finish_transition(
        case, CaseAction.ESCALATE, actor=actor, from_status=before, to_status=after,
        fields=["lead_unit", "handling_level", "routed_policy"], reason=reason,
        data={"from_level": from_level, "to_level": case.handling_level},
    )
    _record_route_suggestion(case)  # the rules' view at the new level, for the dispatcher there
    return case


def _begin_side(code: str, action: CaseAction, *, actor) -> Case:
    """Lock the matter and check scope, role, unit and that the side action is allowed in its status."""
    case, _, _ = _begin(code, action, actor=actor)
    return case


def side_event(
    case: Case, action: str, *, actor, fields=(), reason: str = "", data=None, audit_fields=None
) -> None:
    """Record an action that keeps the status: bump the version, one timeline event, one audit row."""
    case.version += 1
    case.save(update_fields=["version", "updated_at", *fields])
    add_event(case, action, actor=actor, from_status=case.status, reason=reason, data=data)
    audit_case(case, action, actor=actor, fields=list(audit_fields or fields), reason=reason, data=data)


@transaction.atomic
def do_request_transfer(code: str, *, actor, to_unit_code: str, reason: str) -> Transfer:
    """转办: the lead unit asks another unit serving the matter's place to take it over; it stays the
    first handler (首办责任) until the receiving unit accepts."""
    reason = _require_reason(CaseAction.REQUEST_TRANSFER, reason)
    case = _begin_side(code, CaseAction.REQUEST_TRANSFER, actor=actor)
    to_unit = Unit.objects.filter(code=to_unit_code, is_active=True).first()
    if to_unit is None:
        raise InvalidInput("to_unit", f"未知或已停用的单位“{to_unit_code}”")
    if to_unit.pk == case.lead_unit_id:
        raise InvalidInput("to_unit", "不能转办给本单位")
    if not is_within(case.region_id, to_unit.region_id):
        raise InvalidInput("to_unit", f"“{to_unit.name}”不在事项发生地“{case.region.short_name}”的属地层级内，不能转办")
    if Transfer.objects.filter(case=case, status=RequestStatus.PENDING).exists():
        raise RuleViolation("该事项已有待接收的转办申请")
    transfer = Transfer.objects.create(
        case=case, from_unit_id=case.lead_unit_id, to_unit=to_unit, reason=reason, requested_at=clock.now(),
        requested_by=actor,
    )
    side_event(case, CaseAction.REQUEST_TRANSFER, actor=actor, reason=reason,
                data={"to_unit": to_unit.code, "to_unit_name": to_unit.name})
    return transfer


def _pending_transfer_to(case: Case, actor) -> Transfer:
    transfer = (
        Transfer.objects.select_for_update()
        .filter(case=case, status=RequestStatus.PENDING, to_unit_id=actor.unit_id)
        .first()
    )
    if transfer is None:
        raise RuleViolation("没有转给本单位的待接收转办")
    return transfer


@transaction.atomic
def do_accept_transfer(code: str, *, actor) -> Case:
    """The receiving unit takes the matter over: it becomes the lead unit, already signed for."""
    case = access.get_case_for_user(actor, code, for_update=True)
    next_status(case.status_enum, CaseAction.ACCEPT_TRANSFER)
    if not actor.role_set & domain.ACTION_ROLES[CaseAction.ACCEPT_TRANSFER]:
        raise access.ActionDenied("您的角色无权接收转办")
    transfer = _pending_transfer_to(case, actor)
    now = clock.now()
    transfer.status, transfer.decided_at, transfer.decided_by = RequestStatus.APPROVED, now, actor
    transfer.save(update_fields=["status", "decided_at", "decided_by"])
    Assignment.objects.filter(
        case=case, role=AssignmentRole.LEAD, status__in=[AssignmentStatus.PENDING, AssignmentStatus.SIGNED]
    ).update(status=AssignmentStatus.ENDED, ended_at=now)
    Assignment.objects.filter(case=case, unit_id=actor.unit_id, status__in=[
        AssignmentStatus.PENDING, AssignmentStatus.SIGNED]).update(status=AssignmentStatus.ENDED, ended_at=now)
    Assignment.objects.create(
        case=case, unit_id=actor.unit_id, role=AssignmentRole.LEAD, status=AssignmentStatus.SIGNED,
        assigned_at=now, assigned_by=transfer.requested_by, signed_at=now, note=f"转办：{transfer.reason}",
    )
    case.lead_unit_id = actor.unit_id
    CaseDeadline.objects.filter(case=case, met_at=None, cancelled_at=None).update(applied=[])
    side_event(case, CaseAction.ACCEPT_TRANSFER, actor=actor, fields=["lead_unit"],
                data={"from_unit": transfer.from_unit.code, "from_unit_name": transfer.from_unit.name})
    deadlines.refresh_summary(case, now=now)
    return case


@transaction.atomic
def do_refuse_transfer(code: str, *, actor, reason: str) -> Transfer:
    reason = _require_reason(CaseAction.REFUSE_TRANSFER, reason)
    case = access.get_case_for_user(actor, code, for_update=True)
    next_status(case.status_enum, CaseAction.REFUSE_TRANSFER)
    if not actor.role_set & domain.ACTION_ROLES[CaseAction.REFUSE_TRANSFER]:
        raise access.ActionDenied("您的角色无权拒收转办")
    transfer = _pending_transfer_to(case, actor)
    transfer.status, transfer.decided_at, transfer.decided_by = RequestStatus.REFUSED, clock.now(), actor
    transfer.decision_reason = reason
    transfer.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    side_event(case, CaseAction.REFUSE_TRANSFER, actor=actor, reason=reason)
    return transfer


@transaction.atomic
def do_record_consultation(code: str, *, actor, unit_codes: tuple[str, ...], minutes: str, decisions: str) -> Case:
    """会商研判: record the units convened, the minutes and the decisions taken."""
    if not minutes.strip():
        raise InvalidInput("minutes", "请填写会商纪要")
    if not decisions.strip():
        raise InvalidInput("decisions", "请填写研判意见")
    case = _begin_side(code, CaseAction.RECORD_CONSULTATION, actor=actor)
    units = list(Unit.objects.filter(code__in=unit_codes, is_active=True).order_by("code"))
    if len(units) != len(set(unit_codes)) or not units:
        raise InvalidInput("units", "请选择参加会商的单位（须为有效单位）")
    Consultation.objects.create(
        case=case, held_at=clock.now(), unit_names=[u.name for u in units], minutes=minutes.strip(),
        decisions=decisions.strip(), recorded_by=actor,
    )
    side_event(case, CaseAction.RECORD_CONSULTATION, actor=actor, reason=decisions.strip(),
                data={"units": [u.name for u in units]})
    return case


@transaction.atomic
def do_record_leader_instruction(code: str, *, actor, instruction: str) -> Case:
    """领导批示: recorded on the timeline, seen by every unit on the matter."""
    instruction = _require_reason(CaseAction.RECORD_LEADER_INSTRUCTION, instruction)
    case = _begin_side(code, CaseAction.RECORD_LEADER_INSTRUCTION, actor=actor)
    side_event(case, CaseAction.RECORD_LEADER_INSTRUCTION, actor=actor, reason=instruction)
    return case


@transaction.atomic
def do_mark_urgent(code: str, *, actor, reason: str = "") -> Case:
    case = _begin_side(code, CaseAction.MARK_URGENT, actor=actor)
    if case.is_urgent:
        raise RuleViolation("该事项已是加急事项")
    case.is_urgent = True
    side_event(case, CaseAction.MARK_URGENT, actor=actor, fields=["is_urgent"], reason=reason.strip())
    return case


def _issue_urging(case: Case, *, level: str, stage: str, reason: str, actor) -> Urging:
    urging = Urging.objects.create(
        case=case, level=level, stage=stage, unit_id=case.lead_unit_id, reason=reason, issued_at=clock.now(),
        issued_by=actor,
    )
    side_event(case, CaseAction.URGE, actor=actor, reason=reason,
                data={"level": level, "level_name": UrgingLevel(level).label, "stage": stage})
    return urging


@transaction.atomic
def do_urge_case(code: str, *, actor, level: str, reason: str) -> Urging:
    """督办 by a supervisor or leader: 普通, 黄牌 or 红牌, addressed to the lead unit."""
    reason = _require_reason(CaseAction.URGE, reason)
    if level not in UrgingLevel.values:
        raise InvalidInput("level", "督办级别不正确")
    case = _begin_side(code, CaseAction.URGE, actor=actor)
    return _issue_urging(case, level=level, stage="", reason=reason, actor=actor)


# --- deadlines: extensions, pauses, and what the deadline sweep does ------------------------------------


def _running_deadline(case: Case, stage: str) -> CaseDeadline:
    """A running clock of the unit's (the parties' periods, `PARTY_STAGES`, are neither paused nor extended)."""
    deadline = CaseDeadline.objects.select_for_update().filter(
        case=case, stage=stage, met_at=None, cancelled_at=None
    ).exclude(stage__in=PARTY_STAGES).first()
    if deadline is None:
        raise InvalidInput("stage", "该阶段没有正在计时的期限")
    return deadline


@transaction.atomic
def do_request_extension(code: str, *, actor, stage: str, days: int, reason: str) -> ExtensionRequest:
    """延期: asked before the deadline passes, within the policy's cap; decided by a dispatcher or leader."""
    reason = _require_reason(CaseAction.REQUEST_EXTENSION, reason)
    case = _begin_side(code, CaseAction.REQUEST_EXTENSION, actor=actor)
    deadline = _running_deadline(case, stage)
    limit = deadlines._limit_of(deadline)
    check = can_extend(
        clock.now(), deadline.due_at, requested_days=days, max_extension_days=limit.max_extension_days,
        extended_days=deadline.extension_days,
    )
    if not check.allowed:
        raise RuleViolation(check.message)
    if deadline.extension_requests.filter(status=RequestStatus.PENDING).exists():
        raise RuleViolation("该期限已有待审批的延期申请")
    request = ExtensionRequest.objects.create(
        case=case, deadline=deadline, days=days, reason=reason, requested_at=clock.now(), requested_by=actor
    )
    side_event(case, CaseAction.REQUEST_EXTENSION, actor=actor, reason=reason,
                data={"stage": stage, "days": days})
    return request


@transaction.atomic
def do_decide_extension(code: str, *, actor, approve: bool, reason: str = "") -> ExtensionRequest:
    case = _begin_side(code, CaseAction.DECIDE_EXTENSION, actor=actor)
    request = ExtensionRequest.objects.select_for_update().filter(case=case, status=RequestStatus.PENDING).first()
    if request is None:
        raise RuleViolation("没有待审批的延期申请")
    if not approve and not reason.strip():
        raise InvalidInput("reason", "不同意延期须说明理由")
    now = clock.now()
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    request.decided_at, request.decided_by, request.decision_reason = now, actor, reason.strip()
    request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    if approve:
        deadline = CaseDeadline.objects.select_for_update().get(pk=request.deadline_id)
        deadline.extension_days += request.days
        deadlines.recompute(deadline, deadlines.calendar_for(case))
        deadline.save(update_fields=["extension_days", "due_at", "yellow_at", "red_at"])
        deadlines.refresh_summary(case, now=now)
    side_event(case, CaseAction.DECIDE_EXTENSION, actor=actor, reason=reason.strip(),
                data={"approved": approve, "days": request.days, "stage": request.deadline.stage})
    return request


@transaction.atomic
def do_pause_deadline(code: str, *, actor, stage: str, reason: str) -> CaseDeadline:
    """Stop a clock while time does not count (鉴定, 听证); resuming moves the due date by the pause."""
    reason = _require_reason(CaseAction.PAUSE_DEADLINE, reason)
    case = _begin_side(code, CaseAction.PAUSE_DEADLINE, actor=actor)
    deadline = _running_deadline(case, stage)
    if deadline.is_paused:
        raise RuleViolation("该期限已暂停")
    deadline.pauses = [*deadline.pauses, [clock.now().isoformat(), None]]
    deadline.save(update_fields=["pauses"])
    deadlines.refresh_summary(case, now=clock.now())
    side_event(case, CaseAction.PAUSE_DEADLINE, actor=actor, reason=reason, data={"stage": stage})
    return deadline


@transaction.atomic
def do_resume_deadline(code: str, *, actor, stage: str) -> CaseDeadline:
    case = _begin_side(code, CaseAction.RESUME_DEADLINE, actor=actor)
    deadline = _running_deadline(case, stage)
    if not deadline.is_paused:
        raise RuleViolation("该期限未暂停")
    now = clock.now()
    deadline.pauses = [*deadline.pauses[:-1], [deadline.pauses[-1][0], now.isoformat()]]
    deadlines.recompute(deadline, deadlines.calendar_for(case))
    deadline.save(update_fields=["pauses", "due_at", "yellow_at", "red_at"])
    deadlines.refresh_summary(case, now=now)
    side_event(case, CaseAction.RESUME_DEADLINE, actor=actor, data={"stage": stage})
    return deadline


@dataclass
class DeadlineEffects:
    """What the deadline sweep did to a batch of matters."""

    processed: int = 0
    effects: int = 0
    escalated: list[str] = field(default_factory=list)


# The columns the sweep writes as plain rows (thousands a minute: no model instances).
URGING_COLUMNS = ("case_id", "level", "stage", "unit_id", "reason", "issued_at", "issued_by_id")
EVENT_COLUMNS = ("case_id", "seq", "action", "from_status", "to_status", "at", "actor_id", "actor_name",
                 "actor_unit_id", "reason", "data")


@transaction.atomic
def do_apply_deadline_effects(cases: list[Case], *, now) -> DeadlineEffects:
    """The deadline sweep's action on a batch of locked matters (system actor): for each running clock, the
    督办 ladder's effects now due — a warning, a 督办 card, telling the other legal route — each one timeline
    event and one audit row, written in bulk; escalations go through `do_escalate_case` one by one.

    Every effect is recorded on its clock (`applied`) in the same transaction, so it never happens twice.
    """
    result = DeadlineEffects()
    by_case: dict[int, list[CaseDeadline]] = {case.pk: [] for case in cases}
    for deadline in CaseDeadline.objects.filter(case_id__in=by_case, met_at=None, cancelled_at=None).order_by("id"):
        by_case[deadline.case_id].append(deadline)
    policies = {policy.id: policy for policy in worktime.policies()}
    events, urgings, audits, changed_clocks, to_escalate = [], [], [], [], []
    for case in cases:
        calendar = deadlines.calendar_for(case)
        for deadline in by_case[case.pk]:
            if deadline.is_paused:
                continue
            rules = deadlines.due_effects(deadline, now=now, calendar=calendar)
            state = deadline_state(now, deadline.due_at, deadline.yellow_at, deadline.red_at)
            if not rules and state == deadline.state:
                continue
            deadline.state = state
            deadline.applied = [*deadline.applied, *(rule.effect.value for rule in rules)]
            changed_clocks.append(deadline)
            for rule in rules:
                result.effects += 1
                reason = rule.reason()
                if rule.effect == Effect.ESCALATE and (case.status, CaseAction.ESCALATE) in domain.TRANSITIONS:
                    to_escalate.append((case.code, reason))
                    continue
                action, data = _effect_event(rule.effect, deadline, policies)
                if rule.effect == Effect.ESCALATE:  # returned to the command desk already: it decides, and is told
                    reason = f"{reason}（事项已回退至指挥中心待重新交办，不再上报提级）"
                if action == CaseAction.URGE:
                    urgings.append((case.pk, data["level"], deadline.stage, case.lead_unit_id, reason, now, None))
                case.version += 1
                events.append((case.pk, case.version, action, case.status, case.status, now, None, SYSTEM_NAME,
                               None, reason, data))
                audits.append({
                    "action": f"case.{action}", "object_type": "case", "object_id": case.code, "reason": reason,
                    "data": data,
                })
        deadlines.refresh_summary(case, now=now, running=by_case[case.pk], save=False)
        case.updated_at = now
        result.processed += 1
    update_rows(changed_clocks, ["state", "applied"])
    insert_values(Urging, URGING_COLUMNS, urgings)
    insert_values(CaseEvent, EVENT_COLUMNS, events)
    update_rows(cases, ["version", "updated_at", *deadlines.SUMMARY_FIELDS])
    record_many(actor=None, entries=audits)
    for code, reason in to_escalate:
        do_escalate_case(code, actor=None, reason=reason)
        result.escalated.append(code)
    return result


def _effect_event(effect: Effect, deadline: CaseDeadline, policies: dict) -> tuple[str, dict]:
    """The timeline entry of one sweep effect: (action, data)."""
    if effect == Effect.WARN:
        return "deadline_warning", {"stage": deadline.stage, "due_at": deadline.due_at.isoformat()}
    if effect == Effect.ESCALATE:  # only for a matter that cannot go up from where it is (see the caller)
        return "deadline_warning", {"stage": deadline.stage, "due_at": deadline.due_at.isoformat(),
                                    "escalation_skipped": True}
    if effect in (Effect.URGE_NORMAL, Effect.URGE_YELLOW, Effect.URGE_RED):
        level = effect.value.removeprefix("urge_")
        return CaseAction.URGE, {"level": level, "level_name": UrgingLevel(level).label, "stage": deadline.stage}
    if effect == Effect.OFFER_DIVERSION:
        policy = policies.get(deadline.policy_code)
        route = policy.diversion if policy is not None and policy.diversion else "其他法定途径"
        return "offer_diversion", {"route": route, "stage": deadline.stage}
    raise ValueError(f"unknown effect {effect}")


# --- the native API (optimistic concurrency, audited reads of personal data) -------------------------------------


class StaleVersion(Exception):
    """The matter changed since the client read it (its `If-Match` names an older version)."""

    def __init__(self, current: int):
        self.current = current
        super().__init__("事项已被他人修改，请重新读取后再操作")


@transaction.atomic
def do_at_version(code: str, *, actor, expected_version: int, perform: Callable[[], Case]) -> Case:
    """Run `perform` (one `do_*` action on this matter) only if the matter is still at `expected_version`.

    The matter's row is locked first and stays locked through `perform` (same transaction), so no other write
    can slip in between the check and the action. Out of scope: `CaseNotFound`, before the version is compared.
    """
    case = access.get_case_for_user(actor, code, for_update=True)
    if case.version != expected_version:
        raise StaleVersion(case.version)
    return perform()


@transaction.atomic
def do_record_personal_data_read(case: Case, parties: list[CaseParty], *, actor, purpose: str) -> None:
    """Audit that `actor` received the parties' personal data in full (PI-05): who, which matter, whose data,
    which fields, why."""
    record(
        actor=actor, action="case.personal_data_read", object_type="case", object_id=case.code,
        fields=["name", "id_number", "phone", "address"], reason=purpose,
        data={"parties": [party.pk for party in parties], "persons": [party.person_id for party in parties]},
    )
