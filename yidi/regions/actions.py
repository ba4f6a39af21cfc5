"""Writes to the region tree that are not bulk loads: grids (网格) under villages, and township maps."""

import hashlib

from django.conf import settings
from django.db import transaction

from yidi.audit.actions import record
from yidi.core import clock
from yidi.regions.domain import RegionLevel, match_township_map
from yidi.regions.models import Region, RegionMap


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


def map_max_bytes() -> int:
    return int(getattr(settings, "YIDI_REGION_MAP_MAX_BYTES", 5 * 1024 * 1024))


@transaction.atomic
def do_upload_region_map(county_code: str, *, file_name: str, content: bytes, actor) -> RegionMap:
    """Store a county's township map (replacing the previous one), after checking it against the townships.

    A refused file (`MapRejected`, naming the names that did not match and the townships missing) stores nothing.
    """
    county = Region.objects.select_for_update().filter(code=county_code, level=RegionLevel.COUNTY).first()
    if county is None:
        raise RegionError(f"“{county_code}”不是县（市、区）区划代码")
    townships = list(
        Region.objects.filter(parent_id=county.code, level=RegionLevel.TOWNSHIP, is_active=True)
        .order_by("code").values_list("code", "name", "short_name")
    )
    if not townships:
        raise RegionError(f"{county.name}尚未导入乡镇（街道）区划，无法核对地图")
    checked = match_township_map(content, townships, max_bytes=map_max_bytes())
    region_map, created = RegionMap.objects.update_or_create(county=county, defaults={
        "file_name": file_name[:200], "geojson": checked["geojson"], "mapping": checked["mapping"],
        "size": len(content), "sha256": hashlib.sha256(content).hexdigest(), "uploaded_by": actor,
        "uploaded_at": clock.now(),
    })
    record(actor=actor, action="region.upload_map", object_type="region", object_id=county.code, data={
        "file_name": file_name[:200], "size": len(content), "features": len(checked["mapping"]),
        "replaced": not created,
    })
    return region_map


@transaction.atomic
def do_delete_region_map(county_code: str, *, actor) -> None:
    deleted, _ = RegionMap.objects.filter(county_id=county_code).delete()
    if deleted:
        record(actor=actor, action="region.delete_map", object_type="region", object_id=county_code)
