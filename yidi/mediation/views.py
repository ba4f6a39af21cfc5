"""Staff pages of mediation: parse → authorise (through `accounts.access`) → one action or query → render."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from yidi.accounts import access
from yidi.accounts.domain import Role
from yidi.accounts.middleware import recent_auth_required
from yidi.cases import domain as case_domain
from yidi.cases.domain import CaseAction, CaseStatus, InvalidInput
from yidi.cases.forms import ACTION_REFUSALS, show_refusal
from yidi.cases.models import CaseEvent
from yidi.core.masking import mask
from yidi.mediation import actions, archive, domain, forms, handoffs, ledger, queries
from yidi.mediation.actions import AgreementInput, MissingDocumentFields, PartyDetailInput, SessionInput
from yidi.mediation.document_data import build_documents
from yidi.mediation.documents import validate
from yidi.mediation.domain import ActorKind, MediationAction
from yidi.mediation.models import GeneratedDocument, RightsNoticeDelivery

A = MediationAction
HANDOFF_EVENTS = {"divert", "record_court_referral", "record_handoff_receipt", "record_handoff_outcome",
                  "record_petition_request", "record_petition_answer"}
DIRECTORY_ROLES = frozenset({Role.DISPATCHER, Role.MEDIATOR, Role.LEADER})


@dataclass(frozen=True)
class ActionSpec:
    form: type[django_forms.Form]
    run: Callable
    style: str = "secondary"  # button style: primary, secondary, danger
    section: str = "mediation-actions"  # where the page returns to after success


def _agreement(data) -> AgreementInput:
    return AgreementInput(
        facts=data["facts"], disputed_issues=data["disputed_issues"], responsibility=data.get("responsibility") or "",
        terms=data["terms"], performance_manner=data["performance_manner"],
        performance_place=data["performance_place"], performance_period=data["performance_period"],
    )


ACTION_SPECS: dict[MediationAction, ActionSpec] = {
    A.OPEN: ActionSpec(forms.OpenForm, lambda c, u, d, f: actions.do_open_mediation(
        c, actor=u, source=d["source"], requests=d["requests"], applied_on=d["applied_on"], committee=d["committee"],
    ), "primary"),
    A.DESIGNATE: ActionSpec(forms.DesignateForm, lambda c, u, d, f: actions.do_designate_mediators(
        c, actor=u, mediator_ids=d["mediators"], source=d["source"], note=d["note"],
    ), "primary", "mediators"),
    A.RECUSE: ActionSpec(forms.RecuseForm, lambda c, u, d, f: actions.do_recuse_mediator(
        c, actor=u, mediator_id=d["mediator"], relation=d["relation"], reason=d["reason"], party_id=d["party"],
    ), "danger", "mediators"),
    A.DECLARE_CONFLICT: ActionSpec(forms.ConflictForm, lambda c, u, d, f: actions.do_declare_conflict(
        c, actor=u, mediator_id=d["mediator"], relation=d["relation"], party_id=d["party"], note=d["note"],
    ), "secondary", "mediators"),
    A.UPDATE_PARTY: ActionSpec(forms.PartyDetailForm, lambda c, u, d, f: actions.do_update_party_details(
        c, actor=u, party_id=d["party"], details=PartyDetailInput(
            sex=d["sex"], ethnicity=d["ethnicity"], age=d["age"], occupation=d["occupation"],
            work_unit=d["work_unit"], representative=d["representative"]),
    ), "secondary", "parties"),
    A.DELIVER_RIGHTS_NOTICE: ActionSpec(forms.RightsNoticeForm, lambda c, u, d, f: actions.do_deliver_rights_notice(
        c, actor=u, party_ids=d["parties"], method=d["method"], delivered_on=d["delivered_on"],
    ), "secondary", "parties"),
    A.NOTIFY_OTHER_PARTY: ActionSpec(forms.NotifyForm, lambda c, u, d, f: actions.do_notify_other_party(
        c, actor=u, party_id=d["party"], method=d["method"], note=d["note"],
    ), "primary"),
    A.RECORD_CONSENT: ActionSpec(forms.ConsentForm, lambda c, u, d, f: actions.do_record_consent(
        c, actor=u, party_id=d["party"], note=d["note"],
    ), "primary"),
    A.RECORD_REFUSAL: ActionSpec(forms.RefusalForm, lambda c, u, d, f: actions.do_record_refusal(
        c, actor=u, party_id=d["party"], reason=d["reason"], routes_told=d["routes_told"],
    ), "danger"),
    A.RECORD_SESSION: ActionSpec(forms.SessionForm, lambda c, u, d, f: actions.do_record_session(
        c, actor=u, session=SessionInput(
            kind=d["kind"], mode=d["mode"], place=d["place"], started_at=d["started_at"], ended_at=d["ended_at"],
            party_ids=tuple(d["parties"]), attendees=d["attendees"], recorder=d["recorder"],
            statements=f.statement_pairs, result=d["result"]),
    ), "primary", "sessions"),
    A.SCHEDULE_SESSION: ActionSpec(forms.ScheduleSessionForm, lambda c, u, d, f: actions.do_schedule_session(
        c, actor=u, starts_at=d["starts_at"], place=d["place"], mode=d["mode"], online_room=d["online_room"],
        note=d["note"],
    ), "primary", "appointments"),
    A.CANCEL_SESSION: ActionSpec(forms.CancelSessionForm, lambda c, u, d, f: actions.do_cancel_session(
        c, actor=u, appointment_id=d["appointment"], reason=d["reason"],
    ), "danger", "appointments"),
    A.ADD_EVIDENCE: ActionSpec(forms.EvidenceForm, lambda c, u, d, f: actions.do_add_evidence(
        c, actor=u, upload=d["file"], description=d["description"], kind=d["kind"] or "evidence",
    ), "secondary", "evidence"),
    A.DRAFT_AGREEMENT: ActionSpec(forms.AgreementContentForm, lambda c, u, d, f: actions.do_draft_agreement(
        c, actor=u, content=_agreement(d),
    ), "primary", "agreement"),
    A.RECORD_SIGNATURES: ActionSpec(forms.SignatureForm, lambda c, u, d, f: actions.do_record_signatures(
        c, actor=u, signer_keys=d["signers"],
    ), "primary", "agreement"),
    A.MAKE_AGREEMENT_EFFECTIVE: ActionSpec(forms.EmptyForm, lambda c, u, d, f: actions.do_make_agreement_effective(
        c, actor=u,
    ), "primary", "agreement"),
    A.RECORD_ORAL_AGREEMENT: ActionSpec(forms.OralAgreementForm, lambda c, u, d, f: actions.do_record_oral_agreement(
        c, actor=u, content=_agreement(d),
    ), "secondary", "agreement"),
    A.RECORD_FAILURE: ActionSpec(forms.FailureForm, lambda c, u, d, f: actions.do_record_failure(
        c, actor=u, reason=d["reason"], routes_told=d["routes_told"],
    ), "danger"),
    A.REQUEST_JUDICIAL_CONFIRMATION: ActionSpec(
        forms.JudicialConfirmationForm, lambda c, u, d, f: actions.do_request_judicial_confirmation(
            c, actor=u, court=d["court"], applied_on=d["applied_on"],
        ), "primary", "confirmation"),
    A.RECORD_COURT_ACCEPTANCE: ActionSpec(forms.CourtAcceptanceForm, lambda c, u, d, f: actions.do_record_court_acceptance(
        c, actor=u, accepted_on=d["accepted_on"], number=d["number"],
    ), "primary", "confirmation"),
    A.RECORD_RULING: ActionSpec(forms.RulingForm, lambda c, u, d, f: actions.do_record_ruling(
        c, actor=u, ruling=d["ruling"], ruled_on=d["ruled_on"], number=d["number"], note=d["note"],
        routes_told=d["routes_told"],
    ), "primary", "confirmation"),
    A.ADD_OBLIGATION: ActionSpec(forms.ObligationForm, lambda c, u, d, f: actions.do_add_obligation(
        c, actor=u, obligor_id=d["obligor"], obligee_id=d["obligee"], description=d["description"],
        amount=d["amount"], due_on=d["due_on"],
    ), "secondary", "performance"),
    A.RECORD_PERFORMANCE: ActionSpec(forms.PerformanceForm, lambda c, u, d, f: actions.do_record_performance(
        c, actor=u, obligation_id=d["obligation"], performed_on=d["performed_on"], note=d["note"],
        is_complete=d["is_complete"], amount=d["amount"], receipt=d["receipt"],
    ), "primary", "performance"),
    A.URGE_PERFORMANCE: ActionSpec(forms.UrgePerformanceForm, lambda c, u, d, f: actions.do_urge_performance(
        c, actor=u, obligation_id=d["obligation"], note=d["note"], route_told=d["route_told"],
    ), "danger", "performance"),
    A.RECORD_RATING: ActionSpec(forms.RatingForm, lambda c, u, d, f: actions.do_record_rating(
        c, actor=u, mediator_id=d["mediator"], party_id=d["party"], score=d["score"], comment=d["comment"],
    ), "secondary", "mediators"),
    A.GENERATE_DOCUMENT: ActionSpec(forms.GenerateDocumentForm, lambda c, u, d, f: actions.do_generate_document(
        c, actor=u, key=d["key"],
    ), "secondary", "documents"),
}
# Where each action's button sits on the page.
PANEL_GROUPS = {
    "mediators": (A.DESIGNATE, A.RECUSE, A.DECLARE_CONFLICT, A.RECORD_RATING),
    "parties": (A.DELIVER_RIGHTS_NOTICE, A.UPDATE_PARTY),
    "sessions": (A.RECORD_SESSION,),
    "appointments": (A.SCHEDULE_SESSION, A.CANCEL_SESSION),
    "evidence": (A.ADD_EVIDENCE,),
    "agreement": (A.DRAFT_AGREEMENT, A.RECORD_SIGNATURES, A.MAKE_AGREEMENT_EFFECTIVE, A.RECORD_ORAL_AGREEMENT),
    "confirmation": (A.REQUEST_JUDICIAL_CONFIRMATION, A.RECORD_COURT_ACCEPTANCE, A.RECORD_RULING),
    "performance": (A.ADD_OBLIGATION, A.RECORD_PERFORMANCE, A.URGE_PERFORMANCE),
}
_GROUPED = {action for group in PANEL_GROUPS.values() for action in group} | {A.GENERATE_DOCUMENT}
MAIN_ACTIONS = tuple(action for action in MediationAction if action not in _GROUPED)


def _make_form(action: MediationAction, case, mediation, data=None, files=None) -> django_forms.Form:
    return ACTION_SPECS[action].form(data, files, prefix=action.value, case=case, mediation=mediation)


def _preconditions_met(action: MediationAction, case, mediation, form) -> bool:
    """Buttons that make sense only in some situations (someone to recuse, something unsigned …)."""
    if action in domain.NEEDS_MEDIATOR and not queries.active_designations(mediation):
        return False
    choice_fields = {
        A.RECUSE: "mediator", A.DECLARE_CONFLICT: "mediator", A.DESIGNATE: "mediators", A.RECORD_SIGNATURES: "signers",
        A.RECORD_PERFORMANCE: "obligation", A.URGE_PERFORMANCE: "obligation", A.RECORD_RATING: "mediator",
        A.CANCEL_SESSION: "appointment",
    }
    if action in choice_fields and not form.fields[choice_fields[action]].choices:
        return False
    agreement = getattr(mediation, "agreement", None) if mediation else None
    confirmation = getattr(agreement, "judicial_confirmation", None) if agreement else None
    if action is A.REQUEST_JUDICIAL_CONFIRMATION:
        return bool(agreement and agreement.form == "written" and agreement.effective_at and confirmation is None)
    if action is A.RECORD_COURT_ACCEPTANCE:
        return confirmation is not None and confirmation.accepted_on is None
    if action is A.RECORD_RULING:
        return confirmation is not None and confirmation.accepted_on is not None and not confirmation.ruling
    if action is A.ADD_OBLIGATION:
        return bool(agreement and agreement.effective_at)
    return True


def _available(case, mediation, kinds) -> list[MediationAction]:
    status = mediation.status_enum if mediation else None
    available = []
    for action in domain.allowed_actions(status):
        if action is A.GENERATE_DOCUMENT or domain.denial_reason(action, kinds) is not None:
            continue
        if case.status_enum not in domain.MATTER_STATUSES[action]:
            continue
        available.append(action)
    return available


def _panels(case, mediation, kinds, *, failed_action=None, failed_form=None) -> dict[str, list[dict]]:
    panels: dict[str, list[dict]] = {group: [] for group in PANEL_GROUPS} | {"main": []}
    for action in _available(case, mediation, kinds):
        form = failed_form if action == failed_action else _make_form(action, case, mediation)
        if action != failed_action and not _preconditions_met(action, case, mediation, form):
            continue
        group = next((name for name, members in PANEL_GROUPS.items() if action in members), "main")
        panels[group].append({
            "action": action, "label": action.label, "form": form, "style": ACTION_SPECS[action].style,
            "open": action == failed_action, "needs_input": bool(form.fields),
            "multipart": any(isinstance(field, django_forms.FileField) for field in form.fields.values()),
        })
    return panels


def _parties(case, mediation) -> list[dict]:
    told = {}
    if mediation is not None:
        told = {d.party_id: d for d in RightsNoticeDelivery.objects.filter(mediation=mediation)}
    details = {p.pk: getattr(p, "mediation_detail", None) for p in case.parties.select_related("mediation_detail")}
    rows = []
    for party in queries.case_parties(case):
        detail = details.get(party.pk)
        rows.append({
            "id": party.pk, "role": party.get_role_display(), "name": party.person.name,
            "kind": party.person.get_kind_display(),
            "id_number": mask(party.person.id_number, "id_number"), "phone": mask(party.person.phone, "phone"),
            "address": mask(party.person.address, "address"), "detail": detail, "notice": told.get(party.pk),
            "is_agent": party.role == "agent",
        })
    return rows


def _documents(mediation, *, error: MissingDocumentFields | None, error_key: str = "") -> list[dict]:
    if mediation is None:
        return []
    history: dict[str, list[GeneratedDocument]] = {}
    for document in mediation.documents.select_related("generated_by", "session").order_by("key", "-version"):
        history.setdefault(document.key, []).append(document)
    rows = []
    for slot, data in build_documents(mediation, today=timezone.localdate()):
        missing = validate(slot.kind, data)
        rows.append({
            "slot": slot, "missing": missing, "versions": history.get(slot.key, []),
            "error": error if error is not None and error_key == slot.key else None,
        })
    return rows


def _page_context(request, case, *, failed_action=None, failed_form=None, document_error=None,
                  document_key: str = "") -> dict:
    user = request.user
    mediation = queries.get_mediation(case)
    kinds = queries.get_actor_kinds(user, case, mediation)
    panels = _panels(case, mediation, kinds, failed_action=failed_action, failed_form=failed_form)
    can_designate = mediation is not None and mediation.status_enum in domain.OPEN_MEDIATION_STATUSES and (
        domain.denial_reason(A.DESIGNATE, kinds) is None)
    agreement = getattr(mediation, "agreement", None) if mediation else None
    signers = []
    if agreement is not None and agreement.form == "written":
        signed = {s.signer_key: s for s in agreement.signatures.all()}
        signers = [{"signer": signer, "signed": signed.get(signer.key)}
                   for signer in queries.required_signers(mediation)]
    today = timezone.localdate()
    event_names = {action.value for action in MediationAction} | HANDOFF_EVENTS
    return {
        "case": case, "mediation": mediation, "kinds": kinds,
        "is_worker": bool(kinds & {ActorKind.DESIGNATED_MEDIATOR, ActorKind.LEAD_UNIT}),
        "panels": panels, "main_panels": panels["main"],
        "designations": queries.active_designations(mediation),
        "past_designations": list(mediation.designations.exclude(ended_at=None).select_related("mediator__user"))
        if mediation else [],
        "proposals": queries.list_proposals(case, mediation) if can_designate else [],
        "parties": _parties(case, mediation),
        "sessions": list(mediation.sessions.all()) if mediation else [],
        "appointments": queries.upcoming_appointments(case) if mediation else [],
        "agreement": agreement, "signers": signers,
        "unsigned": [row["signer"].label for row in signers if not row["signed"]],
        "confirmation": getattr(agreement, "judicial_confirmation", None) if agreement else None,
        "window": queries.judicial_confirmation_window(case) if agreement else None,
        "response_clock": queries.response_clock(case) if mediation else None,
        "obligations": queries.list_obligations(mediation, today=today) if mediation else [],
        "documents": _documents(mediation, error=document_error, error_key=document_key),
        "may_download": queries.may_download_documents(user, case, mediation),
        "can_generate": mediation is not None and domain.denial_reason(A.GENERATE_DOCUMENT, kinds) is None,
        "attachments": list(case.attachments.all()),
        "ratings": list(mediation.ratings.select_related("mediator__user", "party__person")) if mediation else [],
        "events": list(CaseEvent.objects.filter(case=case, action__in=event_names).select_related("actor_unit")
                       .order_by("seq")),
    }


@login_required
def mediation_detail(request: HttpRequest, code: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, code)
    context = _page_context(request, case) | _handoff_context(request, case) | _archive_context(request, case)
    return render(request, "mediation/detail.html", context)


@login_required
@require_POST
def mediation_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    user = request.user
    case = access.get_case_for_user(user, code)
    try:
        action_enum = MediationAction(action)
        spec = ACTION_SPECS[action_enum]
    except (ValueError, KeyError):
        raise Http404("未知的操作") from None
    mediation = queries.get_mediation(case)
    form = _make_form(action_enum, case, mediation, request.POST, request.FILES)
    status = 400
    document_error = None
    if form.is_valid():
        try:
            spec.run(case.code, user, form.cleaned_data, form)
        except MissingDocumentFields as error:
            document_error, status = error, 409
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        except ACTION_REFUSALS as error:
            status = show_refusal(form, error)
        else:
            messages.success(request, f"已{action_enum.label}")
            return redirect(f"{reverse('mediation_detail', kwargs={'code': case.code})}#{spec.section}")
    case = access.get_case_for_user(user, code)
    context = _page_context(
        request, case, failed_action=None if document_error else action_enum, failed_form=form,
        document_error=document_error, document_key=request.POST.get(f"{action_enum.value}-key", ""),
    )
    context |= _handoff_context(request, case) | _archive_context(request, case)
    shown = any(panel["action"] == action_enum for group in context["panels"].values() for panel in group)
    if document_error is None and not shown:
        messages.error(request, "；".join(form.non_field_errors()) or "无法执行该操作")
    return render(request, "mediation/detail.html", context, status=status)


@login_required
@recent_auth_required
def document_download(request: HttpRequest, code: str, document_id: int, fmt: str) -> FileResponse:
    """A generated document: full ID numbers, so personal-data access (re-authenticated within 5 minutes, AUTH-09;
    limited and audited by the action)."""
    try:
        download = actions.do_download_document(code, actor=request.user, document_id=document_id, fmt=fmt)
    except access.ActionDenied as error:
        raise PermissionDenied(str(error)) from None
    return FileResponse(download.open(), as_attachment=True, filename=download.filename,
                        content_type=download.content_type)


@login_required
def mediator_directory(request: HttpRequest) -> HttpResponse:
    """调解专家库: the county's mediators with their specialties, region, workload, record and ratings."""
    user = request.user
    if not (access.can_read_cases(user) and user.role_set & DIRECTORY_ROLES):
        raise Http404("页面不存在")
    county = user.unit.region_id[:6]
    form = forms.DirectoryFilterForm(request.GET or None, county_code=county)
    filters = queries.DirectoryFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = queries.DirectoryFilters(
            text=data["text"].strip(), specialty=data["specialty"], region=data["region"],
            organisation_type=data["organisation_type"], availability=data["availability"], room=data["room"],
        )
    return render(request, "mediation/directory.html", {
        "form": form, "entries": queries.list_directory(county, filters), "rooms": queries.list_rooms(county),
        "filtered": filters != queries.DirectoryFilters(),
    })


