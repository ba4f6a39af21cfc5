"""The implementation report page: leaders and supervisors pick a region and period and download the report.

The view lives here because this file is the report's only URL module (`yidi/analytics/views.py` belongs to the
dashboards); it only parses, authorises and calls `yidi.analytics.report.do_generate_report`.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header

from yidi.accounts.domain import Role
from yidi.analytics.report import FORMATS, ReportError, do_generate_report
from yidi.core.db_router import reading_from_replica
from yidi.regions.models import Region

REPORT_ROLES = frozenset({Role.LEADER, Role.SUPERVISOR})


def _region_choices(scope_code: str) -> list[tuple[str, str]]:
    scope = Region.objects.filter(code=scope_code).first()
    if scope is None:
        return []
    choices = [(scope.code, scope.name)]
    if scope.level == "county":
        choices += [(r.code, f"　{r.name}") for r in Region.objects.filter(parent_id=scope.code, level="township",
                                                                            is_active=True).order_by("code")]
    return choices


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def implementation_report(request):
    user = request.user
    if not (user.unit_id and user.role_set & REPORT_ROLES):
        raise Http404("页面不存在")
    scope = user.unit.region_id
    regions = _region_choices(scope)
    today = timezone.localdate()
    values = {"region": scope, "from": f"{today.year}-01-01", "to": f"{today:%Y-%m-%d}", "format": "docx"}
    error, status = "", 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in values}
        if values["region"] not in {code for code, _name in regions}:
            error, status = "只能生成本单位辖区的报告", 400
        elif values["format"] not in FORMATS:
            error, status = "格式只能是 docx 或 pdf", 400
        else:
            try:
                content, content_type, filename = do_generate_report(
                    actor=user, region_code=values["region"], starts_on=values["from"], ends_on=values["to"],
                    fmt=values["format"])
            except ReportError as failure:
                error, status = str(failure), 400
            else:
                response = HttpResponse(content, content_type=content_type)
                response["Content-Disposition"] = content_disposition_header(True, filename)
                return response
    return render(request, "analytics/report/form.html",
                  {"regions": regions, "values": values, "error": error}, status=status)


urlpatterns = [
    path("", implementation_report, name="implementation_report"),
]
