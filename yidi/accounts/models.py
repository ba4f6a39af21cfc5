from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core import checks
from django.db import models
from django.db.models import Q
from django.utils import timezone

from yidi.accounts.domain import (
    ADMIN_ROLES,
    HANDLING_LEVEL_LABELS,
    RESIDENCY_MODE_LABELS,
    ROLE_LABELS,
    UNIT_KIND_LABELS,
    Role,
    admin_site_allows,
)
from yidi.core.masking import PersonalKind
from yidi.core.personal import PersonalDataField


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(key.value, label) for key, label in labels.items()]


class PlatformType(models.Model):
    """A kind of township platform (基层治理四平台). The list is data: provinces cut it differently."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=40)
    position = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "基层治理平台类型"
        verbose_name_plural = "基层治理平台类型"
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An organisation (组织): the centre, a department, a township platform, a village committee, a court …"""

    code = models.SlugField("单位代码", max_length=60, unique=True)
    name = models.CharField("名称", max_length=80)
    kind = models.CharField("类型", max_length=30, choices=_choices(UNIT_KIND_LABELS))
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="units", verbose_name="所在区划"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级单位"
    )
    platform_type = models.ForeignKey(
        PlatformType, on_delete=models.PROTECT, null=True, blank=True, verbose_name="平台类型"
    )
    function = models.SlugField(
        "职能代码", max_length=60, blank=True,
        help_text="部门的职能，供分派规则按职能找单位，如 human_resources_social_security（人社）",
    )
    residency_mode = models.CharField(
        "入驻方式", max_length=10, choices=_choices(RESIDENCY_MODE_LABELS), blank=True,
        help_text="部门入驻矛调中心的方式；不入驻的留空",
    )
    phone = models.CharField("联系电话", max_length=30, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["region_id", "kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="township_platform") | Q(platform_type__isnull=False),
                name="township_platform_has_type",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return UNIT_KIND_LABELS.get(self.kind, self.kind)


class ResidencyPeriod(models.Model):
    """When a rotating (轮驻) department is on duty at the centre."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="residency_periods", verbose_name="单位")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "轮驻安排"
        verbose_name_plural = "轮驻安排"
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="residency_period_order")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.starts_on}～{self.ends_on}"


class Responsibility(models.Model):
    """One line of the responsibility list (职责清单): this unit handles this dispute type at this level."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="responsibilities", verbose_name="单位")
    dispute_type = models.ForeignKey(
        "core.TaxonomyLabel", on_delete=models.PROTECT, related_name="+", verbose_name="纠纷类型"
    )
    level = models.CharField("处置层级", max_length=10, choices=_choices(HANDLING_LEVEL_LABELS))
    is_lead = models.BooleanField("牵头（主办）", default=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "职责清单"
        verbose_name_plural = "职责清单"
        ordering = ["unit_id", "dispute_type_id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "dispute_type", "level"], name="responsibility_unique")
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.dispute_type} · {self.get_level_display()}"


class ResponsibilityRevision(models.Model):
    """The change history of the responsibility list: every create, change and delete, with who and when."""

    responsibility_id_ref = models.BigIntegerField("清单条目")
    operation = models.CharField("操作", max_length=10)
    snapshot = models.JSONField("内容")
    changed_at = models.DateTimeField("时间")
    changed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+", verbose_name="操作人"
    )

    class Meta:
        verbose_name = "职责清单变更记录"
        verbose_name_plural = "职责清单变更记录"
        ordering = ["-id"]


class User(AbstractUser):
    """A person who logs in. Staff belong to one unit; roles are rows of `UserRole`."""

    display_name = models.CharField("姓名", max_length=40, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="members", verbose_name="所属单位"
    )
    phone = PersonalDataField("手机号", kind=PersonalKind.PHONE)
    # Empty = never set (an account created without a password): the first log-in must set one.
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_password(self, raw_password):
        """Every way of setting a password (actions, admin, `changepassword`) restarts the password's age."""
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password):
        """A log-in that upgrades the stored hash (`set_password` in Django's setter) is not a change."""
        changed_at = self.password_changed_at
        try:
            return super().check_password(raw_password)
        finally:
            self.password_changed_at = changed_at

    @property
    def role_codes(self) -> list[str]:
        cached = getattr(self, "_role_codes", None)
        if cached is None:
            cached = sorted(self.roles.values_list("role", flat=True)) if self.pk else []
            self._role_codes = cached
        return cached

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(code) for code in self.role_codes)

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[Role(code)] for code in self.role_codes]

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set & set(roles))

    def has_perm(self, perm: str, obj=None) -> bool:
        """Admin-site permissions follow the role (`ADMIN_SITE_SCOPES`), not per-user grants."""
        if not (self.is_active and self.is_staff):
            return False
        app_label, _, codename = perm.partition(".")
        model = codename.split("_", 1)[1] if "_" in codename else None
        return admin_site_allows(self.role_set, app_label, model)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_staff and admin_site_allows(self.role_set, app_label)


