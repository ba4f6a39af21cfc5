"""Risk grading (红/橙/黄/蓝) and complexity (简单/复杂/疑难) from explicit signal rules kept as data.

The rules file (`data/grading_rules.json`, overridable per deployment) lists signals; each has a code, a Chinese
name, a weight and a kind:
- `people_count` / `amount`: the largest extracted count or amount is within [min, max);
- `phrases`: one of the phrases occurs in the text, not directly preceded by a negation (没有打起来), or one
  of the optional regular expressions in `patterns` matches ("拖欠…工资" with words in between);
- `context`: a number the caller passes (repeat contacts, earlier police calls) is ≥ min, or one of the
  optional phrases occurs in the text;
- `festival_period`: the signal named in `requires` fired and the reference date lies within
  `days_before`/`days_after` of 春节, or the text itself speaks of 过年/春节/年关.

Rules:
- the score is the sum of the weights of the signals that fired (each signal counts once);
- the grade is the highest grade whose `min_score` the score reaches, raised to any signal's `grade_floor`;
- the complexity likewise, raised by `complexity_floor` and by `label_complexity_floor` for the predicted labels;
- the handling level follows the complexity: simple → village, complex → township, difficult → county.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from yidi.triage.engine import resources
from yidi.triage.engine.extract import Facts
from yidi.triage.engine.text import PhraseMatcher

RULES_FORMAT_VERSION = 1
GRADE_ORDER = ("blue", "yellow", "orange", "red")
COMPLEXITY_ORDER = ("simple", "complex", "difficult")
_FESTIVAL_WORDS = ("过年", "春节", "年前", "年关", "年底", "回家过年", "过个好年")


class GradingRulesError(ValueError):
    """The grading rules file is missing, malformed or of another format version."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Signal:
    code: str
    name: str
    weight: int
    source: str  # "text", "facts" or "context"
    spans: tuple[Span, ...] = ()
    value: str | int | None = None  # the count, amount or context number that fired it

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "weight": self.weight,
            "source": self.source,
            "spans": [span.to_dict() for span in self.spans],
            "value": self.value,
        }


@dataclass(frozen=True)
class Grade:
    grade: str
    grade_name: str
    complexity: str
    complexity_name: str
    handling_level: str
    handling_level_name: str
    score: int
    signals: tuple[Signal, ...] = field(default=())
    rules_version: str = ""

    def to_dict(self) -> dict:
        return {
            "grade": self.grade,
            "grade_name": self.grade_name,
            "complexity": self.complexity,
            "complexity_name": self.complexity_name,
            "handling_level": self.handling_level,
            "handling_level_name": self.handling_level_name,
            "score": self.score,
            "rules_version": self.rules_version,
            "signals": [signal.to_dict() for signal in self.signals],
        }


