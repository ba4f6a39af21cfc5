"""Roles, unit kinds and who may see what (pure rules)."""

from enum import StrEnum


class Role(StrEnum):
    CITIZEN = "citizen"
    GRID_WORKER = "grid_worker"
    REGISTRAR = "registrar"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    MEDIATOR = "mediator"
    LEADER = "leader"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    SECURITY_ADMIN = "security_admin"
    SYSTEM_ADMIN = "system_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CITIZEN: "群众",
    Role.GRID_WORKER: "网格员",
    Role.REGISTRAR: "窗口受理员",
    Role.DISPATCHER: "指挥调度员",
    Role.HANDLER: "部门承办人",
    Role.MEDIATOR: "调解员",
    Role.LEADER: "领导",
    Role.SUPERVISOR: "督查员",
    Role.AUDITOR: "审计管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.SYSTEM_ADMIN: "系统管理员",
}

# 三员分立: a person holds at most one of these, and then no business role.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
STAFF_ROLES = frozenset(Role) - {Role.CITIZEN}


# What each admin role may manage in the Django admin, as "app_label" or "app_label.model" entries.
# Business data (matters, parties, the timeline) is never registered in the admin.
ADMIN_SITE_SCOPES: dict[Role, frozenset[str]] = {
    Role.SYSTEM_ADMIN: frozenset({
        "regions", "core", "accounts", "routing", "cases.channel", "django_tasks_database",
        "mediation.mediator", "mediation.mediationroom",  # the mediator pool and named rooms: reference data
        "integrations", "notify",  # the outbox (status, re-send) and the notification templates
        "webhooks",  # webhook subscriptions (URL, events, region scope; the secret is write-only)
        "evaluation.returnvisitrule",
        "supervision.detectionrule", "supervision.springfestival",  # early-warning thresholds, festival dates
        "court",  # courts of the court exchange (endpoint, secret, linked API client)
    }),
    Role.SECURITY_ADMIN: frozenset({"privacy.retentionrule"}),
}


def admin_site_allows(roles: frozenset[Role], app_label: str, model: str | None = None) -> bool:
    scopes = frozenset().union(*(ADMIN_SITE_SCOPES.get(role, frozenset()) for role in roles))
    if model is None:
        return app_label in scopes or any(scope.startswith(f"{app_label}.") for scope in scopes)
    return app_label in scopes or f"{app_label}.{model}" in scopes


class RoleConflict(ValueError):
    pass


def check_role_set(roles: frozenset[Role]) -> None:
    """Raise `RoleConflict` unless `roles` is an allowed combination.

    - the three admin roles (system, security, audit) are mutually exclusive;
    - an admin role is never combined with a business role (admins see no business data);
    - the citizen role is never combined with a staff role.
    """
    admin = roles & ADMIN_ROLES
    if len(admin) > 1:
        names = "、".join(sorted(ROLE_LABELS[r] for r in admin))
        raise RoleConflict(f"三员分立：{names}不能由同一人兼任")
    if admin and len(roles) > 1:
        raise RoleConflict(f"三员分立：{ROLE_LABELS[next(iter(admin))]}不能兼任业务角色")
    if Role.CITIZEN in roles and len(roles) > 1:
        raise RoleConflict("群众账号不能兼任工作人员角色")


class UnitKind(StrEnum):
    CENTRE = "centre"
    COMMAND_DESK = "command_desk"
    DEPARTMENT = "department"
    TOWNSHIP_CENTRE = "township_centre"
    TOWNSHIP_PLATFORM = "township_platform"
    VILLAGE_COMMITTEE = "village_committee"
    COURT = "court"
    ARBITRATION = "arbitration"
    PETITION_BUREAU = "petition_bureau"
    POLICE_STATION = "police_station"
    PROFESSIONAL_MEDIATION = "professional_mediation"
    MEDIATION_ROOM = "mediation_room"


UNIT_KIND_LABELS = {
    UnitKind.CENTRE: "矛调中心",
    UnitKind.COMMAND_DESK: "指挥调度室",
    UnitKind.DEPARTMENT: "职能部门",
    UnitKind.TOWNSHIP_CENTRE: "乡镇（街道）矛调中心",
    UnitKind.TOWNSHIP_PLATFORM: "基层治理平台",
    UnitKind.VILLAGE_COMMITTEE: "村（社区）调委会",
    UnitKind.COURT: "人民法院（法庭）",
    UnitKind.ARBITRATION: "仲裁委员会",
    UnitKind.PETITION_BUREAU: "信访局",
    UnitKind.POLICE_STATION: "派出所",
    UnitKind.PROFESSIONAL_MEDIATION: "行业性专业性调解组织",
    UnitKind.MEDIATION_ROOM: "品牌调解室",
}

# Units whose people see every matter in their region (the township platforms coordinate their whole
# township); the others see the matters of the dispute types
# their responsibility list gives them in their region, and every matter assigned to them.
REGION_WIDE_KINDS = frozenset(
    {
        UnitKind.CENTRE,
        UnitKind.COMMAND_DESK,
        UnitKind.TOWNSHIP_CENTRE,
        UnitKind.TOWNSHIP_PLATFORM,
        UnitKind.VILLAGE_COMMITTEE,
    }
)
# Roles that read matters; the admin roles and citizens read none through the staff chokepoint.
CASE_READER_ROLES = frozenset(
    {
        Role.GRID_WORKER,
        Role.REGISTRAR,
        Role.DISPATCHER,
        Role.HANDLER,
        Role.MEDIATOR,
        Role.LEADER,
        Role.SUPERVISOR,
    }
)
# Roles that see every matter of their unit's region whatever the unit kind (they oversee it).
REGION_OVERSIGHT_ROLES = frozenset({Role.LEADER, Role.SUPERVISOR, Role.DISPATCHER})


class ResidencyMode(StrEnum):
    PERMANENT = "permanent"
    ROTATING = "rotating"
    ON_CALL = "on_call"


RESIDENCY_MODE_LABELS = {
    ResidencyMode.PERMANENT: "常驻",
    ResidencyMode.ROTATING: "轮驻",
    ResidencyMode.ON_CALL: "随驻",
}


class HandlingLevel(StrEnum):
    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"


HANDLING_LEVEL_LABELS = {
    HandlingLevel.VILLAGE: "村（社区）级",
    HandlingLevel.TOWNSHIP: "乡镇（街道）级",
    HandlingLevel.COUNTY: "县级",
}
