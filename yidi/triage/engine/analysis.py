"""`analyse(text, context=…)`: every suggestion the engine makes for one text, in one JSON-ready object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from yidi.core.taxonomies import MAPPINGS, TAXONOMY_BY_CODE, label_name
from yidi.triage.engine import registry
from yidi.triage.engine.duplicates import DuplicateCandidate, DuplicateMatch, DuplicateQuery, rank_duplicates
from yidi.triage.engine.extract import Facts, extract
from yidi.triage.engine.features import TextFeatures, text_features
from yidi.triage.engine.grading import Grade, grade
from yidi.triage.engine.model import Classifier, LinearTextModel, Prediction

ENGINE_VERSION = "1.0"


class TriageInputError(ValueError):
    """Input the engine cannot analyse; `message` is Chinese and may be shown to the user."""

    code = "triage_input"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TriageContext:
    """What the caller knows beyond the text.

    - `county_code`: the county whose township and village names are matched (6 digits, e.g. "330681");
    - `reference_on`: the day the matter was received; resolves 昨天/去年腊月 and drives the 春节 signal;
    - `repeat_contact_count`, `prior_police_calls`: from the person index and the matter's contacts;
    - `party_keys`, `respondent_keys`, `place_code`, `candidates`: for duplicate ranking (the caller looks the
      candidates up by LSH key, party, respondent and place and builds `DuplicateCandidate`s);
    - `taxonomies`: classify only these (default: every active model);
    - `models`: classifiers to use instead of the active ones, by taxonomy (e.g. a model being evaluated).
    """

    county_code: str | None = None
    reference_on: date | None = None
    repeat_contact_count: int = 0
    prior_police_calls: int = 0
    party_keys: frozenset[str] = frozenset()
    respondent_keys: frozenset[str] = frozenset()
    place_code: str | None = None
    candidates: tuple[DuplicateCandidate, ...] = ()
    taxonomies: tuple[str, ...] | None = None
    models: Mapping[str, Classifier] = field(default_factory=dict)


@dataclass(frozen=True)
class DerivedLabel:
    """A label proposed through the mapping table of `yidi.core.taxonomies` (综治 type from 人民调解 type)."""

    label: str | None
    name: str | None
    confidence: float
    derived_from: str
    alternatives: tuple = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        return (f"由{TAXONOMY_BY_CODE[self.derived_from].name}映射",) if self.label else ()

    @property
    def model_version(self) -> str:
        return f"mapping:{self.derived_from}"

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "name": self.name,
            "confidence": round(self.confidence, 4),
            "alternatives": [],
            "reasons": list(self.reasons),
            "model_version": self.model_version,
            "derived_from": self.derived_from,
        }


@dataclass(frozen=True)
class Analysis:
    text_length: int
    classified_length: int
    labels: dict[str, Prediction | DerivedLabel]
    grade: Grade
    facts: Facts
    duplicates: tuple[DuplicateMatch, ...] = ()
    notes: tuple[str, ...] = ()
    engine_version: str = ENGINE_VERSION

    @property
    def truncated(self) -> bool:
        return self.classified_length < self.text_length

    def to_dict(self) -> dict:
        labels = {}
        for taxonomy, prediction in self.labels.items():
            entry = prediction.to_dict()
            spec = TAXONOMY_BY_CODE.get(taxonomy)
            entry["taxonomy_name"] = spec.name if spec else taxonomy
            labels[taxonomy] = entry
        return {
            "engine_version": self.engine_version,
            "text_length": self.text_length,
            "classified_length": self.classified_length,
            "truncated": self.truncated,
            "notes": list(self.notes),
            "labels": labels,
            "grade": self.grade.to_dict(),
            "facts": self.facts.to_dict(),
            "duplicates": [match.to_dict() for match in self.duplicates],
        }


def _classifiers(context: TriageContext) -> dict[str, Classifier]:
    classifiers: dict[str, Classifier] = dict(registry.active_models())
    classifiers.update(context.models)
    if context.taxonomies is not None:
        classifiers = {t: classifiers[t] for t in context.taxonomies if t in classifiers}
    return classifiers


def classify(text: str, taxonomy: str = "mediation_type") -> Prediction:
    """The active model's suggestion for one taxonomy."""
    _check(text)
    model = registry.get_model(taxonomy)
    if model is None:
        raise TriageInputError(f"没有可用的 {taxonomy} 分类模型")
    return model.classify(text)


def _check(text: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not text.strip():
        raise TriageInputError("文本为空：请输入纠纷或诉求的描述")


def analyse(text: str, *, context: TriageContext | None = None) -> Analysis:
    """Classify, grade, extract facts and rank duplicates for one text.

    Rules:
    - an empty or whitespace-only text raises `TriageInputError`;
    - classification reads at most each model's `max_chars` (3,000 by default) and says so in `notes`;
      extraction and grading read the whole text (all patterns are linear in its length);
    - the 综治 type is derived from the 人民调解 type through the mapping table, when that type applies;
    - duplicates are ranked only when the caller passes candidates.
    """
    _check(text)
    context = context or TriageContext()
    notes: list[str] = []
    features_by_config: dict[tuple, TextFeatures] = {}
    labels: dict[str, Prediction | DerivedLabel] = {}
    classified_length = len(text)
    for taxonomy, classifier in _classifiers(context).items():
        if isinstance(classifier, LinearTextModel):
            config = classifier.config
            if config.text_key not in features_by_config:
                features_by_config[config.text_key] = text_features(text, config)
            classified_length = min(classified_length, config.max_chars)
            labels[taxonomy] = classifier.classify_features(features_by_config[config.text_key])
        else:
            labels[taxonomy] = classifier.classify(text)
    if classified_length < len(text):
        notes.append(
            f"文本共 {len(text)} 字，分类只使用前 {classified_length} 字；事实提取和风险评级使用全文"
        )
    mediation = labels.get("mediation_type")
    if isinstance(mediation, Prediction) and "zongzhi_type" not in labels:
        mapped = (
            MAPPINGS[("mediation_type", "zongzhi_type")].get(mediation.label) if mediation.label else None
        )
        labels["zongzhi_type"] = DerivedLabel(
            mapped,
            label_name("zongzhi_type", mapped) if mapped else None,
            mediation.confidence,
            "mediation_type",
        )
    facts = extract(text, county_code=context.county_code, reference_on=context.reference_on)
    grading = grade(
        text,
        facts,
        repeat_contact_count=context.repeat_contact_count,
        prior_police_calls=context.prior_police_calls,
        reference_on=context.reference_on,
        labels={t: p.label for t, p in labels.items()},
    )
    duplicates: tuple[DuplicateMatch, ...] = ()
    if context.candidates:
        place = context.place_code or next((p.code for p in facts.places if p.level == "village"), None)
        place = place or next((p.code for p in facts.places), None)
        query = DuplicateQuery(text, context.party_keys, context.respondent_keys, place, context.reference_on)
        duplicates = tuple(rank_duplicates(query, context.candidates))
    if not labels:
        notes.append("没有可用的分类模型，只做了评级和事实提取")
    return Analysis(len(text), classified_length, labels, grading, facts, duplicates, tuple(notes))
