"""Text features of the linear classifiers: word n-grams, character n-grams and lexicon hits.

One `TextFeatures` is computed per text and shared by every model that uses the same `FeatureConfig`, so the
segmentation runs once per text whatever the number of taxonomies.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from itertools import repeat
from operator import add
from pathlib import Path

import numpy as np

from yidi.triage.engine.text import PhraseMatcher, cut, fold, fold_digits

_NOT_SEGMENT = re.compile(r"[^0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]+")
_SEPARATOR = "\x00"
_TOKEN = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class FeatureConfig:
    word_min: int = 1
    word_max: int = 2
    char_min: int = 1
    char_max: int = 3
    max_chars: int = 3000  # classification reads at most this many characters of a text
    char_weight: float = 1.0  # weight of the character block against the word block (each L2-normalised)
    lexicon_weight: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def text_key(self) -> tuple:
        """The settings that shape `TextFeatures` (not the block weights, which only scale vectors)."""
        return (self.word_min, self.word_max, self.char_min, self.char_max, self.max_chars)

    @classmethod
    def from_dict(cls, raw: dict) -> FeatureConfig:
        known = {key: raw[key] for key in cls.__dataclass_fields__ if key in raw}
        return cls(**known)


def normalise_for_features(text: str, max_chars: int) -> str:
    return fold_digits(fold(text[:max_chars]).lower())


@dataclass
class TextFeatures:
    words: Counter
    chars: Counter
    text: str  # the normalised text the features were computed from
    # TF-IDF vectors already computed from these features, by vocabulary: models trained on the same texts share
    # one vocabulary, so the lookups run once per text however many taxonomies are classified.
    vectors: dict = field(default_factory=dict)


def _ngrams(items: list[str], n: int, joiner: str = ""):
    """The n-grams of a sequence of strings, built at C speed (map over shifted slices)."""
    if n == 1:
        return items
    if n == 2 and not joiner:
        return map(add, items, items[1:])
    return map(joiner.join, zip(*(items[i:] for i in range(n)), strict=False))


def text_features(text: str, config: FeatureConfig) -> TextFeatures:
    norm = normalise_for_features(text, config.max_chars)
    tokens = list(filter(_TOKEN.search, cut(norm)))
    words: Counter = Counter()
    for n in range(config.word_min, config.word_max + 1):
        words.update(_ngrams(tokens, n, " "))
    # Character n-grams never cross punctuation or spaces: count them over the whole text with every such run
    # replaced by one separator, then drop the n-grams that contain the separator.
    joined = _NOT_SEGMENT.sub(_SEPARATOR, norm).strip(_SEPARATOR)
    letters = list(joined)
    chars: Counter = Counter()
    for n in range(config.char_min, config.char_max + 1):
        chars.update(_ngrams(letters, n))
    if _SEPARATOR in chars:
        for position in [i for i, letter in enumerate(letters) if letter == _SEPARATOR]:
            for n in range(max(config.char_min, 1), config.char_max + 1):
                for start in range(position - n + 1, position + 1):
                    chars.pop(joined[max(0, start) : start + n], None)
    return TextFeatures(words, chars, norm)


class Lexicon:
    """Per-label keyword lists (data): `label,term,weight` rows; hits become features and reasons."""

    def __init__(self, entries: dict[str, list[tuple[str, float]]]):
        self.entries = {label: list(terms) for label, terms in entries.items()}
        index: dict[str, list[tuple[str, float]]] = {}
        for label, terms in self.entries.items():
            for term, weight in terms:
                index.setdefault(fold(term).lower(), []).append((label, float(weight)))
        self._matcher = PhraseMatcher(index.items())

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def labels(self) -> list[str]:
        return sorted(self.entries)

    def hits(self, normalised_text: str) -> dict[str, list[tuple[str, float]]]:
        """{label: [(term, weight), …]} for the terms found in an already normalised text."""
        found: dict[str, list[tuple[str, float]]] = {}
        for _, _, term, payload in self._matcher.finditer(normalised_text):
            for label, weight in payload:
                found.setdefault(label, []).append((term, weight))
        return found

    def to_dict(self) -> dict:
        return {
            label: [[term, weight] for term, weight in terms] for label, terms in sorted(self.entries.items())
        }

    @classmethod
    def from_dict(cls, raw: dict) -> Lexicon:
        return cls(
            {label: [(str(term), float(weight)) for term, weight in terms] for label, terms in raw.items()}
        )

    @classmethod
    def from_csv(cls, path: Path) -> Lexicon:
        entries: dict[str, list[tuple[str, float]]] = {}
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                term = (row.get("term") or "").strip()
                if term and not term.startswith("#"):
                    entries.setdefault(row["label"].strip(), []).append(
                        (term, float(row.get("weight") or 1.0))
                    )
        return cls(entries)

    def relabelled(self, mapping: dict[str, str]) -> Lexicon:
        """The same lexicon keyed by other label strings (codes → the Chinese names a CSV uses)."""
        return Lexicon({mapping[label]: terms for label, terms in self.entries.items() if label in mapping})


_shared_indexes: dict[str, tuple[dict, dict]] = {}
_shared_lock = threading.Lock()


def _shared_index(words: list[str], chars: list[str], idf: np.ndarray) -> tuple[str, dict, dict]:
    """(vocabulary id, word index, char index); identical vocabularies share one pair of dicts."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\n".join(words).encode())
    digest.update(b"\0")
    digest.update("\n".join(chars).encode())
    digest.update(np.ascontiguousarray(idf, dtype=np.float32).tobytes())
    key = digest.hexdigest()
    with _shared_lock:
        if key not in _shared_indexes:
            offset = len(words)
            _shared_indexes[key] = (
                {word: i for i, word in enumerate(words)},
                {gram: offset + i for i, gram in enumerate(chars)},
            )
        word_index, char_index = _shared_indexes[key]
    return key, word_index, char_index


