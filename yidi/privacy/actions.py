"""Writes for personal-data protection: reveal, export requests and their approval, anonymisation, retention rules.

Every action is audited. A refused action changes nothing, writes one audit row with outcome "denied" and the
reason code in `data.denial`, and raises a `Refused` subclass that the view turns into a status code:
- the work runs in one transaction, which a refusal rolls back entirely;
- the denied row is then written in a transaction of its own, so it survives the refusal.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone

from yidi.accounts import access
from yidi.accounts.models import User
from yidi.audit.actions import record
from yidi.audit.models import AuditOutcome
from yidi.cases.models import (
    Assignment,
    Attachment,
    Case,
    CaseEvent,
    CaseParty,
    Consultation,
    Contact,
    ExtensionRequest,
    Person,
    RoutingRecord,
    Transfer,
    Urging,
    Visit,
)
from yidi.cases.queries import CaseFilters, list_cases
from yidi.core import clock
from yidi.core.masking import PersonalKind, mask
from yidi.privacy import domain, queries
from yidi.privacy.domain import (
    ANONYMISED_TEXT,
    Denial,
    ExportState,
    ExportStatus,
    InvalidReason,
    RecordType,
)
from yidi.privacy.models import Anonymisation, ExportRequest, RetentionRule

logger = logging.getLogger(__name__)

DEFAULT_REVEAL_LIMIT_PER_HOUR = 30
DEFAULT_EXPORT_VALID_HOURS = 24
DEFAULT_EXPORT_MAX_DOWNLOADS = 3
DEFAULT_EXPORT_MAX_CASES = 2000


def reveal_limit_per_hour() -> int:
    return getattr(settings, "PRIVACY_REVEAL_LIMIT_PER_HOUR", DEFAULT_REVEAL_LIMIT_PER_HOUR)


def export_valid_hours() -> int:
    return getattr(settings, "PRIVACY_EXPORT_VALID_HOURS", DEFAULT_EXPORT_VALID_HOURS)


def export_max_downloads() -> int:
    return getattr(settings, "PRIVACY_EXPORT_MAX_DOWNLOADS", DEFAULT_EXPORT_MAX_DOWNLOADS)


def export_max_cases() -> int:
    return getattr(settings, "PRIVACY_EXPORT_MAX_CASES", DEFAULT_EXPORT_MAX_CASES)


# --- refusals ----------------------------------------------------------------------------------------------


class Refused(Exception):
    """A refused privacy action (already audited). `status` is the HTTP status the view answers with."""

    status = 404

    def __init__(self, denial: Denial, message: str = "", **context: Any):
        super().__init__(message or "不存在或无权查看")
        self.denial = denial
        self.message = message or "不存在或无权查看"
        self.context = context


class NotFound(Refused):
    status = 404  # also for "exists but not yours": the existence of the object is not revealed


class InvalidRequest(Refused):
    status = 400


class Forbidden(Refused):
    status = 403


class Conflict(Refused):
    status = 409


class Gone(Refused):
    status = 410


class RateLimited(Refused):
    status = 429


def _short(value: Any, length: int = 60) -> str:
    return str(value)[:length]


@contextmanager
def _audit_refusal(*, actor, action: str, object_type: str, object_id: Any, fields=(), reason: str = "",
                   data: dict[str, Any] | None = None) -> Iterator[None]:
    """Let a `Refused` raised inside through, after writing its denied audit row in a transaction of its own."""
    try:
        yield
    except Refused as refusal:
        with transaction.atomic():
            record(
                actor=actor, action=action, object_type=object_type, object_id=_short(object_id),
                fields=[_short(name, 40) for name in fields], outcome=AuditOutcome.DENIED,
                reason=_short(reason, domain.REASON_MAX_LENGTH), data={**(data or {}), "denial": refusal.denial.value},
            )
        raise


# --- reveal ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revealed:
    target: queries.RevealTarget
    value: str


def do_reveal_personal_data(*, actor, case_code: str, party_id: int, field: str, reason: str) -> Revealed:
    """Return one party field in clear (查看完整), for a stated reason, and audit who saw what and why.

    - the matter must be in the user's read scope and the party one of its parties (else `NotFound`);
    - the roles and, for handlers and mediators, an active assignment of their unit decide (`domain.decide_reveal`;
      a refusal is also `NotFound`, so a probe learns nothing);
    - then a reason is required (`InvalidRequest`), then the hourly limit applies (`RateLimited`).
    """
    with _audit_refusal(actor=actor, action=queries.REVEAL_ACTION, object_type="case", object_id=case_code,
                        fields=[field], reason=reason, data={"party": _short(party_id)}), transaction.atomic():
        # One user's reveals queue here, so two at once cannot both take the last one of the hour.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        target = queries.get_reveal_target(actor, case_code, party_id, field)
        if target is None:
            raise NotFound(Denial.NOT_FOUND)
        decision = queries.reveal_decision(actor, target.case)
        if not decision.allowed:
            raise NotFound(decision.denial)
        try:
            reason = domain.clean_reason(reason)
        except InvalidReason as error:
            raise InvalidRequest(Denial.REASON, str(error), target=target) from None
        now = clock.now()
        limit = reveal_limit_per_hour()
        recent = queries.list_recent_reveal_times(actor, since=now - domain.REVEAL_WINDOW)
        retry_at = domain.next_reveal_at(recent, now=now, limit=limit)
        if retry_at is not None:
            raise RateLimited(
                Denial.RATE_LIMITED,
                f"查看完整信息过于频繁：每人每小时最多 {limit} 次，请于 {timezone.localtime(retry_at):%H:%M} 后再试",
                target=target, retry_at=retry_at,
            )
        record(
            actor=actor, action=queries.REVEAL_ACTION, object_type="case", object_id=target.case.code,
            fields=[target.field.value], reason=reason,
            data={"party": target.party.pk, "person": target.party.person_id, "party_role": target.party.role,
                  "role": decision.role.value, "basis": decision.basis.value},
        )
        return Revealed(target, getattr(target.party.person, target.field.value))


# --- exports -----------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["事项编码", "事项标题", "登记日期", "状态", "当事人角色", "类型", "姓名/名称", "证件号码", "联系电话", "住址"]
EXPORTED_FIELDS = ["name", "id_number", "phone", "address"]


@dataclass
class ExportFile:
    filename: str
    watermark: str
    rows: list[list[str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=lambda: list(EXPORT_COLUMNS))


def _party_rows(parties: list[CaseParty], *, masked: bool) -> list[list[str]]:
    """One row per party. Masked: every value masked, and the parties' names, ID and phone numbers in the
    matter's title too."""
    names: dict[int, list[str]] = {}
    for party in parties:
        names.setdefault(party.case_id, []).append(party.person.name)
    kinds = [PersonalKind.NAME, PersonalKind.ID_NUMBER, PersonalKind.PHONE, PersonalKind.ADDRESS]
    rows = []
    for party in parties:
        person, case = party.person, party.case
        values = [person.name, person.id_number, person.phone, person.address]
        title = case.title
        if masked:
            values = [mask(value, kind) for value, kind in zip(values, kinds, strict=True)]
            title = domain.redact_text(title, names[case.pk])
        rows.append([
            case.code, title, f"{timezone.localtime(case.registered_at):%Y-%m-%d}", case.get_status_display(),
            party.get_role_display(), person.get_kind_display(), *values,
        ])
    return rows


