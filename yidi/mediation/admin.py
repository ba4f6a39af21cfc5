"""Admin pages for the mediator pool (调解专家库) and the named mediation rooms (系统管理员). Mediations themselves
are business data and are not here. Every save is audited."""

from django.contrib import admin

from yidi.audit.actions import record
from yidi.mediation.models import ArchiveRetention, MediationRoom, Mediator, SubsidyRate


def _audit_save(request, obj, *, change: bool, what: str) -> None:
    record(actor=request.user, action=f"mediation.{'change' if change else 'add'}_{what}", object_type=what,
           object_id=str(obj.pk), fields=[])


def _mediation_types(db_field, kwargs) -> None:
    if db_field.name == "specialties":
        from yidi.core.models import TaxonomyLabel

        kwargs["queryset"] = TaxonomyLabel.objects.filter(taxonomy__code="mediation_type").order_by("position")


@admin.register(Mediator)
class MediatorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organisation_type", "grade", "region", "room", "availability", "capacity",
                    "training_hours", "complaints", "is_active"]
    list_filter = ["organisation_type", "grade", "availability", "is_active", "specialties"]
    search_fields = ["user__display_name", "user__username", "user__unit__name", "languages"]
    raw_id_fields = ["user", "region"]
    list_select_related = ["user", "region", "room"]
    filter_horizontal = ["specialties"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        _mediation_types(db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_save(request, obj, change=change, what="mediator")


@admin.register(MediationRoom)
class MediationRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "lead_mediator", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "unit__name"]
    raw_id_fields = ["unit", "lead_mediator"]
    list_select_related = ["unit", "lead_mediator__user"]
    filter_horizontal = ["specialties"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        _mediation_types(db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_save(request, obj, change=change, what="mediation_room")


@admin.register(SubsidyRate)
class SubsidyRateAdmin(admin.ModelAdmin):
    """以案定补标准: the amounts are the county's own decision (the seeded ones are placeholders)."""

    list_display = ["complexity", "amount", "note", "updated_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_save(request, obj, change=change, what="subsidy_rate")


@admin.register(ArchiveRetention)
class ArchiveRetentionAdmin(admin.ModelAdmin):
    """卷宗保管期限 by dispute type (types without a setting: 长期)."""

    list_display = ["dispute_type", "period", "years"]
    raw_id_fields = ["dispute_type"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _audit_save(request, obj, change=change, what="archive_retention")