class UserRole(models.Model):
    """A role held by a user.

    三员分立 is enforced by the database: `is_admin_role` must equal "role is an admin role" (check
    constraint), and at most one admin-role row may exist per user (partial unique index). The action
    that grants roles also refuses admin + business combinations.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles", verbose_name="用户")
    role = models.CharField("角色", max_length=20, choices=_choices(ROLE_LABELS))
    is_admin_role = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = "用户角色"
        verbose_name_plural = "用户角色"
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="user_role_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_admin_role=True), name="one_admin_role_per_user"
            ),
            models.CheckConstraint(
                condition=(
                    Q(is_admin_role=True, role__in=sorted(ADMIN_ROLES))
                    | (Q(is_admin_role=False) & ~Q(role__in=sorted(ADMIN_ROLES)))
                ),
                name="admin_role_flag_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


# --- log-in hardening (yidi.accounts.auth, docs/authentication.md) ---------------------------------------


class SecretField(PersonalDataField):
    """A secret (a TOTP seed) encrypted at rest exactly like personal data, so `rotate_field_keys` re-encrypts
    it with the rest; it is never displayed, not even masked."""

    def masked(self, value: str) -> str:
        return "********" if value else ""


class LoginThrottleKind(models.TextChoices):
    USERNAME = "username", "用户名"
    SOURCE_IP = "source_ip", "来源地址"


class LoginThrottle(models.Model):
    """Failed log-ins counted per user name (whether or not the account exists) and per source address.

    In the database, not a cache, so every server process sees the same counts. The row is locked while it
    is updated. `failures` counts the failures since `window_started_at`; the count restarts when the window
    (the lockout duration) has passed or a lock has expired.
    """

    kind = models.CharField("类型", max_length=10, choices=LoginThrottleKind.choices)
    key = models.CharField("用户名或地址", max_length=150)
    failures = models.PositiveIntegerField("失败次数", default=0)
    window_started_at = models.DateTimeField("计数开始时间", null=True, blank=True)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"
        constraints = [
            # serves the look-up of every log-in attempt: (kind, key)
            models.UniqueConstraint(fields=["kind", "key"], name="login_throttle_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"


class RequestRateWindow(models.Model):
    """Requests counted per (scope, key) in fixed one-minute windows: the rate limit on log-in POSTs."""

    scope = models.CharField("范围", max_length=30)
    key = models.CharField("来源地址", max_length=64)
    window_started_at = models.DateTimeField("窗口开始时间")
    hits = models.PositiveIntegerField("次数", default=0)

    class Meta:
        verbose_name = "请求频率计数"
        verbose_name_plural = "请求频率计数"
        constraints = [
            # serves the look-up of every counted request: (scope, key, window)
            models.UniqueConstraint(fields=["scope", "key", "window_started_at"], name="request_rate_window_unique"),
        ]
        indexes = [
            # serves the purge of old windows
            models.Index(fields=["window_started_at"], name="request_rate_window_at"),
        ]


class TwoFactorDevice(models.Model):
    """The TOTP authenticator an account enrolled. `last_used_step` (the 30-second step of the last accepted
    code) makes every code single-use: a code is accepted only for a later step (compare-and-swap)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor_device", verbose_name="用户")
    secret = SecretField("密钥")
    enrolled_at = models.DateTimeField("绑定时间")
    last_used_step = models.BigIntegerField("最近使用的时间步", default=0)

    class Meta:
        verbose_name = "两步验证器"
        verbose_name_plural = "两步验证器"

    def __str__(self) -> str:
        return f"{self.user} · 两步验证"