def _who(user) -> str:
    unit = f"，{user.unit.name}" if user.unit_id else ""
    return f"{user}（{user.get_username()}{unit}）"


def _filters_data(filters: CaseFilters) -> dict[str, Any]:
    return {name: (value.isoformat() if hasattr(value, "isoformat") else value)
            for name, value in filters.__dict__.items() if value not in ("", None, (), False)}


def _check_size(count: int) -> None:
    if count == 0:
        raise InvalidRequest(Denial.INVALID, "没有符合条件、可以导出的事项")
    if count > export_max_cases():
        raise InvalidRequest(Denial.INVALID, f"符合条件的事项超过 {export_max_cases()} 件，请缩小筛选范围后再导出")


def do_export_masked(*, actor, filters: CaseFilters, filter_summary: str) -> ExportFile:
    """The parties of the matters under a list filter, masked (no approval needed); the export is audited."""
    with _audit_refusal(actor=actor, action="privacy.export_masked", object_type="case_list", object_id="filter",
                        data={"filters": filter_summary}), transaction.atomic():
        if not access.can_read_cases(actor):
            raise NotFound(Denial.ROLE)
        case_ids = list(list_cases(actor, filters).values_list("pk", flat=True)[: export_max_cases() + 1])
        _check_size(len(case_ids))
        parties = queries.list_export_parties(case_ids)
        now = clock.now()
        record(
            actor=actor, action="privacy.export_masked", object_type="case_list", object_id="filter",
            fields=EXPORTED_FIELDS, data={"filters": filter_summary, "cases": len(case_ids), "parties": len(parties),
                                          "masked": True},
        )
        return ExportFile(
            filename=f"parties-masked-{timezone.localtime(now):%Y%m%d-%H%M%S}.csv",
            watermark=f"脱敏导出（不含完整个人信息）。导出人：{_who(actor)}；导出时间：{timezone.localtime(now):%Y-%m-%d %H:%M}；"
                      f"范围：{filter_summary}",
            rows=_party_rows(parties, masked=True),
        )