# --- hand-offs (诉调、仲调、访调对接) --------------------------------------------------------------------------


@dataclass(frozen=True)
class HandOffSpec:
    label: str
    form: type[django_forms.Form]
    run: Callable
    style: str = "secondary"


HANDOFF_SPECS: dict[str, HandOffSpec] = {
    "hand_off": HandOffSpec("移送对接", forms.HandOffForm, lambda c, u, d: handoffs.do_hand_off(
        c, actor=u, kind=d["kind"], receiver=d["receiver"], reason=d["reason"]), "primary"),
    "record_court_referral": HandOffSpec("登记法院委派/委托", forms.CourtReferralForm,
                                         lambda c, u, d: handoffs.do_record_court_referral(
        c, actor=u, kind=d["kind"], court=d["court"], received_on=d["received_on"],
        reference_number=d["reference_number"], procedure=d.get("procedure") or "ordinary")),
    "record_receipt": HandOffSpec("登记接收", forms.HandOffReceiptForm, lambda c, u, d: handoffs.do_record_handoff_receipt(
        c, actor=u, handoff_id=d["handoff"], received_on=d["received_on"], reference_number=d["reference_number"])),
    "record_outcome": HandOffSpec("登记结果", forms.HandOffOutcomeForm, lambda c, u, d: handoffs.do_record_handoff_outcome(
        c, actor=u, handoff_id=d["handoff"], decided_on=d["decided_on"], decision=d["decision"],
        opinion=d["opinion"], reference_number=d["reference_number"], note=d["note"]), "primary"),
    "petition_request": HandOffSpec("登记复查/复核请求", forms.PetitionRequestForm,
                                    lambda c, u, d: handoffs.do_record_petition_request(
        c, actor=u, handoff_id=d["handoff"], step=d["step"], requested_on=d["requested_on"])),
    "petition_answer": HandOffSpec("登记复查/复核意见", forms.PetitionAnswerForm,
                                   lambda c, u, d: handoffs.do_record_petition_answer(
        c, actor=u, handoff_id=d["handoff"], step=d["step"], opinion=d["opinion"], answered_on=d["answered_on"])),
}


