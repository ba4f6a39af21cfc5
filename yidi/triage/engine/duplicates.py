"""Duplicate and related-matter detection, pure part.

- `lsh_keys(text)`: MinHash-LSH band keys over character 3-gram shingles. The caller stores them in an indexed
  table (key → matter); matters sharing a key are the text-similarity candidates, so a lookup touches a few
  index entries whatever the number of matters. With 16 bands of 4 rows, two texts whose shingle sets have
  Jaccard similarity 0.5 share a key with probability ≈ 0.64, at 0.3 ≈ 0.12, at 0.1 ≈ 0.002.
- `rank_duplicates(query, candidates)`: scores the candidates the caller fetched (by LSH key, party, respondent
  or place) and explains each score in Chinese.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from yidi.triage.engine.text import fold

SHINGLE_SIZE = 3
BANDS = 16
ROWS_PER_BAND = 4
NUM_PERMUTATIONS = BANDS * ROWS_PER_BAND
KEY_VERSION = "m1"  # bump when the shingling or hashing changes, so old keys never match new ones
MAX_CHARS = 5000
_PRIME = (1 << 31) - 1
_rng = np.random.default_rng(1_234_567)
_A = _rng.integers(1, _PRIME, NUM_PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, NUM_PERMUTATIONS, dtype=np.uint64)
_NOISE = re.compile(r"[^0-9A-Za-z\u3400-\u9fff]+")


def _clean(text: str) -> str:
    return _NOISE.sub("", fold(text[:MAX_CHARS]).lower())


def shingles(text: str) -> set[str]:
    return _shingles(_clean(text))


def _shingles(clean: str) -> set[str]:
    if len(clean) <= SHINGLE_SIZE:
        return {clean} if clean else set()
    return {clean[i : i + SHINGLE_SIZE] for i in range(len(clean) - SHINGLE_SIZE + 1)}


def minhash(text: str) -> np.ndarray:
    """NUM_PERMUTATIONS minimum hashes of the text's shingles (deterministic across processes)."""
    return _minhash(shingles(text))


def _minhash(grams: set[str]) -> np.ndarray:
    if not grams:
        return np.full(NUM_PERMUTATIONS, _PRIME, dtype=np.uint64)
    hashes = np.fromiter(
        (zlib.crc32(g.encode("utf-8")) & 0x7FFFFFFF for g in grams), dtype=np.uint64, count=len(grams)
    )
    return ((np.outer(hashes, _A) + _B) % _PRIME).min(axis=0)


def lsh_keys(text: str) -> list[str]:
    """The LSH band keys of a text, e.g. "m1:03:5f2a…" (band 3); empty for a text with no letters or digits."""
    clean = _clean(text)
    if not clean:
        return []
    signature = _minhash(_shingles(clean))
    keys = []
    for band in range(BANDS):
        chunk = signature[band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND].tobytes()
        keys.append(f"{KEY_VERSION}:{band:02d}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


@dataclass(frozen=True)
class DuplicateQuery:
    """The new matter, as the caller knows it."""

    text: str
    party_keys: frozenset[str] = frozenset()  # hashes of the parties' ID numbers, or of name + phone
    respondent_keys: frozenset[str] = frozenset()  # hashes of the respondents (person or organisation)
    place_code: str | None = None  # region code of the matter's place (township 9 or village 12 digits)
    registered_on: date | None = None


@dataclass(frozen=True)
class DuplicateCandidate:
    """An existing matter, built by the caller from its index lookups."""

    id: str | int
    text: str
    party_keys: frozenset[str] = frozenset()
    respondent_keys: frozenset[str] = frozenset()
    place_code: str | None = None
    registered_on: date | None = None


@dataclass(frozen=True)
class DuplicateMatch:
    id: str | int
    score: float
    kind: (
        str  # "duplicate" (the same matter), "related" (same person or respondent, another matter), "similar"
    )
    text_similarity: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "score": round(self.score, 4),
            "kind": self.kind,
            "text_similarity": round(self.text_similarity, 4),
            "reasons": list(self.reasons),
        }