def do_request_export(*, actor, filters: CaseFilters, filter_summary: str, reason: str) -> ExportRequest:
    """Ask to export the full data of the parties of the matters under a list filter.

    - only people who may reveal (see `domain.REVEAL_BASIS`) ask, and only for matters they could reveal one by
      one (handlers and mediators: the matters their unit is assigned to);
    - the set of matters is frozen now, so the approver sees exactly what leaves; at most `export_max_cases()`.
    """
    with _audit_refusal(actor=actor, action="privacy.export_request", object_type="export_request", object_id="new",
                        reason=reason, data={"filters": filter_summary}), transaction.atomic():
        if domain.reveal_grant(actor.role_set) is None or not access.can_read_cases(actor):
            raise NotFound(Denial.ROLE)
        try:
            reason = domain.clean_reason(reason, purpose="导出")
        except InvalidReason as error:
            raise InvalidRequest(Denial.REASON, str(error)) from None
        case_ids = list(
            queries.exportable_cases(actor, filters).order_by("registered_at", "id").values_list("pk", flat=True)[
                : export_max_cases() + 1
            ]
        )
        _check_size(len(case_ids))
        export = ExportRequest.objects.create(
            requested_by=actor, requester_unit_id=actor.unit_id, region_id=actor.unit.region_id,
            requested_at=clock.now(), reason=reason, filters=_filters_data(filters),
            filter_summary=filter_summary[:500], case_ids=case_ids, case_count=len(case_ids),
            party_count=CaseParty.objects.filter(case_id__in=case_ids).count(),
        )
        record(
            actor=actor, action="privacy.export_request", object_type="export_request", object_id=export.pk,
            fields=EXPORTED_FIELDS, reason=reason,
            data={"filters": export.filter_summary, "cases": export.case_count, "parties": export.party_count},
        )
        return export


APPROVAL_MESSAGES = {
    Denial.SELF_APPROVAL: "申请人不能审批本人提出的导出申请，请由本辖区其他调度员、领导或督查员审批",
    Denial.ROLE: "只有调度员、领导或督查员可以审批导出申请",
    Denial.NOT_PENDING: "该申请已经审批过",
    Denial.OUT_OF_SCOPE: "该申请包含您无权查看的事项，请由上级审批",
}
APPROVAL_REFUSALS = {
    Denial.SELF_APPROVAL: Forbidden, Denial.ROLE: Forbidden, Denial.NOT_PENDING: Conflict, Denial.OUT_OF_SCOPE: Forbidden,
}


def _get_export(actor, export_id: int, *, for_update: bool = False) -> ExportRequest:
    try:
        return queries.get_export_for_user(actor, export_id, for_update=for_update)
    except queries.ExportNotFound:
        raise NotFound(Denial.NOT_FOUND) from None


