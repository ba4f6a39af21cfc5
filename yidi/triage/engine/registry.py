"""Which model serves each taxonomy, loaded once per process.

The active model of a taxonomy is `$YIDI_DATA_DIR/triage/active/<taxonomy>/` when it exists (put there by
`install_model` / `yidi triage install`), else the one shipped in `yidi/triage/trained/<taxonomy>/`.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from yidi.core.taxonomies import TAXONOMY_BY_CODE
from yidi.triage.engine import resources
from yidi.triage.engine.model import (
    NOT_APPLICABLE,
    LinearTextModel,
    ModelFormatError,
    new_staging_dir,
    replace_dir,
)

SHIPPED_TAXONOMIES = ("mediation_type", "hotline_category", "request_type", "petition_category")

_cache: dict[Path, LinearTextModel] = {}
_active: dict[str, LinearTextModel] | None = None
_lock = threading.RLock()


def clear_cache() -> None:
    """Forget loaded models (after `install_model` in another process, restart workers or call this)."""
    global _active
    with _lock:
        _cache.clear()
        _active = None


def load_model(directory: str | Path) -> LinearTextModel:
    """The model in `directory`, loaded once per process (cached by its resolved path)."""
    path = Path(directory).resolve()
    with _lock:
        model = _cache.get(path)
        if model is None:
            model = LinearTextModel.load(path)
            _cache[path] = model
        return model


def model_dir(taxonomy: str) -> Path | None:
    for candidate in (resources.active_models_dir() / taxonomy, resources.SHIPPED_MODELS_DIR / taxonomy):
        if (candidate / "manifest.json").is_file():
            return candidate
    return None


def get_model(taxonomy: str) -> LinearTextModel | None:
    directory = model_dir(taxonomy)
    return load_model(directory) if directory else None


def available_taxonomies() -> list[str]:
    """The shipped taxonomies first, then any other taxonomy with an installed model."""
    names = [taxonomy for taxonomy in SHIPPED_TAXONOMIES if model_dir(taxonomy)]
    active = resources.active_models_dir()
    if active.is_dir():
        names += sorted(
            p.name for p in active.iterdir() if (p / "manifest.json").is_file() and p.name not in names
        )
    return names


def active_models() -> dict[str, LinearTextModel]:
    """The active model of every available taxonomy, resolved and loaded once per process."""
    global _active
    with _lock:
        if _active is None:
            _active = {t: model for t in available_taxonomies() if (model := get_model(t)) is not None}
        return dict(_active)


def validate_for_taxonomy(model: LinearTextModel, taxonomy: str) -> None:
    """Refuse a model trained for another taxonomy, or with labels its taxonomy does not have."""
    if model.taxonomy != taxonomy:
        raise ModelFormatError(
            f"该模型的分类体系是 {model.taxonomy!r}，不能安装为 {taxonomy!r}（训练时请使用 --taxonomy {taxonomy}）"
        )
    spec = TAXONOMY_BY_CODE.get(taxonomy)
    if spec is not None:
        known = {code for code, _ in spec.labels} | {name for _, name in spec.labels} | {NOT_APPLICABLE}
        unknown = sorted(set(model.labels) - known)
        if unknown:
            raise ModelFormatError(f"模型含有分类体系 {taxonomy} 中不存在的类别：{', '.join(unknown)}")


def install_model(source: str | Path, taxonomy: str) -> Path:
    """Validate the model in `source` and make a copy of it the active model of `taxonomy` (atomic swap)."""
    source = Path(source)
    model = LinearTextModel.load(source)
    validate_for_taxonomy(model, taxonomy)
    target = resources.active_models_dir() / taxonomy
    staging = new_staging_dir(target)
    try:
        for name in ("manifest.json", "vocabulary.json", "weights.npz", "lexicon.json"):
            if (source / name).is_file():
                shutil.copy2(source / name, staging / name)
        LinearTextModel.load(staging)  # the copy must load too
        replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    clear_cache()
    return target
