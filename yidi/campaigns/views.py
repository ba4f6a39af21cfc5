"""Pages of the special campaigns: the list, the definition form, a campaign's page (figures, weekly trend, per unit
and township, its matters, link/unlink by hand) and the exports of its matters."""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from yidi.accounts import access
from yidi.campaigns import actions, queries
from yidi.campaigns.domain import LINK_SOURCE_LABELS, CampaignError, CampaignStatus, LinkSource
from yidi.campaigns.forms import CampaignForm, LinkForm, UnlinkForm
from yidi.campaigns.models import Campaign, CampaignMatter
from yidi.core.db_router import reading_from_replica

PAGE_SIZE = 20
CHART_WIDTH, CHART_HEIGHT, CHART_PADDING = 720, 160, 24


def _require_reader(user) -> None:
    if not access.can_read_cases(user):
        raise Http404("页面不存在")


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def campaign_list(request):
    _require_reader(request.user)
    campaigns = list(queries.list_campaigns(request.user))
    counts = dict(CampaignMatter.objects.filter(campaign__in=campaigns, removed_at__isnull=True)
                  .values("campaign_id").annotate(n=Count("pk"))
                  .values_list("campaign_id", "n"))
    for campaign in campaigns:
        campaign.matter_count = counts.get(campaign.pk, 0)
    return render(request, "campaigns/list.html", {
        "campaigns": campaigns, "may_create": queries.may_create(request.user),
    })


def _definition_page(request, *, campaign: Campaign | None):
    user = request.user
    scope = campaign.scope_region_id if campaign else user.unit.region_id
    form = CampaignForm(request.POST or None, scope_code=scope, initial=_initial(campaign))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if campaign is None:
                    saved = actions.do_create_campaign(actor=user, **form.action_kwargs())
                else:
                    saved = actions.do_update_campaign(campaign.pk, actor=user, **form.action_kwargs())
            except CampaignError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            except access.ActionDenied as error:
                form.add_error(None, str(error))
                status = 403
            else:
                messages.success(request, "专项已保存（草稿）。启动后将按规则自动纳入事项。")
                return redirect("campaign_detail", campaign_id=saved.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign}, status=status)


def _initial(campaign: Campaign | None) -> dict:
    if campaign is None:
        return {}
    return {
        "name": campaign.name, "description": campaign.description, "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on, "lead_unit": campaign.lead_unit.code,
        "dispute_types": list(campaign.dispute_types.values_list("code", flat=True)),
        "regions": list(campaign.regions.values_list("code", flat=True)),
        "member_units": list(campaign.member_units.values_list("code", flat=True)),
    }


@login_required
def campaign_new(request):
    if not queries.may_create(request.user):
        raise Http404("页面不存在")
    return _definition_page(request, campaign=None)


@login_required
def campaign_edit(request, campaign_id: int):
    _require_reader(request.user)
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    if not queries.may_manage(request.user, campaign) or campaign.status_enum is not CampaignStatus.DRAFT:
        raise Http404("页面不存在")
    return _definition_page(request, campaign=campaign)


