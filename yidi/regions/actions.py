"""Writes to the region tree that are not bulk loads: grids (网格) under villages."""

from django.db import transaction

from yidi.audit.actions import record
from yidi.regions.domain import RegionLevel
from yidi.regions.models import Region


class RegionError(ValueError):
    pass


@transaction.atomic
def do_add_grid(village_code: str, name: str, *, actor=None) -> Region:
    """Add a grid under a village; its code is the village's code and a three-digit number (001, 002 …).

    Adding a grid whose name the village already has returns that grid unchanged.
    """
    village = Region.objects.select_for_update().filter(code=village_code).first()
    if village is None or village.level != RegionLevel.VILLAGE:
        raise RegionError(f"“{village_code}”不是村（社区）区划代码，网格只能建在村（社区）下")
    name = name.strip()
    if not name:
        raise RegionError("请填写网格名称")
    existing = village.children.filter(level=RegionLevel.GRID, name=name).first()
    if existing is not None:
        return existing
    numbers = [int(code[-3:]) for code in village.children.filter(level=RegionLevel.GRID).values_list("code", flat=True)]
    number = max(numbers, default=0) + 1
    if number > 999:
        raise RegionError(f"{village.short_name}的网格已满 999 个")
    grid = Region.objects.create(
        code=f"{village.code}{number:03d}", name=name, short_name=name, level=RegionLevel.GRID, parent=village
    )
    record(actor=actor, action="region.add_grid", object_type="region", object_id=grid.code, data={"name": name})
    return grid
