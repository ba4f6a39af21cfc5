from django.conf import settings
from django.urls import reverse


def site(request):
    """The centre's name and the navigation a user's roles open to them."""
    context = {"centre_name": settings.CENTRE_NAME, "nav_items": []}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    from yidi.accounts.access import can_read_cases
    from yidi.analytics.queries import can_view_analytics
    from yidi.cases.domain import STAFF_REGISTER_ROLES
    from yidi.evaluation.queries import can_open_worklist, can_supervise
    from yidi.grid.queries import can_use_grid
    from yidi.hotline.actions import can_import
    from yidi.linkage.queries import can_view_linkage
    from yidi.supervision.queries import can_see_alerts

    work, oversight, other = "办理", "督查考核", "其他"
    items = [(work, "工作台", reverse("workbench"))]
    if can_read_cases(user):
        items.append((work, "事项查询", reverse("case_list")))
    if user.role_set & STAFF_REGISTER_ROLES:
        items.append((work, "登记事项", reverse("case_register")))
    if can_import(user):
        items.append((work, "12345工单导入", reverse("hotline_import")))
    if can_use_grid(user):
        items.append((work, "网格员工作台", reverse("grid_home")))
    if can_open_worklist(user):
        items.append((work, "回访工作单", reverse("return_visit_list")))
    if can_read_cases(user) and user.role_set & {"dispatcher", "mediator", "leader"}:
        items.append((work, "调解专家库", reverse("mediator_directory")))
    if can_read_cases(user) and user.role_set & {"dispatcher", "leader"}:
        items.append((work, "诉调对接", reverse("court_exchange")))
    if can_view_linkage(user):
        items.append((work, "三级联动", reverse("linkage_home")))
    if can_see_alerts(user):
        items.append((work, "我的指挥任务", reverse("command_tasks")))
    if can_view_analytics(user):
        items.append((oversight, "数据驾驶舱", reverse("dashboard_overview")))
        items.append((oversight, "考核指标", reverse("analytics_kpis")))
        items.append((oversight, "排名考核", reverse("analytics_rankings")))
    if can_see_alerts(user) and user.role_set & {"supervisor", "leader", "dispatcher"}:
        items.append((oversight, "风险预警", reverse("alert_list")))
    if can_read_cases(user) and user.role_set & {"supervisor", "leader", "dispatcher"}:
        items.append((oversight, "专项治理", reverse("campaign_list")))
    if user.role_set & {"supervisor", "leader", "dispatcher"}:
        items.append((oversight, "督办清单", reverse("urging_list")))
        items.append((oversight, "超期情况", reverse("overdue")))
        if can_supervise(user):
            items.append((oversight, "不满意评价", reverse("evaluation_dissatisfied")))
            items.append((oversight, "回访风险", reverse("return_visit_risks")))
        if can_read_cases(user):
            items.append((oversight, "以案定补", reverse("subsidy_ledger")))
    if user.role_set & {"supervisor", "leader"}:
        items.append((oversight, "实施情况报告", reverse("implementation_report")))
    if can_read_cases(user):
        items.append((other, "个人信息导出", reverse("privacy_export_list")))
    if "auditor" in user.role_set:
        items.append((other, "审计日志", reverse("audit_event_list")))
    if user.is_staff:
        items.append((other, "管理后台", reverse("admin:index")))
    items.append((other, "账号安全", reverse("account_security")))
    matches = [url for _, _, url in items if request.path == url or (url != "/" and request.path.startswith(url))]
    active = max(matches, key=len) if matches else None
    groups = {group for group, _, _ in items}
    context["nav_items"] = [
        {"label": label, "url": url, "active": url == active,
         "group": group if len(groups) > 1 and (index == 0 or items[index - 1][0] != group) else ""}
        for index, (group, label, url) in enumerate(items)
    ]
    return context
