"""Staff pages for matters: parse → authorise (through `accounts.access`) → one action or query → render."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from yidi.accounts import access
from yidi.cases import actions, forms, queries, triage
from yidi.cases.domain import (
    ACTION_LABELS,
    ADDITION_ROLES,
    REASON_REQUIRED,
    STAFF_REGISTER_ROLES,
    CaseAction,
    InvalidInput,
    allowed_actions,
)
from yidi.cases.forms import ACTION_REFUSALS, show_refusal
from yidi.cases.models import Attachment
from yidi.core import worktime
from yidi.core.deadlines import Stage
from yidi.core.masking import mask
from yidi.core.pagination import CappedPaginator
from yidi.core.taxonomies import TAXONOMY_BY_CODE


@dataclass(frozen=True)
class ActionSpec:
    form: type[django_forms.Form]
    run: Callable
    style: str = "secondary"  # button style: primary, secondary, danger


ACTION_SPECS: dict[CaseAction, ActionSpec] = {
    CaseAction.ACCEPT: ActionSpec(forms.EmptyForm, lambda c, u, d: actions.do_accept_case(c, actor=u), "primary"),
    CaseAction.DECLINE: ActionSpec(
        forms.DeclineForm,
        lambda c, u, d: actions.do_decline_case(c, actor=u, reason=d["reason"], route_told=d["route_told"]),
        "danger",
    ),
    CaseAction.ASSIGN: ActionSpec(
        forms.AssignForm,
        lambda c, u, d: actions.do_assign_case(
            c, actor=u, lead_unit_code=d["lead_unit"], co_unit_codes=tuple(d["co_units"]), note=d["note"],
            handling_level=d["handling_level"], override_reason=d["override_reason"],
        ),
        "primary",
    ),
    CaseAction.SIGN: ActionSpec(forms.EmptyForm, lambda c, u, d: actions.do_sign_case(c, actor=u), "primary"),
    CaseAction.RETURN: ActionSpec(
        forms.ReasonForm, lambda c, u, d: actions.do_return_case(c, actor=u, reason=d["reason"]), "danger"
    ),
    CaseAction.START_HANDLING: ActionSpec(
        forms.StartHandlingForm, lambda c, u, d: actions.do_start_handling(c, actor=u, mode=d["mode"]), "primary"
    ),
    CaseAction.DIVERT: ActionSpec(
        forms.DivertForm, lambda c, u, d: actions.do_divert_case(c, actor=u, route=d["route"], reason=d["reason"])
    ),
    CaseAction.CONCLUDE: ActionSpec(
        forms.ConcludeForm,
        lambda c, u, d: actions.do_conclude_case(c, actor=u, outcome=d["outcome"], summary=d["summary"]),
        "primary",
    ),
    CaseAction.REQUEST_JUDICIAL_CONFIRMATION: ActionSpec(
        forms.EmptyForm, lambda c, u, d: actions.do_request_judicial_confirmation(c, actor=u)
    ),
    CaseAction.MONITOR_PERFORMANCE: ActionSpec(
        forms.EmptyForm, lambda c, u, d: actions.do_monitor_performance(c, actor=u)
    ),
    CaseAction.RECORD_RETURN_VISIT: ActionSpec(
        forms.ReturnVisitForm, lambda c, u, d: actions.do_record_return_visit(c, actor=u, summary=d["summary"])
    ),
    CaseAction.EVALUATE: ActionSpec(
        forms.EvaluateForm,
        lambda c, u, d: actions.do_evaluate_case(
            c, actor=u, evaluation=d["evaluation"], note=d["note"], method=d["method"]
        ),
    ),
    CaseAction.CLOSE: ActionSpec(
        forms.NoteForm, lambda c, u, d: actions.do_close_case(c, actor=u, note=d["note"]), "primary"
    ),
    CaseAction.REOPEN: ActionSpec(
        forms.ReasonForm, lambda c, u, d: actions.do_reopen_case(c, actor=u, reason=d["reason"]), "danger"
    ),
    CaseAction.ARCHIVE: ActionSpec(forms.EmptyForm, lambda c, u, d: actions.do_archive_case(c, actor=u)),
    CaseAction.ESCALATE: ActionSpec(
        forms.ReasonForm, lambda c, u, d: actions.do_escalate_case(c, actor=u, reason=d["reason"]), "danger"
    ),
    CaseAction.REQUEST_TRANSFER: ActionSpec(
        forms.TransferForm,
        lambda c, u, d: actions.do_request_transfer(c, actor=u, to_unit_code=d["to_unit"], reason=d["reason"]),
    ),
    CaseAction.ACCEPT_TRANSFER: ActionSpec(
        forms.EmptyForm, lambda c, u, d: actions.do_accept_transfer(c, actor=u), "primary"
    ),
    CaseAction.REFUSE_TRANSFER: ActionSpec(
        forms.ReasonForm, lambda c, u, d: actions.do_refuse_transfer(c, actor=u, reason=d["reason"]), "danger"
    ),
    CaseAction.RECORD_CONSULTATION: ActionSpec(
        forms.ConsultationForm,
        lambda c, u, d: actions.do_record_consultation(
            c, actor=u, unit_codes=tuple(d["units"]), minutes=d["minutes"], decisions=d["decisions"]
        ),
    ),
    CaseAction.RECORD_LEADER_INSTRUCTION: ActionSpec(
        forms.InstructionForm,
        lambda c, u, d: actions.do_record_leader_instruction(c, actor=u, instruction=d["instruction"]),
    ),
    CaseAction.MARK_URGENT: ActionSpec(
        forms.UrgentForm, lambda c, u, d: actions.do_mark_urgent(c, actor=u, reason=d["reason"]), "danger"
    ),
    CaseAction.URGE: ActionSpec(
        forms.UrgeForm, lambda c, u, d: actions.do_urge_case(c, actor=u, level=d["level"], reason=d["reason"]),
        "danger",
    ),
    CaseAction.REQUEST_EXTENSION: ActionSpec(
        forms.ExtensionForm,
        lambda c, u, d: actions.do_request_extension(
            c, actor=u, stage=d["stage"], days=d["days"], reason=d["reason"]
        ),
    ),
    CaseAction.DECIDE_EXTENSION: ActionSpec(
        forms.DecideExtensionForm,
        lambda c, u, d: actions.do_decide_extension(c, actor=u, approve=d["approve"], reason=d["reason"]),
        "primary",
    ),
    CaseAction.PAUSE_DEADLINE: ActionSpec(
        forms.PauseForm, lambda c, u, d: actions.do_pause_deadline(c, actor=u, stage=d["stage"], reason=d["reason"])
    ),
    CaseAction.RESUME_DEADLINE: ActionSpec(
        forms.ResumeForm, lambda c, u, d: actions.do_resume_deadline(c, actor=u, stage=d["stage"])
    ),
}


def _preconditions_met(user, case, action: CaseAction) -> bool:
    """Side actions that only make sense in some situations (a pending transfer to this unit, a running clock …)."""
    if action in (CaseAction.ACCEPT_TRANSFER, CaseAction.REFUSE_TRANSFER):
        return case.transfers.filter(status="pending", to_unit_id=user.unit_id).exists()
    if action == CaseAction.REQUEST_TRANSFER:
        return not case.transfers.filter(status="pending").exists()
    if action == CaseAction.DECIDE_EXTENSION:
        return case.extension_requests.filter(status="pending").exists()
    if action in (CaseAction.REQUEST_EXTENSION, CaseAction.PAUSE_DEADLINE):
        return bool(forms.running_stage_choices(case, paused=False))
    if action == CaseAction.RESUME_DEADLINE:
        return bool(forms.running_stage_choices(case, paused=True))
    if action == CaseAction.MARK_URGENT:
        return not case.is_urgent
    if action == CaseAction.REQUEST_JUDICIAL_CONFIRMATION:
        # A mediation that started the 30-day window records the application, with its court, on its own page.
        return not case.deadlines.filter(stage=Stage.JUDICIAL_CONFIRMATION).exists()
    return True


def _region_prefix(user) -> str:
    return user.unit.region_id if user.unit_id else "-"


def _make_action_form(action: CaseAction, case, data=None) -> django_forms.Form:
    return ACTION_SPECS[action].form(data, prefix=action.value, case=case)


def _available_actions(user, case) -> list[CaseAction]:
    return [
        action
        for action in allowed_actions(case.status_enum)
        if action in ACTION_SPECS and access.denial_reason(user, case, action) is None
        and _preconditions_met(user, case, action)
    ]


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user = request.user
    sections = [
        {
            "queue": queue,
            "count": queries.count_queue(user, queue.code),
            "cases": queries.list_queue_preview(user, queue.code),
        }
        for queue in queries.queues_for(user)
    ]
    calendar_warning = None
    if user.role_set & {"dispatcher", "leader", "system_admin"}:
        calendar_warning = worktime.coverage_warning(timezone.localdate())
    return render(request, "cases/workbench.html", {
        "sections": sections,
        "calendar_warning": calendar_warning,
        "can_register": bool(user.role_set & STAFF_REGISTER_ROLES),
        "can_read": access.can_read_cases(user),
    })


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.can_read_cases(user):
        raise Http404("页面不存在")
    form = forms.CaseFilterForm(request.GET or None, region_prefix=_region_prefix(user))
    filters = queries.CaseFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        queue = data["queue"] if data["queue"] in queries.QUEUE_BY_CODE else ""
        filters = queries.CaseFilters(
            queue=queue, statuses=tuple(data["status"]), primary_type=data["primary_type"], grade=data["grade"],
            region_prefix=data["region"], channel=data["channel"], request_type=data["request_type"],
            registered_from=data["registered_from"], registered_to=data["registered_to"], text=data["text"],
            deadline=data["deadline"], lead_unit=data["lead_unit"], only_open=data["open"],
        )
    paginator = CappedPaginator(queries.list_cases(user, filters), 20)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = queries.page_rows(page.object_list)
    if filters.queue == "to_assign":
        queries.attach_route_suggestions(page.object_list)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(request, "cases/list.html", {
        "form": form,
        "page_obj": page,
        "querystring": querystring.urlencode(),
        "queue": queries.QUEUE_BY_CODE.get(filters.queue),
        "show_route": filters.queue == "to_assign",
        "status_choices": form.fields["status"].choices,
        "more_filters_open": any(request.GET.get(name) for name in (
            "primary_type", "channel", "request_type", "registered_from", "registered_to")),
        "selected_statuses": filters.statuses,
    })


def _apply_error(form: django_forms.Form, parties, error: InvalidInput) -> None:
    """Put an action's field error on the form field it came from (or on the form)."""
    if error.field.startswith("parties-") and parties is not None:
        _, index, field_name = error.field.split("-", 2)
        target = parties.forms[int(index)]
        target.add_error(field_name if field_name in target.fields else None, str(error))
    elif error.field in form.fields:
        form.add_error(error.field, str(error))
    else:
        form.add_error(None, str(error))


