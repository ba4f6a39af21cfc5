"""Township and village names of one county, matched in free text to their statistical region codes.

The gazetteer is read lazily from the regions CSVs (`streets.csv`: townships nationwide; `zhejiang_villages.csv`:
villages of Zhejiang) and cached per county. Names are matched in their official form and in the forms people
write: "枫源村委会" → 枫源村, "天竺社区居委会" → 天竺社区, "XX居委会" → XX社区, and a township without its
suffix ("枫桥镇" → 枫桥) when that short form has at least two characters.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from yidi.triage.engine import resources
from yidi.triage.engine.text import PhraseMatcher


@dataclass(frozen=True)
class Place:
    code: str
    name: str  # the official name, suffix stripped ("枫源村")
    level: str  # "township" or "village"
    township_code: str


@dataclass(frozen=True)
class PlaceMention:
    start: int
    end: int
    text: str
    code: str
    name: str
    level: str
    township_code: str
    alternatives: tuple[str, ...] = ()  # other codes with the same name in the county, when ambiguous

    def to_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "township_code": self.township_code,
            "alternatives": list(self.alternatives),
        }


_VILLAGE_SUFFIX = re.compile(r"(村民委员会|村委会|社区居民委员会|社区居委会|居民委员会|居委会|委员会)$")
_TOWNSHIP_SUFFIX = re.compile(r"(街道办事处|街道|镇|乡)$")


def _village_forms(raw: str) -> tuple[str, list[str]]:
    """(display name, aliases) of a village or community as written in the NBS list."""
    match = _VILLAGE_SUFFIX.search(raw)
    stem = raw[: match.start()] if match else raw
    suffix = match.group(1) if match else ""
    if suffix in ("村民委员会", "村委会"):
        name = stem if stem.endswith("村") else stem + "村"
        return name, [raw, name]
    if suffix in ("社区居民委员会", "社区居委会"):
        return stem + "社区", [raw, stem + "社区"]
    if suffix in ("居民委员会", "居委会"):
        return stem + "社区", [raw, stem + "社区", stem + "居委会"]
    return raw, [raw]


def _township_forms(raw: str) -> tuple[str, list[str]]:
    match = _TOWNSHIP_SUFFIX.search(raw)
    aliases = [raw]
    if match and len(raw) - len(match.group(1)) >= 2:
        aliases.append(raw[: match.start()])
        if match.group(1) == "街道":
            aliases.append(raw[: match.start()] + "街道办事处")
    return raw, aliases


class Gazetteer:
    def __init__(self, county_code: str, places: list[tuple[Place, list[str]]]):
        self.county_code = county_code
        self.by_code = {place.code: place for place, _ in places}
        by_alias: dict[str, list[Place]] = {}
        for place, aliases in places:
            for alias in aliases:
                if len(alias) >= 2 and place not in by_alias.setdefault(alias, []):
                    by_alias[alias].append(place)
        self._matcher = PhraseMatcher(by_alias.items())

    def __len__(self) -> int:
        return len(self.by_code)

    def find(self, text: str) -> list[PlaceMention]:
        """Every township or village named in `text`, ambiguous village names resolved by a named township."""
        hits = list(self._matcher.finditer(text))
        named_townships = {
            place.code for _, _, _, candidates in hits for place in candidates if place.level == "township"
        }
        mentions = []
        for start, end, _, candidates in hits:
            chosen = next((p for p in candidates if p.township_code in named_townships), candidates[0])
            others = tuple(p.code for p in candidates if p is not chosen)
            mentions.append(
                PlaceMention(
                    start,
                    end,
                    text[start:end],
                    chosen.code,
                    chosen.name,
                    chosen.level,
                    chosen.township_code,
                    others,
                )
            )
        return mentions


@lru_cache(maxsize=8)
def load_gazetteer(county_code: str) -> Gazetteer:
    """The townships and villages of a county (6-digit code); an unknown county gives an empty gazetteer."""
    county_code = county_code.strip()[:6]
    root = resources.regions_dir()
    places: list[tuple[Place, list[str]]] = []
    streets = root / "streets.csv"
    if streets.is_file():
        with streets.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["areaCode"] == county_code:
                    name, aliases = _township_forms(row["name"])
                    places.append((Place(row["code"], name, "township", row["code"]), aliases))
    villages = root / "zhejiang_villages.csv"
    if county_code.startswith("33") and villages.is_file():
        with villages.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["areaCode"] == county_code:
                    name, aliases = _village_forms(row["name"])
                    places.append((Place(row["code"], name, "village", row["streetCode"]), aliases))
    return Gazetteer(county_code, places)


def place_name(code: str) -> str | None:
    """The name of a township or village code, looked up in its county's gazetteer ("枫桥镇枫源村")."""
    if len(code) < 9:
        return None
    gazetteer = load_gazetteer(code[:6])
    place = gazetteer.by_code.get(code)
    if place is None:
        return None
    if place.level == "village":
        township = gazetteer.by_code.get(place.township_code)
        return (township.name if township else "") + place.name
    return place.name
