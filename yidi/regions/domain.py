"""Rules about administrative codes (pure).

National statistical codes nest by prefix: province `33`, city `3306`, county `330681`,
township `330681109`, village `330681109290`; grids under a village add three digits.
"""

import json
from enum import StrEnum

CODE_LENGTH_BY_LEVEL = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12, "grid": 15}


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GRID = "grid"

    @property
    def label(self) -> str:
        return REGION_LEVEL_LABELS[self]


REGION_LEVEL_LABELS = {
    RegionLevel.PROVINCE: "省",
    RegionLevel.CITY: "市",
    RegionLevel.COUNTY: "县（市、区）",
    RegionLevel.TOWNSHIP: "乡镇（街道）",
    RegionLevel.VILLAGE: "村（社区）",
    RegionLevel.GRID: "网格",
}

# Suffixes the NBS data carries that people do not say, with what people say instead.
_NAME_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居委会", "社区"),
)

def level_for_code(code: str) -> RegionLevel:
    for level, length in CODE_LENGTH_BY_LEVEL.items():
        if len(code) == length and code.isdigit():
            return RegionLevel(level)
    raise ValueError(f"“{code}”不是有效的区划代码")


def code_range(prefix: str) -> tuple[str, str]:
    """The half-open range [prefix, next) that holds every code under `prefix`.

    `code >= low AND code < high` uses the primary-key index on both databases, unlike LIKE 'prefix%'
    under a non-C collation.
    """
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def is_within(code: str, prefix: str) -> bool:
    return code.startswith(prefix)


def short_name(name: str) -> str:
    """The name people use: `枫源村委会` → `枫源村`, `江东社区居委会` → `江东社区`."""
    for suffix, spoken in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + spoken
    return name


# --- township maps (GeoJSON uploaded by admins for the dashboards) ---------------------------------------------

MAP_NAME_PROPERTIES = ("name", "NAME", "名称", "Name")  # where a feature's township name is looked for, in order
MAP_GEOMETRY_TYPES = frozenset({"Polygon", "MultiPolygon"})
_TOWNSHIP_SUFFIXES = ("街道办事处", "街道", "镇", "乡")


class MapRejected(ValueError):
    """An uploaded map that cannot be used; the message (Chinese) names what is wrong."""

    def __init__(self, message: str, *, unmatched: tuple[str, ...] = (), missing: tuple[str, ...] = ()):
        self.unmatched = unmatched
        self.missing = missing
        super().__init__(message)


def _loose(name: str) -> str:
    name = "".join(name.split())
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _feature_name(feature: object, index: int) -> str:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise MapRejected(f"第 {index} 个要素不是 GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in MAP_GEOMETRY_TYPES \
            or not isinstance(geometry.get("coordinates"), list) or not geometry["coordinates"]:
        raise MapRejected(f"第 {index} 个要素没有面状边界（须为 Polygon 或 MultiPolygon）")
    properties = feature.get("properties")
    if isinstance(properties, dict):
        for key in MAP_NAME_PROPERTIES:
            value = properties.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    raise MapRejected(f"第 {index} 个要素没有名称（properties 中须有 name 或“名称”）")


def match_township_map(raw: bytes, townships: list[tuple[str, str, str]], *, max_bytes: int) -> dict:
    """Check an uploaded township map of a county and return it ready to store.

    `townships` are the county's active townships as (code, name, short name). Rules:
    - at most `max_bytes`, UTF-8 JSON, a `FeatureCollection` of `Feature`s with Polygon/MultiPolygon geometry;
    - each feature's name (`properties.name`, `NAME` or `名称`) is a township of the county: its full name, its
      short name, or — when that is unambiguous — the name without 镇/乡/街道;
    - no township twice, and every township present; otherwise the file is refused, naming the names that did
      not match and the townships missing.
    Returns {"geojson": the collection with each feature's properties reduced to {name, code},
    "mapping": {feature name: township code}}.
    """
    if len(raw) > max_bytes:
        raise MapRejected(f"文件过大（{len(raw) // 1024} KB），上限 {max_bytes // 1024} KB；请简化边界后再上传")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise MapRejected("文件不是有效的 GeoJSON（JSON 格式错误或不是 UTF-8 编码）") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise MapRejected("文件须为 GeoJSON FeatureCollection（乡镇边界的要素集合）")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise MapRejected("文件中没有任何要素（features 为空）")
    by_name: dict[str, str] = {}
    loose: dict[str, list[str]] = {}
    for code, name, short in townships:
        by_name[name] = code
        by_name.setdefault(short, code)
        loose.setdefault(_loose(name), []).append(code)
    names = {code: name for code, name, _short in townships}
    mapping: dict[str, str] = {}
    unmatched: list[str] = []
    twice: list[str] = []
    cleaned = []
    for index, feature in enumerate(features, start=1):
        name = _feature_name(feature, index)
        code = by_name.get(name)
        if code is None and len(loose.get(_loose(name), [])) == 1:
            code = loose[_loose(name)][0]
        if code is None:
            unmatched.append(name)
            continue
        if code in mapping.values():
            twice.append(name)
            continue
        mapping[name] = code
        cleaned.append({"type": "Feature", "properties": {"name": name, "code": code}, "geometry": feature["geometry"]})
    missing = tuple(names[code] for code, _name, _short in townships if code not in mapping.values())
    if unmatched or twice or missing:
        parts = []
        if unmatched:
            parts.append(f"以下名称与本县乡镇（街道）不符：{'、'.join(unmatched)}")
        if twice:
            parts.append(f"以下乡镇（街道）重复出现：{'、'.join(twice)}")
        if missing:
            parts.append(f"缺少以下乡镇（街道）：{'、'.join(missing)}")
        raise MapRejected("地图与本县乡镇（街道）不匹配。" + "；".join(parts), unmatched=tuple(unmatched + twice),
                          missing=missing)
    return {"geojson": {"type": "FeatureCollection", "features": cleaned}, "mapping": mapping}