@login_required
@require_http_methods(["GET", "POST"])
def register_case(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.role_set & STAFF_REGISTER_ROLES or not user.unit_id:
        raise access.CaseNotFound("无权登记事项")
    prefix = _region_prefix(user)
    if request.method == "POST":
        form = forms.CaseRegistrationForm(request.POST, region_prefix=prefix)
        parties = forms.PartyFormSet(request.POST, prefix="parties")
        if form.is_valid() and parties.is_valid():
            try:
                case = actions.do_register_case(forms.build_draft(form, parties), actor=user)
            except InvalidInput as error:
                _apply_error(form, parties, error)
            else:
                messages.success(request, f"已登记，事项编码 {case.code}")
                return redirect("case_detail", code=case.code)
        status = 400
    else:
        form = forms.CaseRegistrationForm(region_prefix=prefix, initial={"channel": "walk_in", "in_person": True})
        parties = forms.PartyFormSet(prefix="parties", initial=[{"role": "applicant"}])
        status = 200
    return render(request, "cases/register.html", {"form": form, "parties": parties}, status=status)


def _detail_context(request, case, *, failed_action=None, failed_form=None) -> dict:
    user = request.user
    detail = queries.get_case_detail(case)
    action_panels = []
    for action in _available_actions(user, case):
        form = failed_form if action == failed_action else _make_action_form(action, case)
        action_panels.append({
            "action": action, "label": ACTION_LABELS[action], "form": form,
            "style": ACTION_SPECS[action].style, "open": action == failed_action,
            "needs_input": bool(form.fields), "reason_required": action in REASON_REQUIRED,
        })
    parties = [
        {
            "id": party.pk,
            "role": party.get_role_display(),
            "kind": party.person.get_kind_display(),
            "name": party.person.name,
            "id_number": mask(party.person.id_number, "id_number"),
            "phone": mask(party.person.phone, "phone"),
            "address": mask(party.person.address, "address"),
        }
        for party in detail.parties
    ]
    return {
        "case": case, "detail": detail, "parties": parties, "action_panels": action_panels,
        "route": queries.latest_route_suggestion(case),
        "visit_summary": queries.visit_summary(case),
        "page_links": [link for make in PAGE_LINKS if (link := make(case, user))],
        "can_add": access.can_read_cases(user) and bool(user.role_set & ADDITION_ROLES),
        "contact_form": forms.ContactForm(prefix="contact"),
        "visit_form": forms.VisitForm(prefix="visit"),
        "attachment_form": forms.AttachmentForm(prefix="attachment"),
    }


# Pages of other apps about one matter (the court exchange, the linkage …), linked from its header: apps above
# `cases` append a callable (case, user) -> (label, url) | None in their AppConfig.ready().
PAGE_LINKS: list = []


@login_required
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, code)
    return render(request, "cases/detail.html", _detail_context(request, case))


