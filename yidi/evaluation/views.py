"""Pages of evaluations and return visits: parse → authorise → one action or query → render.

A user outside a page's roles, or a visit outside their scope, gets 404 (nothing is revealed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from yidi.accounts import access
from yidi.cases.domain import InvalidInput, RuleViolation
from yidi.cases.forms import ACTION_REFUSALS, show_refusal
from yidi.core.pagination import LIST_COUNT_CAP, CappedPaginator
from yidi.evaluation import actions, forms, queries
from yidi.evaluation.domain import VisitStatus


def _require(allowed: bool) -> None:
    if not allowed:
        raise Http404("页面不存在")


@login_required
def return_visit_list(request: HttpRequest) -> HttpResponse:
    """The return-visit worklist (mobile-usable): today, overdue, the next 7 days, done, with exact counts."""
    user = request.user
    _require(queries.can_open_worklist(user))
    tab = request.GET.get("tab", "")
    counts = queries.count_worklist(user, cap=LIST_COUNT_CAP)
    if tab not in queries.TAB_CODES:
        tab = "overdue" if counts["overdue"] and not counts["today"] else "today"
    page = CappedPaginator(queries.list_worklist(user, tab), 30, cap=LIST_COUNT_CAP).get_page(request.GET.get("page"))
    return render(request, "evaluation/return_visits.html", {
        "tabs": [{"code": t.code, "label": t.label, "count": min(counts[t.code], LIST_COUNT_CAP),
                  "more": counts[t.code] > LIST_COUNT_CAP} for t in queries.TABS],
        "tab": tab, "page_obj": page, "querystring": f"tab={tab}", "today": queries.today(),
        "can_record": queries.can_record_visits(user),
    })


def _apply_error(form, error: InvalidInput) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


@login_required
@require_http_methods(["GET", "POST"])
def return_visit_record(request: HttpRequest, visit_id: int) -> HttpResponse:
    """One visit: its matter and record; the record form while it is scheduled (for those who record visits)."""
    user = request.user
    _require(queries.can_open_worklist(user))
    visit = queries.get_visit_for_user(user, visit_id)
    if request.method == "POST":
        _require(queries.can_record_visits(user))
    can_record = queries.can_record_visits(user) and visit.status == VisitStatus.SCHEDULED
    form = forms.ReturnVisitForm(request.POST or None) if can_record else None
    status = 200
    if request.method == "POST" and form is None:
        messages.error(request, f"该回访{visit.get_status_display()}，不能再登记")
        status = 409
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                actions.do_record_return_visit(visit.pk, actor=user, **form.cleaned_data)
            except InvalidInput as error:
                _apply_error(form, error)
            except ACTION_REFUSALS as error:
                status = show_refusal(form, error)
            else:
                messages.success(request, f"已登记回访（{visit.case.code}）")
                return redirect("return_visit_list")
    return render(request, "evaluation/return_visit.html", {
        "visit": visit, "case": visit.case, "form": form,
        "others": queries.list_case_visits(visit.case).exclude(pk=visit.pk),
    }, status=status)


@login_required
def return_visit_risks(request: HttpRequest) -> HttpResponse:
    """Matters whose return visit found remaining risk, until a dispatcher records the disposal."""
    user = request.user
    _require(queries.can_supervise(user))
    page = Paginator(queries.list_open_risks(user), 30).get_page(request.GET.get("page"))
    can_dispose = queries.can_dispose_risk(user)
    return render(request, "evaluation/risks.html", {
        "page_obj": page, "querystring": "", "can_dispose": can_dispose,
        "form_prefix": "risk", "failed_id": None, "failed_form": None,
    })


@login_required
@require_POST
def return_visit_acknowledge_risk(request: HttpRequest, visit_id: int) -> HttpResponse:
    user = request.user
    _require(queries.can_supervise(user))
    visit = queries.get_visit_for_user(user, visit_id)
    _require(queries.can_dispose_risk(user))
    form = forms.RiskDisposalForm(request.POST)
    if form.is_valid():
        try:
            actions.do_acknowledge_risk(visit.pk, actor=user, measures=form.cleaned_data["measures"])
        except (RuleViolation, access.ActionDenied) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"已登记风险处置（{visit.case.code}）")
    else:
        messages.error(request, "请填写处置措施")
    return redirect("return_visit_risks")


@login_required
def dissatisfied_list(request: HttpRequest) -> HttpResponse:
    """不满意 evaluations: reopened by rule, or waiting for the supervisor's review (待督查研判)."""
    user = request.user
    _require(queries.can_supervise(user))
    state = request.GET.get("state", "awaiting")
    if state not in queries.DISSATISFIED_FILTERS:
        state = "awaiting"
    counts = queries.count_dissatisfied(user)
    page = Paginator(queries.list_dissatisfied(user, state), 30).get_page(request.GET.get("page"))
    return render(request, "evaluation/dissatisfied.html", {
        "page_obj": page, "state": state, "querystring": f"state={state}",
        "filters": [{"code": code, "label": label, "count": counts[code]}
                    for code, (label, _) in queries.DISSATISFIED_FILTERS.items()],
    })