class Vectorizer:
    """Text → sparse vector: sublinear TF-IDF of word and char n-grams (each block L2-normalised, the char block
    scaled by `char_weight`), then one feature per label whose lexicon terms occur, valued
    `lexicon_weight · log(1 + Σ term weights)`."""

    def __init__(
        self,
        config: FeatureConfig,
        words: list[str],
        chars: list[str],
        idf: np.ndarray,
        lexicon: Lexicon | None = None,
        lexicon_labels: list[str] | None = None,
    ):
        self.config = config
        self.words = words
        self.chars = chars
        self.idf = np.asarray(idf, dtype=np.float32)
        self.lexicon = lexicon if lexicon else None
        self.lexicon_labels = list(lexicon_labels or []) if self.lexicon else []
        self.vocabulary_id, self.word_index, self.char_index = _shared_index(words, chars, self.idf)
        offset = len(words) + len(chars)
        self.lexicon_index = {label: offset + i for i, label in enumerate(self.lexicon_labels)}
        self.n_features = offset + len(self.lexicon_labels)

    def _block(self, counts: Counter, index: dict) -> tuple[np.ndarray, np.ndarray]:
        positions = np.fromiter(map(index.get, counts.keys(), repeat(-1)), dtype=np.int64, count=len(counts))
        known = positions >= 0
        positions = positions[known]
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))[known]
        values = (1.0 + np.log(tf)) * self.idf[positions]
        norm = float(np.sqrt(values @ values))
        return positions, (values / norm if norm > 0 else values)

    def base_vector(self, features: TextFeatures) -> tuple[np.ndarray, np.ndarray, int]:
        """(indices, values, number of word values) with both blocks at weight 1, cached on `features`."""
        cached = features.vectors.get(self.vocabulary_id)
        if cached is None:
            word_positions, word_values = self._block(features.words, self.word_index)
            char_positions, char_values = self._block(features.chars, self.char_index)
            cached = (
                np.concatenate([word_positions, char_positions]),
                np.concatenate([word_values, char_values]).astype(np.float32),
                len(word_positions),
            )
            features.vectors[self.vocabulary_id] = cached
        return cached

    def transform_one(self, features: TextFeatures) -> tuple[np.ndarray, np.ndarray, dict]:
        indices, values, n_words = self.base_vector(features)
        if self.config.char_weight != 1.0:
            values = values.copy()
            values[n_words:] *= self.config.char_weight
        hits: dict = {}
        if self.lexicon is not None:
            hits = self.lexicon.hits(features.text)
            extra = [
                (self.lexicon_index[label], terms)
                for label, terms in hits.items()
                if label in self.lexicon_index
            ]
            if extra:
                indices = np.concatenate(
                    [indices, np.array([position for position, _ in extra], dtype=np.int64)]
                )
                weights = [
                    self.config.lexicon_weight * math.log1p(sum(w for _, w in terms)) for _, terms in extra
                ]
                values = np.concatenate([values, np.array(weights, dtype=np.float32)])
        return indices, values, hits

    def transform_many(self, texts: Iterable[str]):
        """A scipy CSR matrix (float32) of many texts; scipy is only needed for training and evaluation."""
        from scipy import sparse

        indptr = [0]
        index_chunks: list[np.ndarray] = []
        value_chunks: list[np.ndarray] = []
        for text in texts:
            row_indices, row_values, _ = self.transform_one(text_features(text, self.config))
            index_chunks.append(row_indices)
            value_chunks.append(row_values)
            indptr.append(indptr[-1] + len(row_indices))
        indices = (
            np.concatenate(index_chunks).astype(np.int32) if index_chunks else np.zeros(0, dtype=np.int32)
        )
        values = (
            np.concatenate(value_chunks).astype(np.float32) if value_chunks else np.zeros(0, dtype=np.float32)
        )
        return sparse.csr_matrix(
            (values, indices, np.asarray(indptr, dtype=np.int64)), shape=(len(indptr) - 1, self.n_features)
        )
