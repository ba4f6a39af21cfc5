"""The auditors' pages: search and export the audit log, verify the chain.

Only people holding the audit-admin role (审计管理员) open them; anyone else signed in gets 404, so the
pages do not reveal themselves. Every search, export and verification writes its own audit row.
"""

import csv
import json
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from yidi.audit import actions, queries
from yidi.audit.forms import EventSearchForm
from yidi.audit.models import AuditEvent

PAGE_SIZE = 50
EXPORT_COLUMNS = [
    "链", "序号", "时间", "账号", "角色", "单位", "来源地址", "操作", "对象类型", "对象标识", "涉及字段", "结果", "事由",
    "详情", "密钥编号", "校验码",
]


def _require_auditor(user) -> None:
    # accounts sits above audit in the app order: only the views need its roles, so import them here
    from yidi.accounts.domain import Role

    if not (user.is_active and Role.AUDITOR in user.role_set):
        raise Http404("页面不存在")


def _role_labels() -> dict[str, str]:
    from yidi.accounts.domain import ROLE_LABELS

    return {role.value: label for role, label in ROLE_LABELS.items()}


def _search(request: HttpRequest) -> tuple[EventSearchForm, queries.EventFilters | None]:
    form = EventSearchForm(request.GET or None)
    if not form.is_bound:
        return form, queries.EventFilters()
    return form, form.filters() if form.is_valid() else None


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    _require_auditor(request.user)
    form, filters = _search(request)
    events = queries.list_events(filters) if filters is not None else AuditEvent.objects.none()
    paginator = Paginator(events, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)  # read before this search is itself recorded
    labels = _role_labels()
    for event in page.object_list:
        event.role_labels = "、".join(labels.get(code, code) for code in event.actor_roles.split(",") if code)
        event.data_text = json.dumps(event.data, ensure_ascii=False, sort_keys=True) if event.data else ""
    if filters is not None:
        actions.record_log_access(
            actor=request.user, action="audit.search", filters=filters.as_dict(), rows=paginator.count,
            page=page.number,
        )
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(request, "audit/event_list.html", {
        "form": form,
        "page_obj": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "querystring": querystring.urlencode(),
    }, status=200 if filters is not None else 400)


def _cell(value) -> str:
    """Text for a CSV cell; a leading = + - @ is escaped so spreadsheets do not run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)  # the BOM makes spreadsheet programs read UTF-8
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([_cell(value) for value in (
            event.chain,
            event.seq,
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S.%f"),
            event.actor_username,
            event.actor_roles,
            event.actor_unit_code,
            event.source_ip,
            event.action,
            event.object_type,
            event.object_id,
            ",".join(str(name) for name in event.fields),
            event.get_outcome_display(),
            event.reason,
            json.dumps(event.data, ensure_ascii=False, sort_keys=True) if event.data else "",
            event.key_id,
            event.mac,
        )])


@login_required
@require_GET
def export_events(request: HttpRequest) -> HttpResponse:
    _require_auditor(request.user)
    _, filters = _search(request)
    if filters is None:
        return redirect(f"{reverse('audit_event_list')}?{request.GET.urlencode()}")
    events = queries.list_events(filters)
    actions.record_log_access(actor=request.user, action="audit.export", filters=filters.as_dict(),
                              rows=events.count())
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


@login_required
@require_POST
def verify_chain(request: HttpRequest) -> HttpResponse:
    _require_auditor(request.user)
    result = actions.do_verify_chain(actor=request.user)
    if result.ok:
        # one chain checked from its first row: say which rows (with several chains the numbers are per chain)
        last = f"（第 1–{result.last_seq} 条）" if result.last_seq and result.last_seq == result.checked else ""
        messages.success(
            request, f"日志链完好：已校验 {result.checked} 条记录{last}，核对检查点与链头 {result.anchors} 处。"
        )
    else:
        chain = f"第 {result.chain} 链" if result.chain and result.chain != 1 else ""
        where = f"{chain}第 {result.first_bad_seq} 条记录" if result.first_bad_seq else "检查点文件"
        label = result.problem.label if result.problem else ""
        messages.error(request, f"日志链校验未通过：{where}，{label}。详情：{result.reason}")
    return redirect("audit_event_list")
