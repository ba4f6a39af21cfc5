"""A trained linear text classifier and its directory format.

A model directory holds, and nothing else is read from it:
- `manifest.json`: format name and version, taxonomy, labels, feature settings, creation time, training size,
  metrics, library versions, temperature;
- `vocabulary.json`: the word and character n-grams (the row order of the weight matrix) and the lexicon labels;
- `weights.npz`: `coef` (features × labels), `intercept`, `idf` — loaded with `allow_pickle=False`;
- `lexicon.json` (optional): the keyword lexicon the model was trained with.
No pickle is used, so loading a model directory cannot execute code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from yidi.core.taxonomies import TAXONOMY_BY_CODE
from yidi.triage.engine.features import FeatureConfig, Lexicon, TextFeatures, Vectorizer, text_features

MODEL_FORMAT = "yidi-triage-model"
MODEL_FORMAT_VERSION = 1
NOT_APPLICABLE = (
    "__none__"  # training label of rows where the taxonomy does not apply (路灯不亮 has no 调解类型)
)
MAX_REASONS = 5


class ModelFormatError(ValueError):
    """A model directory that is missing, damaged or of an incompatible format version."""


@dataclass(frozen=True)
class Alternative:
    label: str
    name: str
    confidence: float

    def to_dict(self) -> dict:
        return {"label": self.label, "name": self.name, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True)
class Prediction:
    """One suggestion: `label` is None when the model says the taxonomy does not apply to the text."""

    label: str | None
    confidence: float
    model_version: str
    alternatives: tuple[Alternative, ...] = ()  # the top 3 applicable labels, best first
    reasons: tuple[str, ...] = ()  # words and phrases that drove the decision
    taxonomy: str = ""
    name: str | None = None

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "name": self.name,
            "confidence": round(self.confidence, 4),
            "alternatives": [alternative.to_dict() for alternative in self.alternatives],
            "reasons": list(self.reasons),
            "model_version": self.model_version,
        }


class Classifier(Protocol):
    def classify(self, text: str) -> Prediction: ...


@lru_cache(maxsize=1024)
def label_display_name(taxonomy: str, label: str) -> str:
    spec = TAXONOMY_BY_CODE.get(taxonomy)
    if spec is not None:
        return dict(spec.labels).get(label, label)
    return label


@lru_cache(maxsize=1024)
def code_for_name(taxonomy: str, label: str) -> str:
    """The code of a label given by its Chinese name in a known taxonomy; other labels unchanged."""
    spec = TAXONOMY_BY_CODE.get(taxonomy)
    if spec is not None:
        return {name: code for code, name in spec.labels}.get(label, label)
    return label


@dataclass
class LinearTextModel:
    """Softmax over a linear function of TF-IDF word/char n-grams plus lexicon hit features."""

    taxonomy: str
    labels: list[str]
    config: FeatureConfig
    words: list[str]
    chars: list[str]
    lexicon_labels: list[str]
    coef: np.ndarray  # float32, (n_words + n_chars + n_lexicon_labels, n_labels)
    intercept: np.ndarray  # float32, (n_labels,)
    idf: np.ndarray  # float32, (n_words + n_chars,)
    temperature: float = 1.0
    lexicon: Lexicon | None = None
    manifest: dict = field(default_factory=dict)

    def __post_init__(self):
        self.vectorizer = Vectorizer(
            self.config, self.words, self.chars, self.idf, self.lexicon, self.lexicon_labels
        )
        self.lexicon_labels = self.vectorizer.lexicon_labels
        self.n_features = self.vectorizer.n_features
        self.applicable_set = {i for i, label in enumerate(self.labels) if label != NOT_APPLICABLE}
        # A model trained on the Chinese names of a known taxonomy (城乡建设 …) still answers with its codes.
        self.codes = [code_for_name(self.taxonomy, label) for label in self.labels]
        self.names = [label_display_name(self.taxonomy, code) for code in self.codes]
        # margins[k, f]: how much feature f favours label k over the average of the other labels (for reasons)
        total = self.coef.sum(axis=1, keepdims=True)
        others = (total - self.coef) / max(1, len(self.labels) - 1)
        self.margins = np.ascontiguousarray((self.coef - others).T, dtype=np.float32)

    @property
    def model_version(self) -> str:
        return self.manifest.get("model_version", "unsaved")

    # ------------------------------------------------------------------ features
    def vectorize(self, features: TextFeatures) -> tuple[np.ndarray, np.ndarray, dict]:
        """(indices, values, lexicon hits) of one text."""
        return self.vectorizer.transform_one(features)

    def scores(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        return values @ self.coef[indices] + self.intercept

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        z = scores / self.temperature
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    # ------------------------------------------------------------------ prediction
    def classify(self, text: str) -> Prediction:
        return self.classify_features(text_features(text, self.config))

    def classify_features(self, features: TextFeatures) -> Prediction:
        indices, values, hits = self.vectorize(features)
        probabilities = self.probabilities(values @ self.coef[indices] + self.intercept).tolist()
        ranked = sorted(range(len(probabilities)), key=probabilities.__getitem__, reverse=True)
        names = self.names
        alternatives = tuple(
            Alternative(self.codes[i], names[i], probabilities[i])
            for i in [i for i in ranked if i in self.applicable_set][:3]
        )
        best = ranked[0]
        label = self.codes[best]
        if label == NOT_APPLICABLE:
            return Prediction(
                None, probabilities[best], self.model_version, alternatives, (), self.taxonomy, None
            )
        reasons = self._reasons(best, indices, values, hits.get(self.labels[best], []))
        return Prediction(
            label, probabilities[best], self.model_version, alternatives, reasons, self.taxonomy, names[best]
        )

    def _reasons(self, best: int, indices: np.ndarray, values: np.ndarray, lexicon_terms):
        """The features that pushed the chosen label above the others most, as readable phrases."""
        if len(indices) == 0:
            return ()
        contributions = values * self.margins[best][indices]
        top = (
            np.argpartition(-contributions, 40)[:40]
            if len(contributions) > 40
            else np.arange(len(contributions))
        )
        n_words, n_chars = len(self.words), len(self.chars)
        chosen: list[str] = []
        lexicon_used = False
        ordered = sorted(zip(contributions[top].tolist(), indices[top].tolist(), strict=True), reverse=True)
        for contribution, feature in ordered:
            if contribution <= 0 or len(chosen) >= MAX_REASONS:
                break
            if feature >= n_words + n_chars:
                if not lexicon_used:
                    lexicon_used = True
                    for term, _ in lexicon_terms:
                        _add_reason(chosen, term)
                continue
            if feature < n_words:
                parts = self.words[feature].split(" ")
                if len(parts) > 1 and min(map(len, parts)) < 2:
                    continue  # a bigram with a one-character word ("镇政府 拉") reads as a fragment
                phrase = "".join(parts)
            else:
                phrase = self.chars[feature - n_words]
            if len(phrase) < 2 or "0" in phrase:
                continue
            _add_reason(chosen, phrase)
        return tuple(chosen[:MAX_REASONS])

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        """Write the model directory atomically: build beside `directory`, then rename into place."""
        target = Path(directory)
        if target.exists() and any(target.iterdir()) and not (target / "manifest.json").is_file():
            raise ModelFormatError(f"{target} 已存在且不是模型目录，拒绝覆盖")
        staging = new_staging_dir(target)
        try:
            self._write(staging)
            replace_dir(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    def _write(self, directory: Path) -> None:
        coef = np.ascontiguousarray(self.coef, dtype=np.float32)
        intercept = np.ascontiguousarray(self.intercept, dtype=np.float32)
        idf = np.ascontiguousarray(self.idf, dtype=np.float32)
        np.savez_compressed(directory / "weights.npz", coef=coef, intercept=intercept, idf=idf)
        vocabulary = {"words": self.words, "chars": self.chars, "lexicon_labels": self.lexicon_labels}
        (directory / "vocabulary.json").write_text(
            json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
        )
        if self.lexicon is not None:
            (directory / "lexicon.json").write_text(
                json.dumps(self.lexicon.to_dict(), ensure_ascii=False, indent=0), encoding="utf-8"
            )
        digest = hashlib.sha256(
            coef.tobytes() + intercept.tobytes() + json.dumps(vocabulary).encode()
        ).hexdigest()
        manifest = dict(self.manifest)
        manifest.update(
            {
                "format": MODEL_FORMAT,
                "format_version": MODEL_FORMAT_VERSION,
                "taxonomy": self.taxonomy,
                "labels": self.labels,
                "features": self.config.to_dict(),
                "temperature": self.temperature,
                "n_features": self.n_features,
                "weights_sha256": digest,
            }
        )
        created = manifest.get("created_at", "").replace("-", "").replace(":", "").replace("T", "")[:14]
        manifest["model_version"] = f"{self.taxonomy}-{created}-{digest[:8]}"
        (directory / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        self.manifest = manifest

    @classmethod
    def load(cls, directory: str | Path) -> LinearTextModel:
        directory = Path(directory)
        manifest = read_manifest(directory)
        try:
            vocabulary = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
            with np.load(directory / "weights.npz", allow_pickle=False) as weights:
                coef, intercept, idf = weights["coef"], weights["intercept"], weights["idf"]
            lexicon_file = directory / "lexicon.json"
            lexicon = (
                Lexicon.from_dict(json.loads(lexicon_file.read_text(encoding="utf-8")))
                if lexicon_file.is_file()
                else None
            )
        except (OSError, ValueError, KeyError) as error:
            raise ModelFormatError(f"模型目录 {directory} 已损坏：{error}") from None
        labels = list(manifest["labels"])
        words, chars = list(vocabulary["words"]), list(vocabulary["chars"])
        lexicon_labels = list(vocabulary.get("lexicon_labels", []))
        n_features = len(words) + len(chars) + len(lexicon_labels)
        if (
            coef.shape != (n_features, len(labels))
            or intercept.shape != (len(labels),)
            or len(idf) != len(words) + len(chars)
        ):
            raise ModelFormatError(f"模型目录 {directory} 的权重与词表大小不一致")
        return cls(
            taxonomy=manifest["taxonomy"],
            labels=labels,
            config=FeatureConfig.from_dict(manifest.get("features", {})),
            words=words,
            chars=chars,
            lexicon_labels=lexicon_labels,
            coef=coef.astype(np.float32, copy=False),
            intercept=intercept.astype(np.float32, copy=False),
            idf=idf.astype(np.float32, copy=False),
            temperature=float(manifest.get("temperature", 1.0)),
            lexicon=lexicon,
            manifest=manifest,
        )


def read_manifest(directory: Path) -> dict:
    """The manifest of a model directory, refused unless it is this engine's format and version."""
    path = directory / "manifest.json"
    if not path.is_file():
        raise ModelFormatError(f"{directory} 不是模型目录（缺少 manifest.json）")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelFormatError(f"{path} 不是有效的 JSON：{error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MODEL_FORMAT:
        raise ModelFormatError(f"{directory} 不是 yidi 分诊模型目录（format 应为 {MODEL_FORMAT}）")
    version = manifest.get("format_version")
    if version != MODEL_FORMAT_VERSION:
        raise ModelFormatError(
            f"模型目录 {directory} 的格式版本为 {version}，本程序只支持版本 {MODEL_FORMAT_VERSION}；"
            "请用当前版本重新训练（yidi triage train）"
        )
    for key in ("taxonomy", "labels"):
        if key not in manifest:
            raise ModelFormatError(f"模型目录 {directory} 的 manifest.json 缺少 {key}")
    return manifest


def _add_reason(chosen: list[str], phrase: str) -> None:
    for i, existing in enumerate(chosen):
        if phrase in existing:
            return
        if existing in phrase:
            chosen[i] = phrase
            # a longer phrase may now cover later ones too
            chosen[:] = [c for j, c in enumerate(chosen) if j == i or c not in phrase]
            return
    chosen.append(phrase)


def new_staging_dir(target: Path) -> Path:
    """An empty hidden directory beside `target`, readable by the web workers (a model holds no secrets)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    os.chmod(staging, 0o755)  # noqa: S103 - mkdtemp makes it 0700; other local users may run the server
    return staging


def replace_dir(staging: Path, target: Path) -> None:
    """Move a fully written directory into place; an existing one is swapped out, then removed."""
    if not target.exists():
        os.replace(staging, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    retired.rmdir()
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)
