"""Routing speed: `route()` with 500 rules must make >= 20,000 decisions/s (issue 4).

Run: `python bench/bench_routing.py` (prints a table). `run()` returns the figures as dicts with keys
figure, value, unit, floor, ratio, target.

The floor: a loop over the same 500 rules that does nothing but read one attribute of each rule, i.e.
the fastest conceivable "look at every rule once" router. A linear router cannot beat it. The compiled
router does not look at every rule (it ANDs one precomputed bitmask per condition), so its ratio to the
floor is above 1; the plain linear reading (`RoutingRule.matches` rule by rule) is shown for comparison.
The rules and matters are generated deterministically: many narrow rules (dispute type x region x grade
x ranges) in front of the default ladder, so most matters pass hundreds of rules before one fires.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from yidi.core.taxonomies import MEDIATION_TYPE, REQUEST_TYPE
from yidi.routing.domain import (
    Complexity,
    Facts,
    Grade,
    HandlingLevel,
    RegionLevel,
    RoutingRule,
    UnitRef,
    compile_rules,
    find_overlaps,
    load_rules,
)

RULE_COUNT = 500
TARGET_DECISIONS_PER_S = 20_000
DISPUTES = [code for code, _ in MEDIATION_TYPE.labels]
REQUESTS = [code for code, _ in REQUEST_TYPE.labels]
CHANNELS = ["window", "online", "hotline_12345", "grid", "petition", "court_pre_filing"]
TOWNSHIPS = [f"330681{n:03d}" for n in range(100, 124)]  # 诸暨市 towns
GRADES = list(Grade)
COMPLEXITIES = list(Complexity)


def make_rules(count: int = RULE_COUNT) -> list[RoutingRule]:
    """`count` rules: narrow generated ones first, the shipped default ladder last."""
    ladder = load_rules()
    rules = []
    for i in range(count - len(ladder)):
        conditions: dict[str, object] = {
            "dispute_types": frozenset({DISPUTES[i % 15], DISPUTES[(i * 7) % 15]}),
            "region_prefix": TOWNSHIPS[i % len(TOWNSHIPS)] if i % 3 else None,
            "grades": frozenset({GRADES[i % 4]}) if i % 2 else frozenset(),
        }
        if i % 5 == 0:
            conditions["channels"] = frozenset({CHANNELS[i % len(CHANNELS)]})
        if i % 7 == 0:
            conditions["request_types"] = frozenset({REQUESTS[i % len(REQUESTS)]})
        if i % 4 == 0:
            conditions["amount_min"] = Decimal(1000 * (i % 50))
            conditions["amount_max"] = Decimal(1000 * (i % 50) + 20_000)
        if i % 6 == 0:
            conditions["people_min"] = 1 + i % 9
            conditions["people_max"] = 12 + i % 9
        if i % 11 == 0:
            conditions["complexities"] = frozenset({COMPLEXITIES[i % 3]})
        rules.append(
            RoutingRule(
                id=f"gen{i:03d}",
                order=i + 1,
                handling_level=HandlingLevel.TOWNSHIP,
                lead=UnitRef(unit_code=f"unit-{i % 40:02d}"),
                **conditions,  # type: ignore[arg-type]
            )
        )
    return rules + [replace(rule, order=10_000 + rule.order) for rule in ladder]


def make_facts(count: int = 2_000) -> list[Facts]:
    facts = []
    for i in range(count):
        township = TOWNSHIPS[(i * 5) % len(TOWNSHIPS)]
        facts.append(
            Facts(
                dispute_type=DISPUTES[(i * 11) % 15],
                grade=GRADES[(i * 3) % 4],
                complexity=COMPLEXITIES[i % 3] if i % 10 else None,
                region_code=f"{township}{(i % 30) + 200:03d}",
                region_level=RegionLevel.VILLAGE,
                channel=CHANNELS[(i * 7) % len(CHANNELS)],
                request_type=REQUESTS[i % len(REQUESTS)],
                amount=Decimal((i * 7919) % 150_000),
                people=1 + (i * 13) % 40,
            )
        )
    return facts


def no_match_facts(count: int = 2_000) -> list[Facts]:
    """Matters that no rule matches, built so that every condition is evaluated before the last one
    (people) rules out the remaining rules: the compiled router's slowest path."""
    return [
        Facts(
            dispute_type=DISPUTES[i % 6],
            region_code="110101001001",  # outside every prefix
            channel="letter",
            request_type="unknown",
            amount=Decimal(999_999),
            people=100,
        )
        for i in range(count)
    ]


def best_rate(fn: Callable[[], int], repeat: int = 5) -> float:
    """Items per second of the fastest of `repeat` runs of `fn` (which returns the number of items)."""
    best = float("inf")
    items = 0
    for _ in range(repeat):
        started = time.perf_counter()
        items = fn()
        best = min(best, time.perf_counter() - started)
    return items / best


def best_ms(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def run() -> list[dict[str, object]]:
    rules = make_rules()
    compiled = compile_rules(rules)
    facts = make_facts()
    misses = no_match_facts()
    ordered = compiled.rules

    def floor_loop() -> int:
        for _ in facts:
            for rule in ordered:
                rule.active  # noqa: B018 - the floor: one attribute read per rule
        return len(facts)

    def compiled_mixed() -> int:
        for f in facts:
            compiled.route(f)
        return len(facts)

    def compiled_no_match() -> int:
        for f in misses:
            compiled.route(f)
        return len(misses)

    def linear_mixed() -> int:
        subset = facts[:200]
        for f in subset:
            next((rule for rule in ordered if rule.matches(f)), None)
        return len(subset)

    floor = best_rate(floor_loop)
    figures = []

    def add(figure: str, value: float, unit: str, floor_value: float | None, target: float | None) -> None:
        figures.append(
            {
                "figure": figure,
                "value": round(value, 1),
                "unit": unit,
                "floor": None if floor_value is None else round(floor_value, 1),
                "ratio": None if floor_value is None else round(value / floor_value, 2),
                "target": target,
            }
        )

    matched = sum(compiled.route(f).matched for f in facts)
    add(
        f"route() 500 rules, mixed matters ({matched}/{len(facts)} matched)",
        best_rate(compiled_mixed),
        "decisions/s",
        floor,
        TARGET_DECISIONS_PER_S,
    )
    unmatched = sum(not compiled.route(f).matched for f in misses)
    add(
        f"route() 500 rules, no rule matches ({unmatched}/{len(misses)})",
        best_rate(compiled_no_match),
        "decisions/s",
        floor,
        TARGET_DECISIONS_PER_S,
    )
    add("linear reading (RoutingRule.matches), mixed", best_rate(linear_mixed), "decisions/s", floor, None)
    add("compile_rules(500 rules)", best_ms(lambda: compile_rules(rules)), "ms", None, None)
    add("find_overlaps(500 rules)", best_ms(lambda: find_overlaps(rules), repeat=1), "ms", None, None)
    return figures


def main() -> None:
    rows = run()
    print(f"{'figure':<58} {'value':>12} {'unit':<12} {'floor':>12} {'ratio':>7} {'target':>8}")
    for row in rows:
        print(
            f"{row['figure']:<58} {row['value']:>12} {row['unit']:<12} {row['floor']!s:>12} "
            f"{row['ratio']!s:>7} {row['target']!s:>8}"
        )


if __name__ == "__main__":
    main()
