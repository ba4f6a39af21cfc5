"""Admin pages for the routing rules (系统管理员). Every save and delete goes through the actions, which
check the rule with the pure parser and keep the change history and the audit log."""

from django import forms
from django.contrib import admin, messages

from yidi.routing import actions
from yidi.routing.domain import (
    CONDITION_KEYS,
    THEN_KEYS,
    RuleFormatError,
    decision_for,
    find_overlaps,
    overlap_messages,
)
from yidi.routing.models import RoutingRule, RoutingRuleRevision

# The form field that shows an error about a key of the rule's JSON form.
FIELD_FOR_KEY = {
    "id": "code",
    "order": "position",
    "name": "name",
    "active": "is_active",
    "when": "when",
    "then": "then",
}
WHEN_HELP = (
    "JSON 对象，留空的条件不限。可用的键：" + "、".join(CONDITION_KEYS) + "。例："
    '{"complexities": ["simple"], "region_levels": ["village"], "amount_min": "100000"}；'
    "金额、人数的范围含下限、不含上限。"
)
THEN_HELP = (
    "JSON 对象。可用的键：" + "、".join(THEN_KEYS) + "。例："
    '{"handling_level": "township", "lead": {"selector": "township_platform_of_region"}, '
    '"co_units": [{"selector": "department:human_resources_social_security"}]}；'
    '单位写作 {"unit": "单位代码"} 或 {"selector": "centre | township_platform_of_region | '
    'village_committee_of_region | department:职能代码"}。'
)


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["code", "position", "name", "is_active", "when", "then"]
        help_texts = {"when": WHEN_HELP, "then": THEN_HELP}
        widgets = {
            "when": forms.Textarea(attrs={"rows": 8, "cols": 80}),
            "then": forms.Textarea(attrs={"rows": 8, "cols": 80}),
        }

    def rule_data(self) -> dict:
        """The rule in its JSON form, from the cleaned fields (the code cannot change once saved)."""
        cleaned = self.cleaned_data
        return {
            "id": cleaned.get("code") or self.instance.code,
            "order": cleaned.get("position"),
            "name": cleaned.get("name", ""),
            "active": cleaned.get("is_active", True),
            "when": cleaned.get("when") or {},
            "then": cleaned.get("then"),
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # a field is missing or is not JSON at all
            return cleaned
        try:
            actions.check_rule(self.rule_data())
        except actions.RoutingRuleError as error:
            top = error.key.split(".", 1)[0].split("[", 1)[0]
            field = FIELD_FOR_KEY.get(top)
            if field not in self.fields:
                field = None
            self.add_error(field, str(error))
        return cleaned


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """The decision table, in evaluation order; the list warns about rules that shadow each other."""

    form = RoutingRuleForm
    list_display = ["position", "code", "name", "is_active", "conditions", "outcome", "updated_at"]
    list_display_links = ["code", "name"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    ordering = ["position", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    @admin.display(description="条件")
    def conditions(self, obj):
        try:
            return "；".join(obj.to_domain().condition_reasons())
        except RuleFormatError as error:
            return f"规则数据有误：{error}"

    @admin.display(description="处理")
    def outcome(self, obj):
        try:
            return decision_for(obj.to_domain()).reasons[-1]
        except RuleFormatError:
            return "—"

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self._show_table_problems(request)
        return super().changelist_view(request, extra_context)

    def _show_table_problems(self, request) -> None:
        rules = []
        for row in RoutingRule.objects.all():
            try:
                rules.append(row.to_domain())
            except RuleFormatError as error:
                messages.error(request, f"规则 {row.code} 的数据有误，分派时被跳过：{error}")
        errors, warnings = overlap_messages(find_overlaps(rules))
        for message in errors:
            messages.error(request, message)
        for message in warnings:
            messages.warning(request, message)

    def save_model(self, request, obj, form, change):
        saved = actions.do_save_rule(form.rule_data(), actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        actions.do_delete_rule(obj.code, actor=request.user)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            actions.do_delete_rule(row.code, actor=request.user)


@admin.register(RoutingRuleRevision)
class RoutingRuleRevisionAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "rule_code", "operation", "changed_by", "snapshot"]
    list_filter = ["operation"]
    search_fields = ["rule_code"]
    list_select_related = ["changed_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
