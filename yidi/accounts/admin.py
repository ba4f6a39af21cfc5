"""Admin pages for units, the responsibility list and accounts (系统管理员). Business data is not here."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from yidi.accounts import actions
from yidi.accounts.models import (
    ApiClient,
    PlatformType,
    ResidencyPeriod,
    Responsibility,
    ResponsibilityRevision,
    Unit,
    User,
    UserRole,
)


@admin.register(PlatformType)
class PlatformTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "position", "is_active"]
    list_editable = ["position", "is_active"]


class ResidencyPeriodInline(admin.TabularInline):
    model = ResidencyPeriod
    extra = 0


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region", "platform_type", "residency_mode", "is_active"]
    list_filter = ["kind", "residency_mode", "platform_type", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["region", "parent"]
    list_select_related = ["region", "platform_type"]
    inlines = [ResidencyPeriodInline]


@admin.register(Responsibility)
class ResponsibilityAdmin(admin.ModelAdmin):
    """Every save and delete goes through the actions, which keep the change history and the audit log."""

    list_display = ["unit", "dispute_type", "level", "is_lead", "note"]
    list_filter = ["level", "is_lead", "dispute_type"]
    search_fields = ["unit__name", "unit__code"]
    raw_id_fields = ["unit"]
    list_select_related = ["unit", "dispute_type"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "dispute_type":
            from yidi.core.models import TaxonomyLabel

            kwargs["queryset"] = TaxonomyLabel.objects.filter(taxonomy__code="mediation_type")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = actions.do_save_responsibility(
            unit_code=obj.unit.code, dispute_type_code=obj.dispute_type.code, level=obj.level,
            is_lead=obj.is_lead, note=obj.note, actor=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        actions.do_delete_responsibility(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for item in queryset:
            actions.do_delete_responsibility(item, actor=request.user)


@admin.register(ResponsibilityRevision)
class ResponsibilityRevisionAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "operation", "responsibility_id_ref", "changed_by", "snapshot"]
    list_filter = ["operation"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0
    fields = ["role"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "unit", "roles_display", "is_active", "last_login"]
    list_filter = ["is_active", "roles__role", "unit__kind"]
    search_fields = ["username", "display_name", "unit__name"]
    raw_id_fields = ["unit"]
    list_select_related = ["unit"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("基本信息", {"fields": ["display_name", "unit", "phone"]}),
        ("状态", {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [UserRoleInline]

    @admin.display(description="角色")
    def roles_display(self, obj):
        return "、".join(obj.role_labels)

    def save_formset(self, request, form, formset, change):
        """New roles go through `do_grant_role`, which enforces 三员分立 before the database does."""
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for role in instances:
            if role.pk is None:
                try:
                    actions.do_grant_role(form.instance, role.role, actor=request.user)
                except actions.AccountError as error:
                    messages.error(request, str(error))


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Integration clients: listed and revoked here; created by `create_api_client` (the token is shown once
    there). The token's hash is never shown."""

    list_display = ["name", "unit", "scopes", "token_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["unit"]
    search_fields = ["name", "unit__name", "token_prefix"]
    list_select_related = ["unit"]
    fields = ["name", "unit", "scopes", "token_prefix", "created_at", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="吊销所选客户端的令牌")
    def revoke(self, request, queryset):
        for client in queryset.filter(revoked_at__isnull=True):
            actions.do_revoke_api_client(client.name, actor=request.user)
            messages.success(request, f"已吊销接口客户端 {client.name}")
