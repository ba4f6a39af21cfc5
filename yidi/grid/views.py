"""The grid workers' mobile pages: parse → authorise → one action or query → render.

Who may open them: `grid.queries.can_use_grid` (grid workers; the clerk of a village committee). A window
clerk of another unit is sent to the workbench (the window's registration form is theirs); anybody else gets
404. Matters are fetched through `accounts.access`, so an unknown code and a matter out of scope look the same.
"""

from collections.abc import Callable
from functools import wraps

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from yidi.accounts import access
from yidi.accounts.domain import Role
from yidi.cases.actions import do_record_visit
from yidi.cases.domain import InvalidInput
from yidi.cases.forms import ACTION_REFUSALS, show_refusal
from yidi.cases.queries import visit_summary
from yidi.grid import actions, forms, queries
from yidi.grid.domain import OnSpotResult, normalise_case_code

NOT_FOUND = "未找到该事项，请核对编码（编码印在登记回执上，如 330681-2026-000123）"


def grid_page(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if queries.can_use_grid(user):
            return view(request, *args, **kwargs)
        if Role.REGISTRAR in user.role_set and access.can_read_cases(user):
            messages.info(request, "网格员移动端供网格员和村（社区）调委会使用；窗口登记请在工作台办理")
            return redirect("workbench")
        raise access.CaseNotFound("页面不存在")

    return wrapped


@grid_page
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "grid/home.html", {
        "reported": queries.list_reported_open(user),
        "assigned": queries.list_assigned_to_unit(user),
        "return_visits": queries.list_due_return_visits(user),
    })


# Where an action's field error shows on the report form.
REPORT_ERROR_FIELDS = {
    "parties": "applicant_name", "parties-0-name": "applicant_name", "parties-0-phone": "applicant_phone",
    "parties-1-name": "respondent_name", "summary": "agreement", "file": "photos",
}


def _show_error(form: django_forms.Form, error: InvalidInput, mapping: dict[str, str] | None = None) -> None:
    field = (mapping or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, str(error))


@grid_page
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    user = request.user
    area = queries.area_choices(user)
    if request.method != "POST":
        form = forms.ReportForm(area=area)
        return render(request, "grid/report.html", {"form": form})
    form = forms.ReportForm(request.POST, request.FILES, area=area)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        grid_report = actions.GridReport(
            draft=form.draft(), photos=tuple(data["photos"]), result=OnSpotResult(data["result"]),
            outcome=data["outcome"], summary=form.summary(),
        )
        try:
            case = actions.do_report_grid_matter(grid_report, actor=user)
        except InvalidInput as error:
            _show_error(form, error, REPORT_ERROR_FIELDS)
        except ACTION_REFUSALS as error:
            status = show_refusal(form, error)
        else:
            done = {OnSpotResult.RESOLVED: "已上报并登记当场化解", OnSpotResult.ATTEMPTED: "已上报，现场调解情况已记录"}
            messages.success(request, f"{done.get(grid_report.result, '已上报')}，事项编码 {case.code}")
            return redirect("grid_case", code=case.code)
    return render(request, "grid/report.html", {"form": form, "photos_lost": bool(request.FILES)}, status=status)


@grid_page
def find(request: HttpRequest) -> HttpResponse:
    """Type or scan a code. An unknown code and a matter out of the user's scope get the same answer."""
    form = forms.FindForm(request.GET or None)
    if form.is_bound and form.is_valid():
        code = normalise_case_code(form.cleaned_data["code"])
        if not code:
            form.add_error("code", "编码格式不正确，应为“6位区划-年份-6位序号”，如 330681-2026-000123")
        else:
            try:
                case = access.get_case_for_user(request.user, code)
            except access.CaseNotFound:
                form.add_error("code", NOT_FOUND)
            else:
                return redirect("grid_case", code=case.code)
    return render(request, "grid/find.html", {"form": form})


def _card_context(request: HttpRequest, case, **bound) -> dict:
    user = request.user
    can_record_on_spot = case.status == "registered" and case.registering_unit_id == user.unit_id
    context = {
        "case": case,
        "parties": queries.list_masked_parties(case),
        "events": queries.list_recent_events(case),
        "visits": visit_summary(case),
        "can_record_on_spot": can_record_on_spot,
        "follow_up_form": forms.FollowUpForm(prefix="follow_up"),
        "on_spot_form": forms.OnSpotForm(prefix="on_spot"),
        "visit_form": forms.VisitForm(prefix="visit"),
    }
    context.update(bound)
    return context


@grid_page
def case_card(request: HttpRequest, code: str) -> HttpResponse:
    case = access.get_case_for_user(request.user, code)
    return render(request, "grid/case.html", _card_context(request, case))


def _card_post(request: HttpRequest, code: str, form_class, prefix: str, run: Callable, done: str,
               mapping: dict[str, str] | None = None) -> HttpResponse:
    user = request.user
    case = access.get_case_for_user(user, code)
    form = form_class(request.POST, request.FILES, prefix=prefix)
    status = 400
    if form.is_valid():
        try:
            run(case.code, user, form.cleaned_data)
        except InvalidInput as error:
            _show_error(form, error, mapping)
        except ACTION_REFUSALS as error:
            status = show_refusal(form, error)
        else:
            messages.success(request, done)
            return redirect("grid_case", code=case.code)
    case = access.get_case_for_user(user, code)
    return render(request, "grid/case.html", _card_context(request, case, **{f"{prefix}_form": form}),
                  status=status)


@grid_page
@require_POST
def follow_up(request: HttpRequest, code: str) -> HttpResponse:
    return _card_post(
        request, code, forms.FollowUpForm, "follow_up",
        lambda c, u, d: actions.do_record_grid_follow_up(c, actor=u, note=d["note"], uploads=tuple(d["photos"])),
        "已记录跟进情况", {"file": "photos"},
    )


def _run_on_spot(code: str, user, data: dict):
    if data["result"] == OnSpotResult.RESOLVED:
        return actions.do_resolve_grid_matter(code, actor=user, outcome=data["outcome"], summary=data["summary"])
    return actions.do_record_on_spot_attempt(code, actor=user, summary=data["summary"])


@grid_page
@require_POST
def on_spot(request: HttpRequest, code: str) -> HttpResponse:
    return _card_post(request, code, forms.OnSpotForm, "on_spot", _run_on_spot, "已登记现场调解结果",
                      {"attempt_summary": "summary", "agreement": "summary"})


@grid_page
@require_POST
def record_visit(request: HttpRequest, code: str) -> HttpResponse:
    return _card_post(
        request, code, forms.VisitForm, "visit",
        lambda c, u, d: do_record_visit(c, actor=u, place=d["place"], purpose=d["purpose"]),
        "已登记群众来访",
    )