def _handoff_choices(case, name: str) -> list:
    rows = list(case.handoffs.all())
    if name == "record_receipt":
        return [h for h in rows if h.status == "sent" and not h.is_incoming]
    if name == "record_outcome":
        return [h for h in rows if h.status == ("sent" if h.is_incoming else "received")]
    if name in {"petition_request", "petition_answer"}:
        return [h for h in rows if h.kind == "petition" and h.status == "outcome_recorded"
                and not h.recheck_answered_on]
    return rows


def _handoff_available(user, case, name: str) -> bool:
    if name == "hand_off":
        return access.denial_reason(user, case, CaseAction.DIVERT) is None and (
            CaseAction.DIVERT in case_domain.allowed_actions(case.status_enum))
    if not handoffs.can_track(user, case) or case.status_enum is CaseStatus.ARCHIVED:
        return False
    if name == "record_court_referral":
        return case.status_enum in case_domain.OPEN_STATUSES
    return bool(_handoff_choices(case, name))


def _handoff_panels(request, case, *, failed: str = "", failed_form=None) -> list[dict]:
    panels = []
    for name, spec in HANDOFF_SPECS.items():
        if name != failed and not _handoff_available(request.user, case, name):
            continue
        form = failed_form if name == failed else spec.form(prefix=name, handoffs=_handoff_choices(case, name))
        panels.append({"action": name, "label": spec.label, "form": form, "style": spec.style,
                       "open": name == failed})
    return panels


