"""Privacy pages: reveal a value with a reason, request, approve and download exports of personal data.

parse → authorise (matters through `accounts.access`, export requests through `queries.get_export_for_user`)
→ one action or query → render. Every response that carries a full value is `Cache-Control: no-store`.
"""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yidi.accounts import access
from yidi.accounts.middleware import recent_auth_required
from yidi.cases.forms import CaseFilterForm
from yidi.cases.queries import QUEUE_BY_CODE, CaseFilters
from yidi.privacy import actions, domain, queries
from yidi.privacy.actions import Refused
from yidi.privacy.forms import ExportRequestForm

PAGE_SIZE = 20


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- reveal ------------------------------------------------------------------------------------------------


@login_required
@require_POST
@recent_auth_required
def reveal(request: HttpRequest, code: str, party_id: int, field: str) -> HttpResponse:
    """htmx: a fragment that replaces the masked value (errors come back as a fragment too, status 200, because
    htmx does not swap 4xx answers); without JavaScript: a page with the value, or with the error and the form."""
    try:
        revealed = actions.do_reveal_personal_data(
            actor=request.user, case_code=code, party_id=party_id, field=field, reason=request.POST.get("reason", "")
        )
    except Refused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        target = refusal.context["target"]
        context = {"target": target, "error": refusal.message, "value": target.masked,
                   "rate_limited": refusal.status == 429,
                   "reveal_url": reverse("privacy_reveal", args=[target.case.code, target.party.pk, target.field.value])}
        if _is_htmx(request):
            response = render(request, "privacy/_party_value.html", {
                **context, "panel_id": f"reveal-{target.party.pk}-{target.field.value}", "what": target.field.label,
                "reveal_url": "" if context["rate_limited"] else context["reveal_url"],
            })
        else:
            response = render(request, "privacy/reveal.html", context, status=refusal.status)
        if refusal.status == 429:
            wait = (refusal.context["retry_at"] - timezone.now()).total_seconds()
            response["Retry-After"] = str(max(1, int(wait) + 1))
        return _no_store(response)
    target = revealed.target
    if _is_htmx(request):
        response = render(request, "privacy/_party_value.html", {
            "revealed": True, "value": revealed.value, "what": target.field.label,
        })
        response["HX-Push-Url"] = "false"
    else:
        response = render(request, "privacy/reveal.html", {
            "target": target, "value": revealed.value, "revealed": True,
        })
    return _no_store(response)


# --- list filter (the same as the matter list) ----------------------------------------------------------------


def _filter_form(request: HttpRequest) -> CaseFilterForm:
    user = request.user
    return CaseFilterForm(request.GET or None, region_prefix=user.unit.region_id if user.unit_id else "-")


def _filters(form: CaseFilterForm) -> CaseFilters | None:
    """The filters, or None when the form is invalid (never silently widen an export to "everything")."""
    if not form.is_bound:
        return CaseFilters()
    if not form.is_valid():
        return None
    data = form.cleaned_data
    return CaseFilters(
        queue=data["queue"] if data["queue"] in QUEUE_BY_CODE else "", statuses=tuple(data["status"]),
        primary_type=data["primary_type"], grade=data["grade"], region_prefix=data["region"],
        channel=data["channel"], request_type=data["request_type"], registered_from=data["registered_from"],
        registered_to=data["registered_to"], text=data["text"], deadline=data["deadline"],
        lead_unit=data["lead_unit"], only_open=data["open"],
    )


def _choice_label(form: CaseFilterForm, name: str, value: str) -> str:
    flat = {}
    for key, label in form.fields[name].choices:
        if isinstance(label, list | tuple):
            flat.update(dict(label))
        else:
            flat[key] = label
    return str(flat.get(value, value))


def describe_filters(form: CaseFilterForm, filters: CaseFilters) -> str:
    """The filter in words, for the request, the approver and the audit row."""
    parts = []
    if filters.queue:
        parts.append(f"工作队列：{QUEUE_BY_CODE[filters.queue].title}")
    if filters.statuses:
        parts.append("状态：" + "、".join(_choice_label(form, "status", s) for s in filters.statuses))
    for name in ("primary_type", "grade", "region", "channel", "request_type", "deadline"):
        value = form.cleaned_data.get(name) if form.is_bound else ""
        if value:
            parts.append(f"{form.fields[name].label}：{_choice_label(form, name, value)}")
    if filters.registered_from or filters.registered_to:
        parts.append(f"登记日期：{filters.registered_from or '不限'} 至 {filters.registered_to or '不限'}")
    if filters.text:
        parts.append(f"关键词：{filters.text}")
    if filters.lead_unit:
        parts.append(f"主办单位：{filters.lead_unit}")
    if filters.only_open:
        parts.append("仅在办事项")
    return "；".join(parts) or "本人可查看的全部事项"


def _require_case_reader(user) -> None:
    if not access.can_read_cases(user):
        raise Http404("页面不存在")


# --- exports -------------------------------------------------------------------------------------------------


def _tabs(user) -> dict:
    is_approver = queries.is_approver(user)
    return {"is_approver": is_approver, "pending_count": queries.list_pending_approvals(user).count() if is_approver else 0}