@login_required
@require_POST
def case_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    user = request.user
    case = access.get_case_for_user(user, code)
    try:
        action_enum = CaseAction(action)
        spec = ACTION_SPECS[action_enum]
    except (ValueError, KeyError):
        raise Http404("未知的操作") from None
    form = _make_action_form(action_enum, case, request.POST)
    status = 400
    if form.is_valid():
        try:
            spec.run(case.code, user, form.cleaned_data)
        except InvalidInput as error:
            _apply_error(form, None, error)
        except ACTION_REFUSALS as error:
            status = show_refusal(form, error)
        else:
            messages.success(request, f"已{ACTION_LABELS[action_enum]}")
            return redirect("case_detail", code=case.code)
    case = access.get_case_for_user(user, code)
    context = _detail_context(request, case, failed_action=action_enum, failed_form=form)
    if not any(panel["action"] == action_enum for panel in context["action_panels"]):
        messages.error(request, "; ".join(form.non_field_errors()) or "无法执行该操作")
    return render(request, "cases/detail.html", context, status=status)


def _addition(request: HttpRequest, code: str, form_class, prefix: str, run: Callable, done: str) -> HttpResponse:
    user = request.user
    case = access.get_case_for_user(user, code)
    form = form_class(request.POST, request.FILES, prefix=prefix)
    if form.is_valid():
        try:
            run(case.code, user, form.cleaned_data)
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        except access.ActionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, done)
            return redirect("case_detail", code=case.code)
    context = _detail_context(request, case)
    context[f"{prefix}_form"] = form
    return render(request, "cases/detail.html", context, status=400)


