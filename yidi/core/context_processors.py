from django.conf import settings
from django.urls import reverse


def site(request):
    """The centre's name and the navigation a user's roles open to them."""
    context = {"centre_name": settings.CENTRE_NAME, "nav_items": []}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    from yidi.accounts.access import can_read_cases
    from yidi.cases.domain import STAFF_REGISTER_ROLES
    from yidi.evaluation.queries import can_open_worklist, can_supervise
    from yidi.grid.queries import can_use_grid
    from yidi.hotline.actions import can_import

    items = [("工作台", reverse("workbench"))]
    if can_read_cases(user):
        items.append(("事项查询", reverse("case_list")))
    if user.role_set & STAFF_REGISTER_ROLES:
        items.append(("登记事项", reverse("case_register")))
    if can_import(user):
        items.append(("12345工单导入", reverse("hotline_import")))
    if can_use_grid(user):
        items.append(("网格员工作台", reverse("grid_home")))
    if can_open_worklist(user):
        items.append(("回访工作单", reverse("return_visit_list")))
    if can_read_cases(user) and user.role_set & {"dispatcher", "mediator", "leader"}:
        items.append(("调解专家库", reverse("mediator_directory")))
    if user.role_set & {"supervisor", "leader", "dispatcher"}:
        items.append(("督办清单", reverse("urging_list")))
        items.append(("超期情况", reverse("overdue")))
        if can_supervise(user):
            items.append(("不满意评价", reverse("evaluation_dissatisfied")))
            items.append(("回访风险", reverse("return_visit_risks")))
        if can_read_cases(user):
            items.append(("以案定补", reverse("subsidy_ledger")))
    if can_read_cases(user):
        items.append(("个人信息导出", reverse("privacy_export_list")))
    if "auditor" in user.role_set:
        items.append(("审计日志", reverse("audit_event_list")))
    if user.is_staff:
        items.append(("管理后台", reverse("admin:index")))
    items.append(("账号安全", reverse("account_security")))
    matches = [url for _, url in items if request.path == url or (url != "/" and request.path.startswith(url))]
    active = max(matches, key=len) if matches else None
    context["nav_items"] = [{"label": label, "url": url, "active": url == active} for label, url in items]
    return context
