"""Where the engine finds its data: package data, the regions CSVs and the active models.

The engine imports no Django, so the Django side tells it the data directory with
`configure(data_dir=settings.DATA_DIR)`; without that call `$YIDI_DATA_DIR` is used, then `<repo>/var`
(the same default as `yidi.settings`).
"""

from __future__ import annotations

import json
import os
from datetime import date
from functools import lru_cache
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
TRIAGE_DIR = ENGINE_DIR.parent
PACKAGE_DATA_DIR = TRIAGE_DIR / "data"
SHIPPED_MODELS_DIR = TRIAGE_DIR / "trained"
REGIONS_DATA_DIR = TRIAGE_DIR.parent / "regions" / "data"
LEXICON_DIR = PACKAGE_DATA_DIR / "lexicon"
GRADING_RULES_FILE = PACKAGE_DATA_DIR / "grading_rules.json"

_settings: dict[str, Path | None] = {"data_dir": None, "regions_dir": None, "grading_rules": None}


def configure(
    *,
    data_dir: str | Path | None = None,
    regions_dir: str | Path | None = None,
    grading_rules: str | Path | None = None,
) -> None:
    """Point the engine at the deployment's directories; clears the caches that depend on them."""
    from yidi.triage.engine import registry  # local: avoids an import cycle
    from yidi.triage.engine.grading import load_rules
    from yidi.triage.engine.places import load_gazetteer

    _settings["data_dir"] = Path(data_dir) if data_dir else None
    _settings["regions_dir"] = Path(regions_dir) if regions_dir else None
    _settings["grading_rules"] = Path(grading_rules) if grading_rules else None
    registry.clear_cache()
    load_rules.cache_clear()
    load_gazetteer.cache_clear()


def data_dir() -> Path:
    if _settings["data_dir"] is not None:
        return _settings["data_dir"]
    return Path(os.environ.get("YIDI_DATA_DIR") or (TRIAGE_DIR.parent.parent / "var")).resolve()


def regions_dir() -> Path:
    return _settings["regions_dir"] or REGIONS_DATA_DIR


def active_models_dir() -> Path:
    return data_dir() / "triage" / "active"


def grading_rules_file() -> Path:
    """`configure(grading_rules=…)`, else `$YIDI_DATA_DIR/triage/grading_rules.json`, else the shipped file."""
    if _settings["grading_rules"] is not None:
        return _settings["grading_rules"]
    deployed = data_dir() / "triage" / "grading_rules.json"
    return deployed if deployed.is_file() else GRADING_RULES_FILE


@lru_cache(maxsize=1)
def lunar_new_year_dates() -> dict[int, date]:
    """Gregorian date of 春节 by year (data file, 2018–2040)."""
    raw = json.loads((PACKAGE_DATA_DIR / "lunar_new_year.json").read_text(encoding="utf-8"))
    return {int(year): date.fromisoformat(value) for year, value in raw["dates"].items()}