def _decide(export_id: int, *, actor, approve: bool, reason: str) -> ExportRequest:
    export = _get_export(actor, export_id, for_update=True)
    denial = domain.approval_denial(
        approver_id=actor.pk, requester_id=export.requested_by_id, approver_roles=actor.role_set, status=export.status
    )
    if denial is None and access.visible_cases(actor).filter(pk__in=export.case_ids).count() != len(export.case_ids):
        denial = Denial.OUT_OF_SCOPE
    if denial is not None:
        raise APPROVAL_REFUSALS[denial](denial, APPROVAL_MESSAGES[denial])
    now = clock.now()
    export.decided_by, export.decided_at = actor, now
    if approve:
        export.status = ExportStatus.APPROVED
        export.expires_at = domain.export_expires_at(now, valid_hours=export_valid_hours())
        export.max_downloads = export_max_downloads()
    else:
        export.status = ExportStatus.REFUSED
    export.decision_reason = reason
    export.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "expires_at", "max_downloads"])
    record(
        actor=actor, action="privacy.export_approve" if approve else "privacy.export_refuse",
        object_type="export_request", object_id=export.pk, fields=["status"], reason=reason,
        data={"requester": export.requested_by.get_username(), "cases": export.case_count,
              "expires_at": export.expires_at.isoformat() if export.expires_at else None,
              "max_downloads": export.max_downloads},
    )
    return export


def do_approve_export(export_id: int, *, actor, reason: str = "") -> ExportRequest:
    """A second person approves (another user with a dispatcher, leader or supervisor role in the region who may
    read every matter of the export); the export is then valid for `export_valid_hours()` and
    `export_max_downloads()` downloads."""
    reason = " ".join(reason.split())[: domain.REASON_MAX_LENGTH]
    with _audit_refusal(actor=actor, action="privacy.export_approve", object_type="export_request",
                        object_id=export_id, reason=reason), transaction.atomic():
        return _decide(export_id, actor=actor, approve=True, reason=reason)


def do_refuse_export(export_id: int, *, actor, reason: str) -> ExportRequest:
    """The approver refuses, with a reason the requester will read."""
    with _audit_refusal(actor=actor, action="privacy.export_refuse", object_type="export_request",
                        object_id=export_id, reason=reason), transaction.atomic():
        _get_export(actor, export_id)  # 404 before any other answer
        try:
            reason = domain.clean_reason(reason, purpose="不予批准的", hint="，申请人将看到此理由")
        except InvalidReason as error:
            raise InvalidRequest(Denial.REASON, str(error)) from None
        return _decide(export_id, actor=actor, approve=False, reason=reason)


DOWNLOAD_MESSAGES = {
    Denial.NOT_APPROVED: "该申请尚未获得批准，不能下载",
    Denial.EXPIRED: "导出已过期，请重新申请",
    Denial.USED_UP: "下载次数已用完，请重新申请",
}
DOWNLOAD_REFUSALS = {Denial.NOT_APPROVED: Forbidden, Denial.EXPIRED: Gone, Denial.USED_UP: Gone}