class RecoveryCode(models.Model):
    """A single-use recovery code for a lost authenticator, stored only as a password hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes", verbose_name="用户")
    code_hash = models.CharField("恢复码摘要", max_length=200)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"
        indexes = [
            # serves "the unused codes of this user"
            models.Index(fields=["user", "used_at"], name="recovery_code_user_used"),
        ]


@checks.register(checks.Tags.security, deploy=True)
def check_force_login_not_trusted(app_configs=None, **kwargs):
    """`AUTH_TRUST_FORCE_LOGIN` lets sessions not made by the log-in page skip two-factor: tests only."""
    if getattr(settings, "AUTH_TRUST_FORCE_LOGIN", False):
        return [checks.Error("AUTH_TRUST_FORCE_LOGIN is on: sessions not made by the log-in page skip two-factor.",
                             hint="Only the test settings may set it.", id="accounts.E001")]
    return []


# --- integration clients of the native API (/api/v1/, docs/api.md) -------------------------------------------


class ApiScope(models.TextChoices):
    CASES_READ = "cases:read", "读取事项"
    CASES_WRITE = "cases:write", "登记事项"
    CASES_ACT = "cases:act", "办理事项（受理、签收、回退、办理、出结果）"
    PERSONAL_READ = "personal:read", "读取当事人完整信息（须本单位在办）"
    REFERENCE_READ = "reference:read", "读取基础数据"
    CONTACTS_WRITE = "contacts:write", "记录来访来电（诉求、到访）"
    CASES_ASSIGN = "cases:assign", "交办、转办、改派（指挥调度）"
    MEDIATION_READ = "mediation:read", "读取调解、协议与移交"
    EVALUATIONS_WRITE = "evaluations:write", "记录评价与回访"
    ANALYTICS_READ = "analytics:read", "读取统计指标与排名"
    ALERTS_READ = "alerts:read", "读取风险预警"
    ALERTS_WRITE = "alerts:write", "上报风险预警"
    CAMPAIGNS_READ = "campaigns:read", "读取专项治理"
    COURT_EXCHANGE = "court:exchange", "诉调对接（法院委派委托、起诉与司法确认）"
    LINKAGE_EXCHANGE = "linkage:exchange", "三级联动（上报与下派）"


class ApiClient(models.Model):
    """A system that calls the native API with a bearer token, on behalf of one unit, within its scopes.

    - The token is shown once when the client is created; only its first 8 characters (`token_prefix`, to find
      the row and to tell tokens apart in lists) and its SHA-256 (`token_hash`) are stored.
    - Each client acts through its own service account (`user`: the unit's clerk and handler roles, no usable
      password), so the access chokepoint and the actions treat it exactly like a person of that unit; the
      scopes, checked at the API's edge, narrow what it may call.
    - A revoked client (`revoked_at`) is refused from the next request on; its rows are kept for the audit trail.
    """

    name = models.SlugField("名称", max_length=60, unique=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="api_clients", verbose_name="所属单位")
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="api_client", verbose_name="服务账号", editable=False
    )
    scopes = models.JSONField("权限范围", default=list)
    token_prefix = models.CharField("令牌前缀", max_length=8, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="创建人"
    )
    last_used_at = models.DateTimeField("最近使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口客户端"
        verbose_name_plural = "接口客户端"
        ordering = ["name"]
        indexes = [
            # serves the token look-up of every API request
            models.Index(fields=["token_prefix"], name="api_client_token_prefix"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyRecord(models.Model):
    """The first response to a create sent with an `Idempotency-Key`, kept so a retry gets the same answer.

    Unique per (client, key): a concurrent duplicate waits on the unique index and then finds the stored response.
    `request_hash` is the SHA-256 of the request's method, path and body: the same key with another request is
    refused (422). Only successful creates are stored (a refused request wrote nothing, so a retry runs again).
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # the body as sent, as text: jsonb would reorder its keys, and a replay must be the same bytes
    response = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "幂等记录"
        verbose_name_plural = "幂等记录"
        constraints = [
            # serves the look-up of every create carrying a key, and makes a duplicate insert fail
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_client_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]  # serves the daily purge