def _handoff_context(request, case, *, failed: str = "", failed_form=None) -> dict:
    return {
        "handoffs": list(case.handoffs.select_related("sent_by")),
        "handoff_panels": _handoff_panels(request, case, failed=failed, failed_form=failed_form),
        "may_track_handoffs": handoffs.can_track(request.user, case),
        "final_petition_code": handoffs.final_petition_code(case),
        "petition_clocks": list(case.deadlines.filter(stage__in=list(handoffs.PETITION_STAGES)).order_by("id")),
    }


@login_required
@require_POST
def handoff_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    user = request.user
    case = access.get_case_for_user(user, code)
    spec = HANDOFF_SPECS.get(action)
    if spec is None:
        raise Http404("未知的操作")
    form = spec.form(request.POST, prefix=action, handoffs=_handoff_choices(case, action))
    status = 400
    if form.is_valid():
        try:
            spec.run(case.code, user, form.cleaned_data)
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        except ACTION_REFUSALS as error:
            status = show_refusal(form, error)
        else:
            messages.success(request, f"已{spec.label}")
            return redirect(f"{reverse('mediation_detail', kwargs={'code': case.code})}#handoffs")
    case = access.get_case_for_user(user, code)
    context = (_page_context(request, case) | _handoff_context(request, case, failed=action, failed_form=form)
               | _archive_context(request, case))
    return render(request, "mediation/detail.html", context, status=status)