def do_download_export(export_id: int, *, actor) -> ExportFile:
    """The requester downloads an approved export: before it expires, up to its download limit.

    The matters are checked again: one the requester may no longer reveal (e.g. the unit was unassigned) is left
    out, and the audit row says how many.
    """
    with _audit_refusal(actor=actor, action="privacy.export_download", object_type="export_request",
                        object_id=export_id), transaction.atomic():
        export = _get_export(actor, export_id, for_update=True)
        if export.requested_by_id != actor.pk:
            raise NotFound(Denial.NOT_FOUND)  # approvers see the request, never the data
        now = clock.now()
        state = domain.export_state(export.status, expires_at=export.expires_at, download_count=export.download_count,
                                    max_downloads=export.max_downloads, now=now)
        denial = domain.download_denial(state)
        if denial is not None:
            raise DOWNLOAD_REFUSALS[denial](denial, DOWNLOAD_MESSAGES[denial])
        allowed = set(
            queries.exportable_cases(actor, CaseFilters()).filter(pk__in=export.case_ids).values_list("pk", flat=True)
        )
        parties = queries.list_export_parties(allowed)
        ExportRequest.objects.filter(pk=export.pk).update(download_count=F("download_count") + 1, last_downloaded_at=now)
        approver = export.decided_by
        record(
            actor=actor, action="privacy.export_download", object_type="export_request", object_id=export.pk,
            fields=EXPORTED_FIELDS, reason=export.reason,
            data={"cases": len(allowed), "parties": len(parties), "left_out": export.case_count - len(allowed),
                  "download": export.download_count + 1, "max_downloads": export.max_downloads},
        )
        return ExportFile(
            filename=f"parties-export-{export.pk}-{timezone.localtime(now):%Y%m%d-%H%M%S}.csv",
            watermark=(
                f"本表含完整个人信息，仅限申请用途使用，不得外传。导出人：{_who(actor)}；审批人：{_who(approver)}；"
                f"申请编号：{export.pk}；导出时间：{timezone.localtime(now):%Y-%m-%d %H:%M}；"
                f"第 {export.download_count + 1}/{export.max_downloads} 次下载"
            ),
            rows=_party_rows(parties, masked=False),
        )


def export_state_of(export: ExportRequest, *, now: datetime | None = None) -> ExportState:
    return domain.export_state(export.status, expires_at=export.expires_at, download_count=export.download_count,
                               max_downloads=export.max_downloads, now=now or clock.now())


# --- retention and anonymisation ---------------------------------------------------------------------------

# Free text written by staff on a matter: party names, ID numbers and phone numbers in it are masked.
REDACTED_TEXT_FIELDS: dict[type, tuple[str, ...]] = {
    CaseEvent: ("reason",),
    Assignment: ("note",),
    Visit: ("purpose",),
    Attachment: ("original_name", "description"),
    Consultation: ("minutes", "decisions"),
    Urging: ("reason",),
    ExtensionRequest: ("reason", "decision_reason"),
    Transfer: ("reason", "decision_reason"),
    RoutingRecord: ("override_reason",),
}
ANONYMISED_FIELDS = [
    "person.name", "person.id_number", "person.phone", "person.address", "person.id_number_hash",
    "person.phone_hash", "person.name_phone_hash", "case.title", "case.description", "case.address",
    "case.latitude", "case.longitude", "contact.summary", "attachment.file", "free_text",
]


def _redact_value(value: Any, names: list[str]) -> Any:
    if isinstance(value, str):
        return domain.redact_text(value, names)
    if isinstance(value, list):
        return [_redact_value(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item, names) for key, item in value.items()}
    return value


def _is_linked_elsewhere(person_id: int, case_id: int) -> bool:
    return any(
        model.objects.filter(person_id=person_id).exclude(case_id=case_id).exists()
        for model in (CaseParty, Contact, Visit)
    )


def _anonymise_persons(case: Case) -> tuple[int, int, list[str]]:
    """Anonymise the people of the matter; return (anonymised in place, detached, their former names).

    A person who also appears on another matter (the person index is shared) keeps their record for it: this
    matter is pointed at a new, anonymous record instead.
    """
    person_ids = set()
    for model in (CaseParty, Contact, Visit):
        person_ids |= set(model.objects.filter(case=case, person__isnull=False).values_list("person_id", flat=True))
    anonymised = detached = 0
    names = []
    for person in Person.objects.select_for_update().filter(pk__in=person_ids).order_by("pk"):
        names.append(person.name)
        masked_name = mask(person.name, PersonalKind.NAME)
        if _is_linked_elsewhere(person.pk, case.pk):
            placeholder = Person.objects.create(kind=person.kind, name=masked_name, created_at=person.created_at)
            for model in (CaseParty, Contact, Visit):
                model.objects.filter(case=case, person=person).update(person=placeholder)
            detached += 1
        else:
            person.name, person.id_number, person.phone, person.address = masked_name, "", "", ""
            person.id_number_hash = person.phone_hash = person.name_phone_hash = ""
            person.save(update_fields=["name", "id_number", "phone", "address", "id_number_hash", "phone_hash",
                                       "name_phone_hash"])
            anonymised += 1
    return anonymised, detached, names


