"""Rules about administrative codes (pure).

National statistical codes nest by prefix: province `33`, city `3306`, county `330681`,
township `330681109`, village `330681109290`; grids under a village add three digits.
"""

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