def _bigrams(text: str) -> Counter:
    clean = _clean(text)
    return Counter(clean[i : i + 2] for i in range(len(clean) - 1)) if len(clean) > 1 else Counter(clean)


def text_similarity(a: str, b: str) -> float:
    """Cosine similarity of character-bigram counts (0–1): robust to different lengths and word order."""
    return _cosine(_bigrams(a), _bigrams(b))


def _cosine(x: Counter, y: Counter) -> float:
    if not x or not y:
        return 0.0
    if len(x) > len(y):
        x, y = y, x
    dot = sum(count * y.get(gram, 0) for gram, count in x.items())
    return dot / math.sqrt(sum(v * v for v in x.values()) * sum(v * v for v in y.values()))


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def rank_duplicates(
    query: DuplicateQuery | str,
    candidates: Iterable[DuplicateCandidate],
    *,
    window_days: int = 90,
    min_score: float = 0.3,
    limit: int = 10,
) -> list[DuplicateMatch]:
    """Score and explain candidates, best first.

    Rules:
    - score = 0.55 × text similarity + 0.25 (a shared party) + 0.10 (a shared respondent)
      + 0.07 (same place; 0.035 same township) + 0.03 × time closeness (1 on the same day, 0 at `window_days`);
    - "duplicate": text similarity ≥ 0.6, or ≥ 0.35 with a shared party, respondent or place within the window;
    - "related": a shared party, or a shared respondent at the same place, with less similar text
      (the same person's other matters, or several complaints about one respondent);
    - other candidates are kept as "similar" when their score reaches `min_score`.
    """
    if isinstance(query, str):
        query = DuplicateQuery(text=query)
    query_grams = _bigrams(query.text)
    query_on = _as_date(query.registered_on)
    from yidi.triage.engine.places import place_name

    matches = []
    for candidate in candidates:
        similarity = _cosine(query_grams, _bigrams(candidate.text))
        reasons = [f"文本相似度 {similarity:.2f}"]
        same_party = bool(query.party_keys & candidate.party_keys)
        same_respondent = bool(query.respondent_keys & candidate.respondent_keys)
        place = 0.0
        if query.place_code and candidate.place_code:
            if query.place_code == candidate.place_code:
                place = 1.0
                reasons.append(f"同一地点：{place_name(query.place_code) or query.place_code}")
            elif len(query.place_code) >= 9 and query.place_code[:9] == candidate.place_code[:9]:
                place = 0.5
                reasons.append(
                    f"同一乡镇（街道）：{place_name(query.place_code[:9]) or query.place_code[:9]}"
                )
        if same_party:
            reasons.append("当事人相同（证件号或姓名加电话一致）")
        if same_respondent:
            reasons.append("被反映对象相同")
        closeness = 0.0
        within_window = True
        candidate_on = _as_date(candidate.registered_on)
        if query_on and candidate_on:
            gap = abs((query_on - candidate_on).days)
            closeness = max(0.0, 1 - gap / window_days)
            within_window = gap <= window_days
            reasons.append(
                f"登记时间相隔 {gap} 天" + ("" if within_window else f"（超出 {window_days} 天时间窗）")
            )
        score = (
            0.55 * similarity + 0.25 * same_party + 0.10 * same_respondent + 0.07 * place + 0.03 * closeness
        )
        if similarity >= 0.6 or (
            similarity >= 0.35 and (same_party or same_respondent or place) and within_window
        ):
            kind = "duplicate"
        elif same_party or (same_respondent and place):
            kind = "related"
        elif score >= min_score:
            kind = "similar"
        else:
            continue
        matches.append(DuplicateMatch(candidate.id, min(1.0, score), kind, similarity, tuple(reasons)))
    matches.sort(key=lambda m: (-m.score, str(m.id)))
    return matches[:limit]
