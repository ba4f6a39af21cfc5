"""Loading the national division codes shipped in `yidi/regions/data/` (NBS 2022; see SOURCE.md there)."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from yidi.regions.domain import CODE_LENGTH_BY_LEVEL, RegionLevel, short_name
from yidi.regions.models import Region

DATA_DIR = Path(__file__).resolve().parent / "data"


class DivisionDataError(Exception):
    """A division file is missing, malformed or inconsistent; the message names the file and line."""


@dataclass(frozen=True)
class DivisionRow:
    code: str
    name: str
    level: RegionLevel
    parent_code: str | None


def _read(path: Path, *, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as error:
        raise DivisionDataError(f"{path}: 无法读取（{error.strerror}）") from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise DivisionDataError(f"{path}: 缺少列 {', '.join(missing)}（实际列：{reader.fieldnames}）")
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError as error:
            raise DivisionDataError(f"{path}: 不是 UTF-8 编码（第 {error.start} 字节附近）") from None
        except csv.Error as error:
            raise DivisionDataError(f"{path}: CSV 格式错误：{error}") from None


def _row(path: Path, line: int, code: str, name: str, level: RegionLevel, parent: str | None) -> DivisionRow:
    code, name = (code or "").strip(), (name or "").strip()
    if len(code) != CODE_LENGTH_BY_LEVEL[level] or not code.isdigit():
        raise DivisionDataError(f"{path} 第 {line} 行：代码“{code}”不是 {CODE_LENGTH_BY_LEVEL[level]} 位数字")
    if not name:
        raise DivisionDataError(f"{path} 第 {line} 行：名称为空")
    if parent is not None and not code.startswith(parent):
        raise DivisionDataError(f"{path} 第 {line} 行：代码“{code}”与上级代码“{parent}”不一致")
    return DivisionRow(code=code, name=name, level=level, parent_code=parent)


def county_rows(county_code: str, *, data_dir: Path = DATA_DIR) -> list[DivisionRow]:
    """The province, city, county, townships and (where shipped) villages of one county, parents first."""
    if len(county_code) != 6 or not county_code.isdigit():
        raise DivisionDataError(f"“{county_code}”不是 6 位县级区划代码")
    county = None
    for line, row in _read(data_dir / "areas.csv", columns=("code", "name", "cityCode", "provinceCode")):
        if row["code"] == county_code:
            county = _row(data_dir / "areas.csv", line, row["code"], row["name"], RegionLevel.COUNTY, row["cityCode"])
            break
    if county is None:
        raise DivisionDataError(f"未知的县级区划代码“{county_code}”（{data_dir / 'areas.csv'} 中没有）")
    province = city = None
    for line, row in _read(data_dir / "provinces.csv", columns=("code", "name")):
        if row["code"] == county_code[:2]:
            province = _row(data_dir / "provinces.csv", line, row["code"], row["name"], RegionLevel.PROVINCE, None)
    for line, row in _read(data_dir / "cities.csv", columns=("code", "name", "provinceCode")):
        if row["code"] == county_code[:4]:
            city = _row(data_dir / "cities.csv", line, row["code"], row["name"], RegionLevel.CITY, row["provinceCode"])
    if province is None or city is None:
        raise DivisionDataError(f"区划数据不完整：找不到“{county_code}”的省或市")
    townships = [
        _row(data_dir / "streets.csv", line, row["code"], row["name"], RegionLevel.TOWNSHIP, county_code)
        for line, row in _read(data_dir / "streets.csv", columns=("code", "name", "areaCode"))
        if row["areaCode"] == county_code
    ]
    township_codes = {t.code for t in townships}
    villages = []
    village_file = data_dir / "zhejiang_villages.csv"
    if county_code.startswith("33") and village_file.exists():
        for line, row in _read(village_file, columns=("code", "name", "streetCode", "areaCode")):
            if row["areaCode"] != county_code:
                continue
            if row["streetCode"] not in township_codes:
                raise DivisionDataError(f"{village_file} 第 {line} 行：乡镇代码“{row['streetCode']}”不存在")
            villages.append(_row(village_file, line, row["code"], row["name"], RegionLevel.VILLAGE, row["streetCode"]))
    return [province, city, county, *townships, *villages]


@transaction.atomic
def load_county(county_code: str, *, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Insert or update the county's regions; running it again changes nothing. Returns counts per level."""
    rows = county_rows(county_code, data_dir=data_dir)
    counts: dict[str, int] = {}
    for level in RegionLevel:
        batch = [
            Region(
                code=row.code, name=row.name, short_name=short_name(row.name), level=row.level,
                parent_id=row.parent_code, is_active=True,
            )
            for row in rows
            if row.level == level
        ]
        if batch:
            Region.objects.bulk_create(
                batch, update_conflicts=True, unique_fields=["code"],
                update_fields=["name", "short_name", "level", "parent", "is_active"], batch_size=500,
            )
            counts[level.value] = len(batch)
    return counts