@dataclass(frozen=True)
class GradingRules:
    version: str
    signals: tuple[dict, ...]
    grades: tuple[dict, ...]
    complexity: tuple[dict, ...]
    label_complexity_floor: dict
    handling_level: dict
    handling_level_names: dict
    negation_prefixes: tuple[str, ...]
    matcher: PhraseMatcher
    patterns: tuple[tuple[str, re.Pattern], ...]

    @classmethod
    def from_dict(cls, raw: dict) -> GradingRules:
        if raw.get("format_version") != RULES_FORMAT_VERSION:
            raise GradingRulesError(
                f"评级规则文件格式版本为 {raw.get('format_version')!r}，本程序只支持 {RULES_FORMAT_VERSION}"
            )
        try:
            signals = tuple(raw["signals"])
            phrases: dict[str, list[str]] = {}
            patterns = []
            for signal in signals:
                for pattern in signal.get("patterns", ()):
                    try:
                        patterns.append((signal["code"], re.compile(pattern)))
                    except re.error as error:
                        raise GradingRulesError(
                            f"评级规则 {signal['code']} 的正则表达式有误：{error}"
                        ) from None
                for phrase in signal.get("phrases", ()):
                    phrases.setdefault(phrase, []).append(signal["code"])
                for key in ("code", "name", "kind", "weight"):
                    if key not in signal:
                        raise GradingRulesError(f"评级规则缺少字段 {key}：{signal}")
            return cls(
                version=str(raw.get("version", "")),
                signals=signals,
                grades=tuple(sorted(raw["grades"], key=lambda g: -g["min_score"])),
                complexity=tuple(sorted(raw["complexity"], key=lambda c: -c["min_score"])),
                label_complexity_floor=raw.get("label_complexity_floor", {}),
                handling_level=raw["handling_level"],
                handling_level_names=raw.get("handling_level_names", {}),
                negation_prefixes=tuple(raw.get("negation_prefixes", ())),
                matcher=PhraseMatcher(phrases.items()),
                patterns=tuple(patterns),
            )
        except (KeyError, TypeError) as error:
            raise GradingRulesError(f"评级规则文件不完整：缺少 {error}") from None


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> GradingRules:
    """The grading rules from `path`, else from `resources.grading_rules_file()`; cached per path."""
    rules_path = Path(path) if path else resources.grading_rules_file()
    try:
        raw = json.loads(rules_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GradingRulesError(f"无法读取评级规则文件 {rules_path}：{error}") from None
    return GradingRules.from_dict(raw)


def _phrase_hits(text: str, rules: GradingRules) -> dict[str, list[Span]]:
    hits: dict[str, list[Span]] = {}
    for start, end, phrase, codes in rules.matcher.finditer(text):
        if any(text.startswith(prefix, max(0, start - len(prefix))) and start >= len(prefix)
               for prefix in rules.negation_prefixes):  # fmt: skip
            continue
        for code in codes:
            hits.setdefault(code, []).append(Span(start, end, phrase))
    for code, pattern in rules.patterns:
        for match in pattern.finditer(text):
            spans = hits.setdefault(code, [])
            if not any(s.start < match.end() and match.start() < s.end for s in spans):
                spans.append(Span(match.start(), match.end(), match.group(0)))
    return hits


def _nearest_festival_gap(day: date) -> int | None:
    """Days from the nearest 春节 to `day` (negative: before it)."""
    festivals = resources.lunar_new_year_dates()
    gaps = [(day - festival).days for year, festival in festivals.items() if abs(year - day.year) <= 1]
    return min(gaps, key=abs) if gaps else None


def grade(
    text: str,
    facts: Facts,
    *,
    repeat_contact_count: int = 0,
    prior_police_calls: int = 0,
    reference_on: date | None = None,
    labels: dict[str, str | None] | None = None,
    rules: GradingRules | None = None,
) -> Grade:
    """Grade one matter from its text, its extracted facts, the caller's context and its predicted labels."""
    rules = rules or load_rules()
    hits = _phrase_hits(text, rules)
    context_values = {"repeat_contact_count": repeat_contact_count, "prior_police_calls": prior_police_calls}
    fired: list[Signal] = []
    fired_codes: set[str] = set()
    for rule in rules.signals:
        signal = _evaluate(rule, hits, facts, context_values, reference_on, text, fired_codes)
        if signal is not None:
            fired.append(signal)
            fired_codes.add(signal.code)
    score = sum(signal.weight for signal in fired)
    floors = {rule["code"]: rule for rule in rules.signals if rule["code"] in fired_codes}
    grade_code = next(g["grade"] for g in rules.grades if score >= g["min_score"])
    for rule in floors.values():
        if "grade_floor" in rule and GRADE_ORDER.index(rule["grade_floor"]) > GRADE_ORDER.index(grade_code):
            grade_code = rule["grade_floor"]
    complexity = next(c["complexity"] for c in rules.complexity if score >= c["min_score"])
    label_floors = [
        rules.label_complexity_floor.get(taxonomy, {}).get(label)
        for taxonomy, label in (labels or {}).items()
    ]
    for floor in [rule.get("complexity_floor") for rule in floors.values()] + label_floors:
        if floor and COMPLEXITY_ORDER.index(floor) > COMPLEXITY_ORDER.index(complexity):
            complexity = floor
    level = rules.handling_level[complexity]
    return Grade(
        grade=grade_code,
        grade_name=next(g.get("name", g["grade"]) for g in rules.grades if g["grade"] == grade_code),
        complexity=complexity,
        complexity_name=next(
            c.get("name", c["complexity"]) for c in rules.complexity if c["complexity"] == complexity
        ),
        handling_level=level,
        handling_level_name=rules.handling_level_names.get(level, level),
        score=score,
        signals=tuple(fired),
        rules_version=rules.version,
    )


def _evaluate(rule, hits, facts: Facts, context_values, reference_on, text, fired_codes) -> Signal | None:
    kind = rule["kind"]
    base = {"code": rule["code"], "name": rule["name"], "weight": int(rule["weight"])}
    if kind == "people_count":
        top = max(facts.people, key=lambda p: p.value, default=None)
        if top and top.value >= rule["min"] and ("max" not in rule or top.value < rule["max"]):
            return Signal(
                **base, source="facts", spans=(Span(top.start, top.end, top.text),), value=top.value
            )
        return None
    if kind == "amount":
        top = max(facts.amounts, key=lambda a: a.value, default=None)
        if (
            top
            and top.value >= Decimal(rule["min"])
            and ("max" not in rule or top.value < Decimal(rule["max"]))
        ):
            return Signal(
                **base, source="facts", spans=(Span(top.start, top.end, top.text),), value=str(top.value)
            )
        return None
    if kind == "phrases":
        spans = hits.get(rule["code"])
        return Signal(**base, source="text", spans=tuple(spans)) if spans else None
    if kind == "context":
        value = int(context_values.get(rule["field"], 0) or 0)
        spans = hits.get(rule["code"])
        if value >= rule["min"]:
            return Signal(**base, source="context", spans=tuple(spans or ()), value=value)
        if spans:
            return Signal(**base, source="text", spans=tuple(spans))
        return None
    if kind == "festival_period":
        if rule["requires"] not in fired_codes:
            return None
        words = [Span(i, i + len(w), w) for w in _FESTIVAL_WORDS for i in _find_all(text, w)]
        if words:
            return Signal(**base, source="text", spans=tuple(sorted(words, key=lambda s: s.start)[:3]))
        if reference_on is not None:
            gap = _nearest_festival_gap(reference_on)
            if gap is not None and -rule["days_before"] <= gap <= rule["days_after"]:
                required = hits.get(rule["requires"], [])
                return Signal(
                    **base, source="context", spans=tuple(required[:1]), value=reference_on.isoformat()
                )
        return None
    raise GradingRulesError(f"未知的信号类型 {kind!r}（{rule['code']}）")


def _find_all(text: str, word: str, limit: int = 3) -> list[int]:
    found = []
    start = text.find(word)
    while start >= 0 and len(found) < limit:
        found.append(start)
        start = text.find(word, start + len(word))
    return found


def is_festival_period(day: date, *, days_before: int = 60, days_after: int = 15) -> bool:
    gap = _nearest_festival_gap(day)
    return gap is not None and -days_before <= gap <= days_after


__all__ = ["Grade", "GradingRules", "GradingRulesError", "Signal", "Span", "grade", "load_rules", "timedelta"]
