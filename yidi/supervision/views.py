"""Risk alert pages (/supervision/alerts/) and the major-event command view (/supervision/command/).

Parse → authorise (`supervision.queries` scopes every read; the actions check every step) → one action or
query → render. A refused step re-renders the page with the Chinese reason and the typed input kept (400).
人工上报 (/supervision/alerts/new/) is only for those who may raise an alert (`queries.may_raise_manual`, the action's rule over
their own region); anybody else gets 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yidi.accounts.access import ActionDenied, CaseNotFound
from yidi.cases.domain import RuleViolation
from yidi.core import clock
from yidi.core.db_router import reading_from_replica
from yidi.regions.models import Region
from yidi.supervision import actions, queries
from yidi.supervision.domain import (
    KIND_LABELS,
    LIFECYCLE_ACTIONS,
    SEVERITY_LABELS,
    AlertAction,
    AlertActionDenied,
    AlertKind,
    AlertRuleViolation,
    AlertStatus,
    IllegalTransition,
    Severity,
    allowed_actions,
    denial_reason,
)
from yidi.supervision.forms import (
    AssessForm,
    CompleteTaskForm,
    InstructionForm,
    ManualAlertForm,
    NoteForm,
    TaskForm,
    parse_case_codes,
)
from yidi.supervision.models import TaskStatus

REFUSALS = (AlertRuleViolation, AlertActionDenied, IllegalTransition, ActionDenied, RuleViolation, CaseNotFound)
STEP_NOTES = {AlertAction.HANDLE: "处置情况", AlertAction.CLOSE: "办结意见"}


def _require_reader(user) -> None:
    if not queries.can_see_alerts(user):
        raise Http404("页面不存在")


def _choice(value: str, allowed) -> str:
    return value if value in allowed else ""


@login_required
@reading_from_replica()  # may be a few seconds stale (docs/scaling.md)
def alert_list(request):
    _require_reader(request.user)
    filters = {
        "status": _choice(request.GET.get("status", ""), AlertStatus._value2member_map_),
        "severity": _choice(request.GET.get("severity", ""), Severity._value2member_map_),
        "kind": _choice(request.GET.get("kind", ""), AlertKind._value2member_map_),
        "region": request.GET.get("region", "").strip() if request.GET.get("region", "").strip().isdigit() else "",
    }
    alerts = queries.list_alerts(request.user, **filters)
    page = Paginator(alerts, 30).get_page(request.GET.get("page"))
    others = {key: value for key, value in filters.items() if key != "status"}
    unit_region = request.user.unit.region_id
    townships = Region.objects.filter(parent_id=unit_region[:6], level="township").order_by("code") \
        if len(unit_region) == 6 else Region.objects.filter(code=unit_region[:9])
    return render(request, "supervision/alert_list.html", {
        "page_obj": page, "filters": filters, "status_counts": queries.count_by_status(request.user, **others),
        "severities": [(s.value, f"{label}色") for s, label in SEVERITY_LABELS.items()],
        "kinds": [(k.value, label) for k, label in KIND_LABELS.items()],
        "townships": townships,
        "querystring": "&".join(f"{key}={value}" for key, value in filters.items() if value),
        "other_querystring": "&".join(f"{key}={value}" for key, value in others.items() if value),
        "may_raise": queries.may_raise_manual(request.user),
    })


@login_required
def alert_new(request):
    """人工上报风险预警; `?cases=CODE1,CODE2` fills in the matter codes (a matter's page links here)."""
    if not queries.may_raise_manual(request.user):
        raise PermissionDenied("只有指挥调度员、督查员或领导可以上报预警")
    status = 200
    if request.method == "POST":
        form = ManualAlertForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                alert = actions.do_raise_manual_alert(actor=request.user, title=data["title"], reason=data["reason"],
                                                      severity=data["severity"], case_codes=data["case_codes"])
            except AlertRuleViolation as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            except CaseNotFound as error:
                unseen = queries.unseen_case_codes(request.user, data["case_codes"])
                form.add_error("case_codes", f"事项 {'、'.join(unseen)} 不存在或无权查看" if unseen else str(error))
            except AlertActionDenied as error:  # the matters lie (partly) outside the user's region
                form.add_error("case_codes", str(error))
                status = 403
            else:
                messages.success(request, f"已上报风险预警（{alert.get_severity_display()}色）")
                return redirect("alert_detail", alert_id=alert.pk)
    else:
        form = ManualAlertForm(initial={"case_codes": "\n".join(parse_case_codes(request.GET.get("cases", "")))})
    return render(request, "supervision/alert_new.html", {"form": form}, status=status)


def _detail_context(request, alert, *, forms=None, error="", open_step=""):
    cases = queries.alert_cases_for_user(request.user, alert)
    actor, facts = queries.actor_of(request.user), queries.facts_of(alert)
    steps = []
    for action in allowed_actions(AlertStatus(alert.status)):
        if denial_reason(actor, facts, action) is None:
            form = (forms or {}).get(action) or (
                AssessForm(region=alert.region_id) if action == AlertAction.ASSESS else NoteForm()
            )
            if action in STEP_NOTES:
                form.fields["note"].label = STEP_NOTES[action]
            steps.append({"action": action.value, "label": action.label, "form": form,
                          "open": action.value == open_step})
    return {
        "alert": alert, "cases": cases.visible, "hidden_count": cases.hidden_count,
        "events": queries.list_alert_events(alert), "steps": steps, "error": error,
        "lifecycle": [(s.label, s.value) for s in AlertStatus],
    }


@login_required
def alert_detail(request, alert_id: int):
    _require_reader(request.user)
    alert = queries.get_alert_for_user(request.user, alert_id)
    return render(request, "supervision/alert_detail.html", _detail_context(request, alert))


@login_required
@require_POST
def alert_step(request, alert_id: int, step: str):
    _require_reader(request.user)
    alert = queries.get_alert_for_user(request.user, alert_id)
    try:
        action = AlertAction(step)
    except ValueError:
        raise Http404("操作不存在") from None
    if action not in LIFECYCLE_ACTIONS:
        raise Http404("操作不存在")
    form = AssessForm(request.POST, region=alert.region_id) if action == AlertAction.ASSESS else NoteForm(request.POST)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == AlertAction.ASSESS:
                actions.do_assess_alert(alert.pk, actor=request.user, note=data["note"], severity=data["severity"],
                                        owner_unit_code=data["owner_unit"])
            elif action == AlertAction.HANDLE:
                actions.do_handle_alert(alert.pk, actor=request.user, note=data["note"])
            else:
                actions.do_close_alert(alert.pk, actor=request.user, note=data["note"])
        except REFUSALS as refused:
            error = str(refused)
        else:
            messages.success(request, f"已{action.label}")
            return redirect("alert_detail", alert_id=alert.pk)
    else:
        error = "请填写" + "、".join(str(form.fields[name].label) for name in form.errors)
    alert = queries.get_alert_for_user(request.user, alert_id)
    context = _detail_context(request, alert, forms={action: form}, error=error, open_step=action.value)
    return render(request, "supervision/alert_detail.html", context, status=400)


# --- the command view ------------------------------------------------------------------------------------


def _command_context(request, alert, *, task_form=None, instruction_form=None, error=""):
    cases = queries.alert_cases_for_user(request.user, alert)
    tasks = queries.list_tasks(alert)
    now = clock.now()
    actor = queries.actor_of(request.user)
    in_region = bool(actor.unit_region) and alert.region_id.startswith(actor.unit_region)
    open_alert = alert.status != AlertStatus.CLOSED
    can_command = open_alert and in_region and bool(actor.roles & {"dispatcher", "leader"})
    can_instruct = open_alert and in_region and "leader" in actor.roles
    status_counts: dict[str, int] = {}
    for case in cases.visible:
        status_counts[case.get_status_display()] = status_counts.get(case.get_status_display(), 0) + 1
    return {
        "alert": alert, "cases": cases.visible, "hidden_count": cases.hidden_count, "status_counts": status_counts,
        "tasks": [{"task": t, "overdue": t.is_overdue(now)} for t in tasks],
        "open_tasks": sum(t.status == TaskStatus.OPEN for t in tasks),
        "overdue_tasks": sum(t.is_overdue(now) and t.status == TaskStatus.OPEN for t in tasks),
        "units": queries.units_involved(cases.visible, tasks),
        "instructions": queries.list_instructions(alert),
        "timeline": queries.merged_timeline(alert, cases.visible),
        "can_command": can_command, "can_instruct": can_instruct, "error": error,
        "task_form": task_form or TaskForm(region=alert.region_id),
        "instruction_form": instruction_form or InstructionForm(codes=[c.code for c in cases.visible]),
    }


def _command_alert(request, alert_id: int):
    _require_reader(request.user)
    alert = queries.get_alert_for_user(request.user, alert_id)
    if not alert.is_command_eligible:
        raise Http404("指挥视图仅用于红色预警或群体性事件")
    return alert


@login_required
def command_view(request, alert_id: int):
    alert = _command_alert(request, alert_id)
    return render(request, "supervision/command.html", _command_context(request, alert))


@login_required
@require_POST
def command_task_assign(request, alert_id: int):
    alert = _command_alert(request, alert_id)
    form = TaskForm(request.POST, region=alert.region_id)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_assign_command_task(alert.pk, actor=request.user, unit_code=data["unit"],
                                           action=data["action"], due_at=data["due_at"])
        except REFUSALS as refused:
            error = str(refused)
        else:
            messages.success(request, "已下达指挥任务")
            return redirect("command_view", alert_id=alert.pk)
    else:
        error = "；".join(str(e) for errors in form.errors.values() for e in errors)
    return render(request, "supervision/command.html", _command_context(request, alert, task_form=form, error=error),
                  status=400)


@login_required
@require_POST
def command_instruction(request, alert_id: int):
    alert = _command_alert(request, alert_id)
    codes = [c.code for c in queries.alert_cases_for_user(request.user, alert).visible]
    form = InstructionForm(request.POST, codes=codes)
    error = ""
    if form.is_valid():
        try:
            actions.do_record_command_instruction(alert.pk, actor=request.user, text=form.cleaned_data["text"],
                                                  case_codes=form.cleaned_data["case_codes"])
        except REFUSALS as refused:
            error = str(refused)
        else:
            messages.success(request, "已记录领导批示")
            return redirect("command_view", alert_id=alert.pk)
    else:
        error = "；".join(str(e) for errors in form.errors.values() for e in errors)
    return render(request, "supervision/command.html",
                  _command_context(request, alert, instruction_form=form, error=error), status=400)


@login_required
def command_tasks(request):
    _require_reader(request.user)
    status = _choice(request.GET.get("status", ""), TaskStatus.values)
    page = Paginator(queries.list_unit_tasks(request.user, status=status), 30).get_page(request.GET.get("page"))
    now = clock.now()
    return render(request, "supervision/command_tasks.html", {
        "page_obj": page, "rows": [{"task": t, "overdue": t.is_overdue(now)} for t in page.object_list],
        "status": status, "statuses": TaskStatus.choices, "querystring": f"status={status}" if status else "",
        "form": CompleteTaskForm(),
    })


@login_required
@require_POST
def command_task_complete(request, task_id: int):
    _require_reader(request.user)
    if not queries.is_task_visible(request.user, task_id):  # another region's task: as if it did not exist
        raise Http404("页面不存在")
    form = CompleteTaskForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写完成情况")
        return redirect("command_tasks")
    try:
        actions.do_complete_command_task(task_id, actor=request.user, result=form.cleaned_data["result"])
    except (AlertRuleViolation, AlertActionDenied) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "已报告任务完成")
    return redirect("command_tasks")