def _with_state(exports) -> list:
    now = timezone.now()
    exports = list(exports)
    for export in exports:
        export.state = actions.export_state_of(export, now=now)
    return exports


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    """My export requests."""
    _require_case_reader(request.user)
    page = Paginator(queries.list_my_exports(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_state(page.object_list)
    return render(request, "privacy/export_list.html", {
        "page_obj": page, "querystring": "", **_tabs(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
@recent_auth_required
def export_new(request: HttpRequest) -> HttpResponse:
    """Choose matters with the list filter; download them masked at once, or ask to export full data."""
    user = request.user
    _require_case_reader(user)
    filter_form = _filter_form(request)
    filters = _filters(filter_form)
    form = ExportRequestForm(request.POST or None)
    status = 200 if filters is not None else 400
    if request.method == "POST" and filters is not None:
        try:
            export = actions.do_request_export(
                actor=user, filters=filters, filter_summary=describe_filters(filter_form, filters),
                reason=request.POST.get("reason", ""),
            )
        except Refused as refusal:
            if refusal.status == 404:
                raise Http404(refusal.message) from None
            form.is_valid()
            form.add_error("reason" if refusal.denial is domain.Denial.REASON else None, refusal.message)
            status = refusal.status
        else:
            messages.success(request, f"已提交导出申请（编号 {export.pk}），请等待本辖区调度员、领导或督查员审批")
            return redirect("privacy_export_detail", export_id=export.pk)
    in_scope = exportable = 0
    if filters is not None:
        in_scope, exportable = queries.count_exportable(user, filters)
    return render(request, "privacy/export_new.html", {
        "filter_form": filter_form, "form": form, "filters_valid": filters is not None,
        "summary": describe_filters(filter_form, filters) if filters is not None else "",
        "in_scope": in_scope, "exportable": exportable, "querystring": request.GET.urlencode(),
        "can_request": domain.reveal_grant(user.role_set) is not None,
        "max_cases": actions.export_max_cases(), "valid_hours": actions.export_valid_hours(),
        "max_downloads": actions.export_max_downloads(),
        "status_choices": filter_form.fields["status"].choices,
        "selected_statuses": filters.statuses if filters is not None else (), **_tabs(user),
    }, status=status)


_CELL_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell; a leading = + - @ is escaped so spreadsheet programs do not run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CELL_PREFIXES) else text


def _csv_response(export_file: actions.ExportFile) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM makes spreadsheet programs read UTF-8
    writer = csv.writer(buffer)
    writer.writerow([_cell(export_file.watermark)])
    writer.writerow(export_file.columns)
    writer.writerows([_cell(value) for value in row] for row in export_file.rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_file.filename}"'
    return _no_store(response)


@login_required
@require_GET
def export_masked(request: HttpRequest) -> HttpResponse:
    filter_form = _filter_form(request)
    filters = _filters(filter_form)
    if filters is None:
        return redirect(f"{reverse('privacy_export_new')}?{request.GET.urlencode()}")
    try:
        export_file = actions.do_export_masked(
            actor=request.user, filters=filters, filter_summary=describe_filters(filter_form, filters)
        )
    except Refused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        messages.error(request, refusal.message)
        return redirect(f"{reverse('privacy_export_new')}?{request.GET.urlencode()}")
    return _csv_response(export_file)


@login_required
@require_GET
def export_approvals(request: HttpRequest) -> HttpResponse:
    """Requests of others in my region waiting for a second person."""
    if not queries.is_approver(request.user):
        raise Http404("页面不存在")
    page = Paginator(queries.list_pending_approvals(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "privacy/export_approvals.html", {"page_obj": page, "querystring": ""})


def _detail(request: HttpRequest, export, *, error: str = "", failed: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    state = actions.export_state_of(export)
    can_decide = (
        domain.approval_denial(approver_id=user.pk, requester_id=export.requested_by_id, approver_roles=user.role_set,
                               status=export.status) is None
    )
    return render(request, "privacy/export_detail.html", {
        "export": export, "state": state, "is_requester": export.requested_by_id == user.pk,
        "can_decide": can_decide, "error": error, "failed": failed,
        "downloads_left": max(export.max_downloads - export.download_count, 0),
        "valid_hours": actions.export_valid_hours(), "max_downloads": actions.export_max_downloads(),
    }, status=status)


@login_required
@require_GET
def export_detail(request: HttpRequest, export_id: int) -> HttpResponse:
    return _detail(request, queries.get_export_for_user(request.user, export_id))


def _decision(request: HttpRequest, export_id: int, *, approve: bool) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        if approve:
            actions.do_approve_export(export_id, actor=request.user, reason=reason)
        else:
            actions.do_refuse_export(export_id, actor=request.user, reason=reason)
    except Refused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        export = queries.get_export_for_user(request.user, export_id)
        return _detail(request, export, error=refusal.message, failed="approve" if approve else "refuse",
                       status=refusal.status)
    messages.success(request, "已批准导出申请" if approve else "已不予批准导出申请")
    return redirect("privacy_export_detail", export_id=export_id)


@login_required
@require_POST
def export_approve(request: HttpRequest, export_id: int) -> HttpResponse:
    return _decision(request, export_id, approve=True)


@login_required
@require_POST
def export_refuse(request: HttpRequest, export_id: int) -> HttpResponse:
    return _decision(request, export_id, approve=False)


@login_required
@require_POST
@recent_auth_required
def export_download(request: HttpRequest, export_id: int) -> HttpResponse:
    """POST, not GET: every download counts against the limit and is audited."""
    try:
        export_file = actions.do_download_export(export_id, actor=request.user)
    except Refused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        export = queries.get_export_for_user(request.user, export_id)
        return _detail(request, export, error=refusal.message, status=refusal.status)
    return _csv_response(export_file)