@login_required
@require_POST
def add_contact(request: HttpRequest, code: str) -> HttpResponse:
    return _addition(
        request, code, forms.ContactForm, "contact",
        lambda c, u, d: actions.do_add_contact(
            c, actor=u, channel_code=d["channel"], summary=d["summary"], external_ref=d["external_ref"]
        ),
        "已补充反映记录",
    )


@login_required
@require_POST
def record_visit(request: HttpRequest, code: str) -> HttpResponse:
    return _addition(
        request, code, forms.VisitForm, "visit",
        lambda c, u, d: actions.do_record_visit(c, actor=u, place=d["place"], purpose=d["purpose"]),
        "已登记来访",
    )


@login_required
@require_POST
def add_attachment(request: HttpRequest, code: str) -> HttpResponse:
    return _addition(
        request, code, forms.AttachmentForm, "attachment",
        lambda c, u, d: actions.do_add_attachment(c, actor=u, upload=d["file"], description=d["description"],
                                                  kind=d["kind"] or "evidence"),
        "已上传附件",
    )


@login_required
def download_attachment(request: HttpRequest, code: str, attachment_id: int) -> FileResponse:
    case = access.get_case_for_user(request.user, code)
    attachment = Attachment.objects.filter(case=case, pk=attachment_id).first()
    if attachment is None:
        raise Http404("附件不存在")
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def triage_panel(request: HttpRequest) -> HttpResponse:
    """The registration form's live suggestion (htmx): types, grade with signals, facts, likely duplicates."""
    user = request.user
    if not user.role_set & STAFF_REGISTER_ROLES or not user.unit_id:
        raise access.CaseNotFound("无权登记事项")
    text = request.POST.get("description", "")[:20000]
    if not text.strip():
        return render(request, "cases/_triage_panel.html", {"empty": True})
    prefix = "parties-"
    phones = tuple(v for k, v in request.POST.items() if k.startswith(prefix) and k.endswith("-phone") and v)
    ids = tuple(v for k, v in request.POST.items() if k.startswith(prefix) and k.endswith("-id_number") and v)
    region = request.POST.get("region", "")
    result = triage.triage_text(
        user, text=text, region_code=region if region.isdigit() else "",
        parties=triage.PartyKeys(id_numbers=ids[:10], phones=phones[:10]),
        dispute_type=request.POST.get("primary_type", ""),
    )
    analysis = result.analysis
    labels = [
        {"taxonomy": TAXONOMY_BY_CODE[taxonomy].name if taxonomy in TAXONOMY_BY_CODE else taxonomy,
         "prediction": prediction, "field": TRIAGE_FIELDS.get(taxonomy)}
        for taxonomy, prediction in analysis.labels.items()
        if getattr(prediction, "label", None)
    ]
    return render(request, "cases/_triage_panel.html", {
        "analysis": analysis, "labels": labels, "duplicates": result.duplicates,
        "people": analysis.facts.people_involved, "amount": analysis.facts.amount_involved,
        "places": [place.name for place in analysis.facts.places],
    })


# Form fields the triage panel's "采用" buttons fill, by taxonomy.
TRIAGE_FIELDS = {"mediation_type": "#id_primary_type", "request_type": "#id_request_type"}