def _remove_attachments(case: Case) -> int:
    """Clear the matter's attachment files (deleted from storage after the commit); the rows stay for counts."""
    removed = 0
    for attachment in Attachment.objects.filter(case=case).exclude(file=""):
        storage, stored_name = attachment.file.storage, attachment.file.name
        transaction.on_commit(lambda storage=storage, stored_name=stored_name: storage.delete(stored_name))
        Attachment.objects.filter(pk=attachment.pk).update(file="")
        removed += 1
    return removed


def do_anonymise_case(
    case_id: int, *, record_type: RecordType, retention_years: int, retention_started_at: datetime, now: datetime
) -> Anonymisation | None:
    """Replace the personal data of one matter past its retention; keep everything statistics need.

    - people: name → masked form, ID number, phone, address and their look-up hashes → "";
    - the matter: description and contact summaries → a fixed text, the detailed address and coordinates
      cleared, the title and every staff-written text with party names, ID and phone numbers masked;
    - attachment files deleted (after the commit); their rows stay;
    - kept: the matter row, its code, status, types, region, dates, outcome, units, timeline and deadlines;
    - the audit log is never touched (it holds no personal values); one audit row records the anonymisation;
    - idempotent: a matter already anonymised is skipped (returns None).
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or Anonymisation.objects.filter(case_id=case_id).exists():
            return None
        anonymised, detached, names = _anonymise_persons(case)
        case.title = domain.redact_text(case.title, names)
        case.description, case.address, case.latitude, case.longitude = ANONYMISED_TEXT, "", None, None
        case.save(update_fields=["title", "description", "address", "latitude", "longitude", "updated_at"])
        Contact.objects.filter(case=case).exclude(summary="").update(summary=ANONYMISED_TEXT)
        for model, text_fields in REDACTED_TEXT_FIELDS.items():
            for row in model.objects.filter(case=case).only("pk", *text_fields, *(["data"] if model is CaseEvent else [])):
                changes = {name: domain.redact_text(getattr(row, name), names) for name in text_fields}
                if model is CaseEvent:
                    changes["data"] = _redact_value(row.data, names)
                changed = {name: value for name, value in changes.items() if value != getattr(row, name)}
                if changed:
                    model.objects.filter(pk=row.pk).update(**changed)
        removed = _remove_attachments(case)
        done = Anonymisation.objects.create(
            case=case, record_type=record_type, retention_years=retention_years,
            retention_started_at=retention_started_at, anonymised_at=now, persons_anonymised=anonymised,
            persons_detached=detached, attachments_removed=removed,
        )
        record(
            actor=None, action="privacy.anonymise", object_type="case", object_id=case.code, fields=ANONYMISED_FIELDS,
            reason=f"超过保存期限：{record_type.label}保存 {retention_years} 年（自{record_type.start_label}起）",
            data={"record_type": record_type.value, "retention_years": retention_years,
                  "retention_started_at": retention_started_at.isoformat(), "persons_anonymised": anonymised,
                  "persons_detached": detached, "attachments_removed": removed},
        )
        return done


@transaction.atomic
def do_save_retention_rule(rule: RetentionRule, *, actor, created: bool) -> RetentionRule:
    """Save a retention rule (from the admin site) and audit the change with its values before and after."""
    before = (
        model_to_dict(RetentionRule.objects.select_for_update().get(pk=rule.pk)) if rule.pk and not created else {}
    )
    rule.save()
    after = model_to_dict(rule)
    changed = sorted(name for name in after if before.get(name) != after[name] and name != "id")
    record(
        actor=actor, action="privacy.retention_rule_create" if created else "privacy.retention_rule_update",
        object_type="retention_rule", object_id=rule.record_type, fields=changed,
        data={"before": {name: before.get(name) for name in changed}, "after": {name: after[name] for name in changed}},
    )
    return rule
