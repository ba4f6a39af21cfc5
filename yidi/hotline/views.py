"""The 12345 import pages: upload, a run's progress (an htmx fragment polled every 2 s) and its rejects file."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from yidi.cases.domain import InvalidInput
from yidi.hotline import actions, queries


class UploadForm(forms.Form):
    file = forms.FileField(label="12345工单导出文件", help_text="Excel（.xlsx）或 CSV（UTF-8 或 GBK 编码）")


def _require_importer(request: HttpRequest) -> None:
    if not actions.can_import(request.user):
        raise Http404("页面不存在")


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = actions.do_start_hotline_import(form.cleaned_data["file"], actor=request.user,
                                                  max_bytes=settings.ATTACHMENT_MAX_BYTES)
        except InvalidInput as error:
            form.add_error("file", str(error))
        else:
            return redirect("hotline_import_run", run_id=run.pk)
    page = Paginator(queries.list_runs(request.user), 20).get_page(request.GET.get("page"))
    status = 400 if request.method == "POST" else 200
    return render(request, "hotline/import.html", {"form": form, "page_obj": page,
                                                   "max_mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)},
                  status=status)


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    _require_importer(request)
    return render(request, "hotline/run.html", {"run": queries.get_run_for_user(request.user, run_id)})


@login_required
@require_GET
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    _require_importer(request)
    return render(request, "hotline/_progress.html", {"run": queries.get_run_for_user(request.user, run_id)})


@login_required
@require_GET
def rejects_download(request: HttpRequest, run_id: int) -> HttpResponse:
    _require_importer(request)
    run = queries.get_run_for_user(request.user, run_id)
    if not run.rejects_file:
        raise Http404("没有未导入的行")
    content, filename = actions.do_download_rejects(run, actor=request.user)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    return response
