"""Supervision pages for deadlines: the 督办 list and overdue matters by unit and township."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from yidi.cases.models import UrgingLevel
from yidi.workflow import queries


def _require_supervisor(user) -> None:
    if not queries.can_supervise(user):
        raise Http404("页面不存在")


@login_required
def urging_list(request):
    _require_supervisor(request.user)
    level = request.GET.get("level", "")
    if level not in UrgingLevel.values:
        level = ""
    page = Paginator(queries.list_urgings(request.user, level=level), 30).get_page(request.GET.get("page"))
    return render(request, "workflow/urgings.html", {
        "page_obj": page, "level": level, "levels": UrgingLevel.choices,
        "querystring": f"level={level}" if level else "",
    })


@login_required
def overdue(request):
    _require_supervisor(request.user)
    return render(request, "workflow/overdue.html", {
        "by_unit": queries.overdue_by_unit(request.user),
        "by_township": queries.overdue_by_township(request.user),
    })
