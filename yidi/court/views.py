"""The court exchange pages (诉调对接): the log of messages in and out for dispatchers and leaders, one matter's log
for those who may read it, and recording a court's answer that awaits staff."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from yidi.accounts import access
from yidi.accounts.domain import Role
from yidi.cases.domain import InvalidInput, RuleViolation
from yidi.court import actions, queries

LOG_ROLES = frozenset({Role.DISPATCHER, Role.LEADER})


@login_required
@require_GET
def exchange_log(request: HttpRequest) -> HttpResponse:
    if not (access.can_read_cases(request.user) and request.user.role_set & LOG_ROLES):
        raise Http404("页面不存在")
    code = request.GET.get("code", "").strip()[:40]
    entries = queries.list_exchange(request.user, case_code=code)
    return render(request, "court/exchange.html", {
        "entries": entries, "code": code, "counts": queries.count_attention(request.user),
    })


@login_required
@require_GET
def case_exchange(request: HttpRequest, code: str) -> HttpResponse:
    if not access.can_read_cases(request.user):
        raise Http404("页面不存在")
    case = queries.get_case(request.user, code)
    return render(request, "court/case.html", {
        "case": case, "entries": queries.list_exchange(request.user, case_code=case.code),
        "can_see_log": bool(request.user.role_set & LOG_ROLES),
    })


@login_required
@require_POST
def apply_answer(request: HttpRequest, code: str, message_id: int) -> HttpResponse:
    if not access.can_read_cases(request.user):
        raise Http404("页面不存在")
    case = queries.get_case(request.user, code)
    try:
        actions.do_apply_answer(message_id, actor=request.user, case_code=case.code)
    except (access.ActionDenied, RuleViolation, InvalidInput) as error:
        messages.error(request, f"未能登记法院来文：{error}")
    else:
        messages.success(request, "已登记法院来文")
    return redirect("court_case", code=case.code)