@login_required
@recent_auth_required
def handoff_package(request: HttpRequest, code: str, handoff_id: int) -> FileResponse:
    """The package sent with a hand-off (zip); audited by the action."""
    try:
        handoff = handoffs.get_package(code, actor=request.user, handoff_id=handoff_id)
    except access.ActionDenied as error:
        raise PermissionDenied(str(error)) from None
    filename = f"{handoff.case.code}-{handoff.get_kind_display()}-移送材料.zip"
    return FileResponse(handoff.package_file.open("rb"), as_attachment=True, filename=filename,
                        content_type="application/zip")


# --- 以案定补 -------------------------------------------------------------------------------------------------------


def _month(request) -> date:
    try:
        return datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def subsidy_ledger(request: HttpRequest) -> HttpResponse:
    """以案定补 monthly statement of the user's scope (dispatchers, leaders, supervisors)."""
    if not ledger.can_see_ledger(request.user):
        raise Http404("页面不存在")
    statement = ledger.get_statement(request.user, _month(request))
    return render(request, "mediation/subsidies.html", {"statement": statement,
                                                         "month_value": f"{statement.month:%Y-%m}"})


def _subsidy_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if not ledger.can_see_ledger(request.user):
        raise Http404("页面不存在")
    content, content_type, filename = ledger.do_export_statement(request.user, _month(request), fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def subsidy_statement_csv(request: HttpRequest) -> HttpResponse:
    return _subsidy_export(request, "csv")


@login_required
def subsidy_statement_xlsx(request: HttpRequest) -> HttpResponse:
    return _subsidy_export(request, "xlsx")


# --- 卷宗 ------------------------------------------------------------------------------------------------------------


def _archive_context(request, case, *, form=None) -> dict:
    mediation = queries.get_mediation(case)
    kept = getattr(case, "archive", None) if hasattr(case, "archive") else None
    can_archive = (mediation is not None and kept is None and case.status_enum is CaseStatus.CLOSED
                   and access.denial_reason(request.user, case, CaseAction.ARCHIVE) is None)
    rows = archive.catalogue(case, mediation) if can_archive else []
    if form is None and can_archive:
        form = forms.ArchiveForm(rows=rows)
    return {"case_archive": kept, "archive_rows": kept.items if kept else rows, "archive_form": form,
            "can_archive": can_archive,
            "may_download_archive": kept is not None and queries.may_download_documents(request.user, case, mediation)}


@login_required
@require_POST
def archive_file(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    case = access.get_case_for_user(user, code)
    mediation = queries.get_mediation(case)
    rows = archive.catalogue(case, mediation) if mediation is not None else []
    form = forms.ArchiveForm(request.POST, rows=rows)
    status = 400
    if form.is_valid():
        try:
            archive.do_archive_file(case.code, actor=user, waivers=form.waivers())
        except ACTION_REFUSALS as error:
            status = show_refusal(form, error)
        else:
            messages.success(request, "已归档，卷宗已生成")
            return redirect(f"{reverse('mediation_detail', kwargs={'code': case.code})}#archive")
    case = access.get_case_for_user(user, code)
    context = _page_context(request, case) | _handoff_context(request, case) | _archive_context(request, case, form=form)
    return render(request, "mediation/detail.html", context, status=status)


@login_required
@recent_auth_required
def archive_download(request: HttpRequest, code: str, fmt: str) -> FileResponse:
    """The 卷宗 as one PDF or the zip of originals (full identity data: re-authenticated, audited)."""
    try:
        kept, field_name, content_type = archive.get_archive_file(code, actor=request.user, fmt=fmt)
    except access.ActionDenied as error:
        raise PermissionDenied(str(error)) from None
    filename = f"{kept.case.code}-卷宗.{fmt}"
    return FileResponse(getattr(kept, field_name).open("rb"), as_attachment=True, filename=filename,
                        content_type=content_type)
