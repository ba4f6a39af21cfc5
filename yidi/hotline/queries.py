"""Reads of 12345 imports: the runs a user sees are those of units inside their own unit's region."""

from django.db.models import QuerySet
from django.http import Http404

from yidi.hotline.actions import can_import
from yidi.hotline.models import ImportRun
from yidi.regions.domain import code_range


def list_runs(user) -> QuerySet:
    if not can_import(user):
        return ImportRun.objects.none()
    low, high = code_range(user.unit.region_id)
    return ImportRun.objects.filter(unit__region_id__gte=low, unit__region_id__lt=high).select_related(
        "unit", "created_by"
    )


def get_run_for_user(user, run_id: int) -> ImportRun:
    """The run if `user` may see it; 404 otherwise, as for a run that does not exist."""
    try:
        return list_runs(user).get(pk=run_id)
    except ImportRun.DoesNotExist:
        raise Http404("导入记录不存在或无权查看") from None