def _trend_chart(weeks) -> dict:
    """Bar geometry for the weekly trend (an inline SVG: no script, no inline style)."""
    if not weeks:
        return {}
    top = max(max(week.registered, week.concluded) for week in weeks) or 1
    slot = (CHART_WIDTH - CHART_PADDING) / len(weeks)
    bar = max(2.0, min(16.0, slot / 2 - 2))
    inner = CHART_HEIGHT - CHART_PADDING
    bars = []
    for index, week in enumerate(weeks):
        x = CHART_PADDING + index * slot + (slot - 2 * bar) / 2
        for offset, value, tone in ((0, week.registered, "registered"), (bar, week.concluded, "concluded")):
            height = round(inner * value / top, 1)
            bars.append({"x": round(x + offset, 1), "y": round(inner - height + 4, 1), "width": round(bar, 1),
                         "height": height, "tone": tone,
                         "title": f"{week.week_on:%m-%d}周 {'登记' if tone == 'registered' else '出结果'} {value} 件"})
    labels = [{"x": round(CHART_PADDING + index * slot + slot / 2, 1), "text": f"{week.week_on:%m-%d}"}
              for index, week in enumerate(weeks) if len(weeks) <= 12 or index % max(1, len(weeks) // 12) == 0]
    return {"bars": bars, "labels": labels, "top": top, "width": CHART_WIDTH, "height": CHART_HEIGHT,
            "base_y": inner + 4, "label_y": CHART_HEIGHT - 4, "left": CHART_PADDING}


@login_required
def campaign_detail(request, campaign_id: int):
    _require_reader(request.user)
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    return render(request, "campaigns/detail.html", _detail_context(request, campaign))


def _detail_context(request, campaign: Campaign, **forms) -> dict:
    user = request.user
    figures = queries.get_figures(campaign)
    weeks = queries.weekly_trend(campaign)
    paginator = Paginator(queries.visible_matters(user, campaign), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    sources = dict(CampaignMatter.objects.filter(campaign=campaign, case_id__in=[c.pk for c in page.object_list])
                   .values_list("case_id", "source"))
    for case in page.object_list:
        case.campaign_source = LINK_SOURCE_LABELS[LinkSource(sources[case.pk])]
    may_manage = queries.may_manage(user, campaign)
    return {
        "campaign": campaign,
        "types": campaign.dispute_types.order_by("position", "code"),
        "regions": campaign.regions.order_by("code"),
        "member_units": campaign.member_units.order_by("name"),
        "figures": figures,
        "kpis": [figures.kpis[code] for code in queries.FIGURE_KPIS],
        "weeks": weeks,
        "chart": _trend_chart(weeks),
        "per_unit": queries.per_unit(campaign),
        "per_township": queries.per_township(campaign),
        "page_obj": page,
        "querystring": "",
        "removed": queries.removed_links(campaign)[:50],
        "may_manage": may_manage,
        "can_link": may_manage and campaign.status_enum is CampaignStatus.ACTIVE,
        "can_unlink": may_manage and campaign.status_enum is not CampaignStatus.ENDED,
        "link_form": forms.get("link_form") or LinkForm(),
        "unlink_form": forms.get("unlink_form") or UnlinkForm(),
    }


def _manage_post(request, campaign_id: int, perform, *, success: str, form=None, form_name: str = ""):
    """Run an action from a POST: a refusal shows the page again with the message (nothing changed)."""
    _require_reader(request.user)
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    status = 400
    message = ""
    if form is None or form.is_valid():
        try:
            result = perform(campaign)
        except CampaignError as error:
            message = str(error)
        except access.ActionDenied as error:
            message, status = str(error), 403
        else:
            messages.success(request, success.format(result=result))
            return redirect(reverse("campaign_detail", kwargs={"campaign_id": campaign.pk}))
    else:
        message = "；".join(str(error) for errors in form.errors.values() for error in errors)
    if form is not None and message:
        form.add_error(None, message)
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    context = _detail_context(request, campaign, **({form_name: form} if form is not None else {}))
    context["error"] = message
    return render(request, "campaigns/detail.html", context, status=status)


@login_required
@require_POST
def campaign_activate(request, campaign_id: int):
    return _manage_post(request, campaign_id,
                        lambda c: actions.do_activate_campaign(c.pk, actor=request.user)[1],
                        success="专项已启动，按规则自动纳入 {result} 件事项")


@login_required
@require_POST
def campaign_end(request, campaign_id: int):
    return _manage_post(request, campaign_id, lambda c: actions.do_end_campaign(c.pk, actor=request.user),
                        success="专项已结束，不再自动纳入新事项")


@login_required
@require_POST
def campaign_link(request, campaign_id: int):
    form = LinkForm(request.POST)
    return _manage_post(
        request, campaign_id,
        lambda c: actions.do_link_matter(c.pk, form.cleaned_data["case_code"], actor=request.user,
                                         reason=form.cleaned_data["reason"]).case.code,
        success="事项 {result} 已纳入专项", form=form, form_name="link_form")


@login_required
@require_POST
def campaign_unlink(request, campaign_id: int):
    form = UnlinkForm(request.POST)
    return _manage_post(
        request, campaign_id,
        lambda c: actions.do_unlink_matter(c.pk, form.cleaned_data["case_code"], actor=request.user,
                                           reason=form.cleaned_data["reason"]).case.code,
        success="事项 {result} 已移出专项，今后不会再被自动纳入", form=form, form_name="unlink_form")


# --- exports ------------------------------------------------------------------------------------------------------

EXPORT_HEADER = ["事项编码", "标题", "发生地", "纠纷类型", "状态", "主办单位", "登记时间", "出结果时间", "纳入方式", "纳入时间"]


def export_rows(user, campaign: Campaign) -> list[list[str]]:
    """The campaign's matters the user may read, as rows of text (no personal data: like the case list)."""
    links = dict(CampaignMatter.objects.filter(campaign=campaign, removed_at__isnull=True)
                 .values_list("case_id", "source"))
    linked_at = dict(CampaignMatter.objects.filter(campaign=campaign, removed_at__isnull=True)
                     .values_list("case_id", "linked_at"))
    rows = []
    for case in queries.visible_matters(user, campaign).iterator(chunk_size=2000):
        rows.append([
            case.code, case.title, case.region.name, case.primary_type.name if case.primary_type_id else "待分类",
            case.get_status_display(), case.lead_unit.name if case.lead_unit_id else "",
            f"{timezone.localtime(case.registered_at):%Y-%m-%d %H:%M}",
            f"{timezone.localtime(case.concluded_at):%Y-%m-%d %H:%M}" if case.concluded_at else "",
            LINK_SOURCE_LABELS[LinkSource(links[case.pk])],
            f"{timezone.localtime(linked_at[case.pk]):%Y-%m-%d %H:%M}",
        ])
    return rows


def _export(request, campaign_id: int, fmt: str) -> HttpResponse:
    _require_reader(request.user)
    campaign = queries.get_campaign_for_user(request.user, campaign_id)
    rows = export_rows(request.user, campaign)
    actions.do_export_matters(campaign, actor=request.user, fmt=fmt, rows=len(rows))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_HEADER)
        writer.writerows(rows)
        content, content_type = buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = "专项事项"
        sheet.append(EXPORT_HEADER)
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        content = buffer.getvalue()
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=content_type)
    filename = f"专项事项-{campaign.name}-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def campaign_export_csv(request, campaign_id: int):
    return _export(request, campaign_id, "csv")


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def campaign_export_xlsx(request, campaign_id: int):
    return _export(request, campaign_id, "xlsx")
