"""Routing: which level and unit handle a matter, from an ordered decision table (pure, no Django).

Rules:
- Rules are data, edited by admins. The active rules are tried by `order` (then id); the first rule whose
  conditions all hold wins. A matter that no rule matches is not lost: `matched=False` with the reason
  无匹配规则, and the caller puts it in the dispatcher queue (待分派).
- A condition left empty (empty set, None) matches anything. A set condition holds when the fact is in the
  set; `region_prefix` holds when the region code starts with it; ranges are half-open,
  `min <= value < max`, so tiers like [0, 100000) and [100000, ∞) never overlap. A fact that is unknown
  (None) fails every condition on it.
- The lead unit is a unit code, or a selector that the caller resolves from the matter's region and the
  responsibility list: `centre`, `township_platform_of_region`, `village_committee_of_region`, or
  `department:<function>` (e.g. `department:human_resources_social_security`, the 人社局).
- `compile_rules()` turns the table into per-condition bitmasks once, so `route()` does a few dictionary
  look-ups and integer ANDs whatever the number of rules.
- `find_overlaps()` names the pairs of rules that can match the same matter (the later one is shadowed,
  fully or partly), so the admin sees a warning (`overlap_messages()`).
- `rule_from_dict()` is the one parser of a rule's JSON form (file, admin form, actions, database rows): a
  bad key raises `RuleFormatError` naming it, with a Chinese message for admins.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from yidi.core.taxonomies import MEDIATION_TYPE, REQUEST_TYPE

DEFAULT_RULES_PATH = Path(__file__).parent / "data" / "default_rules.json"
NO_MATCH_REASON = "无匹配规则"


class Grade(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


class Complexity(StrEnum):
    SIMPLE = "simple"  # 简单
    COMPLEX = "complex"  # 复杂
    DIFFICULT = "difficult"  # 疑难


class HandlingLevel(StrEnum):
    VILLAGE = "village"
    TOWNSHIP = "township"
    COUNTY = "county"


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Selector(StrEnum):
    CENTRE = "centre"
    TOWNSHIP_PLATFORM_OF_REGION = "township_platform_of_region"
    VILLAGE_COMMITTEE_OF_REGION = "village_committee_of_region"


DEPARTMENT_SELECTOR_PREFIX = "department:"

GRADE_LABELS = {Grade.RED: "红", Grade.ORANGE: "橙", Grade.YELLOW: "黄", Grade.BLUE: "蓝"}
COMPLEXITY_LABELS = {Complexity.SIMPLE: "简单", Complexity.COMPLEX: "复杂", Complexity.DIFFICULT: "疑难"}
LEVEL_LABELS = {
    "province": "省级",
    "city": "市级",
    "county": "县级",
    "township": "乡镇（街道）级",
    "village": "村（社区）级",
}
SELECTOR_LABELS = {
    Selector.CENTRE: "县矛调中心",
    Selector.TOWNSHIP_PLATFORM_OF_REGION: "属地乡镇（街道）综治工作平台",
    Selector.VILLAGE_COMMITTEE_OF_REGION: "属地村（社区）调委会",
}


def is_selector(value: str) -> bool:
    return value in Selector.__members__.values() or (
        value.startswith(DEPARTMENT_SELECTOR_PREFIX) and len(value) > len(DEPARTMENT_SELECTOR_PREFIX)
    )


@dataclass(frozen=True)
class UnitRef:
    """A unit: either a unit code, or a selector resolved by the caller (exactly one is set)."""

    unit_code: str | None = None
    selector: str | None = None

    def __post_init__(self) -> None:
        if (self.unit_code is None) == (self.selector is None):
            raise ValueError("a unit reference needs exactly one of unit_code and selector")
        if self.selector is not None and not is_selector(self.selector):
            raise ValueError(f"unknown selector {self.selector!r}")

    def label(self) -> str:
        if self.unit_code is not None:
            return f"单位 {self.unit_code}"
        assert self.selector is not None
        if self.selector.startswith(DEPARTMENT_SELECTOR_PREFIX):
            return f"职能部门（{self.selector.removeprefix(DEPARTMENT_SELECTOR_PREFIX)}）"
        return SELECTOR_LABELS[Selector(self.selector)]


@dataclass(frozen=True)
class Facts:
    """What routing knows about a matter; None = unknown."""

    dispute_type: str | None = None
    grade: str | None = None
    complexity: str | None = None
    region_code: str | None = None
    region_level: str | None = None
    channel: str | None = None
    request_type: str | None = None
    amount: Decimal | None = None
    people: int | None = None


@dataclass(frozen=True)
class RoutingRule:
    id: str
    order: int
    handling_level: HandlingLevel
    lead: UnitRef
    co_units: tuple[UnitRef, ...] = ()
    policy_id: str | None = None  # None: the deadline policy is chosen by `workflow.domain.select_policy`
    name: str = ""
    active: bool = True
    # conditions (empty = any)
    dispute_types: frozenset[str] = frozenset()
    grades: frozenset[Grade] = frozenset()
    complexities: frozenset[Complexity] = frozenset()
    region_prefix: str | None = None
    region_levels: frozenset[RegionLevel] = frozenset()
    channels: frozenset[str] = frozenset()
    request_types: frozenset[str] = frozenset()
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    people_min: int | None = None
    people_max: int | None = None

    def __post_init__(self) -> None:
        for name in _SET_CONDITIONS:
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        object.__setattr__(self, "grades", frozenset(Grade(g) for g in self.grades))
        object.__setattr__(self, "complexities", frozenset(Complexity(c) for c in self.complexities))
        object.__setattr__(self, "region_levels", frozenset(RegionLevel(r) for r in self.region_levels))
        object.__setattr__(self, "handling_level", HandlingLevel(self.handling_level))
        if self.region_prefix == "":
            object.__setattr__(self, "region_prefix", None)
        for low, high in (("amount_min", "amount_max"), ("people_min", "people_max")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and not lo < hi:
                raise ValueError(f"rule {self.id}: {low} ({lo}) must be < {high} ({hi})")

    def matches(self, facts: Facts) -> bool:
        """The plain reading of the conditions (the compiled engine must agree with it)."""
        return (
            _in(self.dispute_types, facts.dispute_type)
            and _in(self.grades, facts.grade)
            and _in(self.complexities, facts.complexity)
            and _in(self.region_levels, facts.region_level)
            and _in(self.channels, facts.channel)
            and _in(self.request_types, facts.request_type)
            and (
                self.region_prefix is None
                or (facts.region_code is not None and facts.region_code.startswith(self.region_prefix))
            )
            and _in_range(self.amount_min, self.amount_max, facts.amount)
            and _in_range(self.people_min, self.people_max, facts.people)
        )

    def condition_reasons(self) -> list[str]:
        """The rule's conditions in Chinese, one per line."""
        reasons = []
        if self.dispute_types:
            reasons.append(
                "纠纷类型属于：" + "、".join(_dispute_label(d) for d in sorted(self.dispute_types))
            )
        if self.grades:
            reasons.append(
                "风险等级属于：" + "、".join(GRADE_LABELS[g] for g in _ordered(Grade, self.grades))
            )
        if self.complexities:
            labels = (COMPLEXITY_LABELS[c] for c in _ordered(Complexity, self.complexities))
            reasons.append("复杂程度属于：" + "、".join(labels))
        if self.region_prefix is not None:
            reasons.append(f"属地区划代码以 {self.region_prefix} 开头")
        if self.region_levels:
            levels = (LEVEL_LABELS[r] for r in _ordered(RegionLevel, self.region_levels))
            reasons.append("属地层级属于：" + "、".join(levels))
        if self.channels:
            reasons.append("来源渠道属于：" + "、".join(sorted(self.channels)))
        if self.request_types:
            reasons.append(
                "诉求类型属于：" + "、".join(_request_label(r) for r in sorted(self.request_types))
            )
        if self.amount_min is not None or self.amount_max is not None:
            reasons.append("涉及金额" + _range_text(self.amount_min, self.amount_max, "元"))
        if self.people_min is not None or self.people_max is not None:
            reasons.append("涉及人数" + _range_text(self.people_min, self.people_max, "人"))
        return reasons or ["无条件（兜底规则）"]


_SET_CONDITIONS = ("dispute_types", "grades", "complexities", "region_levels", "channels", "request_types")
# (rule attribute, Facts attribute) for the set conditions
_SET_DIMENSIONS = (
    ("dispute_types", "dispute_type"),
    ("grades", "grade"),
    ("complexities", "complexity"),
    ("region_levels", "region_level"),
    ("channels", "channel"),
    ("request_types", "request_type"),
)
_RANGE_DIMENSIONS = (("amount_min", "amount_max", "amount"), ("people_min", "people_max", "people"))


@dataclass(frozen=True)
class RoutingDecision:
    matched: bool
    rule_id: str | None
    handling_level: HandlingLevel | None
    lead: UnitRef | None
    co_units: tuple[UnitRef, ...]
    policy_id: str | None
    reasons: tuple[str, ...]


NO_MATCH = RoutingDecision(
    matched=False,
    rule_id=None,
    handling_level=None,
    lead=None,
    co_units=(),
    policy_id=None,
    reasons=(NO_MATCH_REASON,),
)


def decision_for(rule: RoutingRule) -> RoutingDecision:
    title = f"命中规则 {rule.id}" + (f"「{rule.name}」" if rule.name else "") + f"（顺序 {rule.order}）"
    outcome = f"由{LEVEL_LABELS[rule.handling_level]}办理，主办：{rule.lead.label()}"
    if rule.co_units:
        outcome += "，协办：" + "、".join(unit.label() for unit in rule.co_units)
    return RoutingDecision(
        matched=True,
        rule_id=rule.id,
        handling_level=rule.handling_level,
        lead=rule.lead,
        co_units=rule.co_units,
        policy_id=rule.policy_id,
        reasons=(title, *rule.condition_reasons(), outcome),
    )


class CompiledRules:
    """The active rules in evaluation order, precompiled into one bitmask per condition value.

    Bit i stands for the i-th rule. For each condition, a fact value maps to the mask of rules that accept
    it (rules without that condition accept everything). ANDing the masks leaves the rules that match; the
    lowest set bit is the first one by order.
    """

    def __init__(self, rules: Iterable[RoutingRule]) -> None:
        self.rules: tuple[RoutingRule, ...] = tuple(
            sorted((rule for rule in rules if rule.active), key=lambda rule: (rule.order, rule.id))
        )
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule ids")
        self.decisions = tuple(decision_for(rule) for rule in self.rules)
        everything = (1 << len(self.rules)) - 1
        self.all_mask = everything

        self.set_masks: list[tuple[str, dict[Any, int], int]] = []
        for rule_attr, fact_attr in _SET_DIMENSIONS:
            any_mask = 0
            by_value: dict[Any, int] = {}
            for i, rule in enumerate(self.rules):
                values = getattr(rule, rule_attr)
                if not values:
                    any_mask |= 1 << i
                for value in values:
                    by_value[str(value)] = by_value.get(str(value), 0) | 1 << i
            by_value = {value: mask | any_mask for value, mask in by_value.items()}
            self.set_masks.append((fact_attr, by_value, any_mask))

        self.prefix_any = 0
        self.prefix_masks: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            if rule.region_prefix is None:
                self.prefix_any |= 1 << i
            else:
                self.prefix_masks[rule.region_prefix] = self.prefix_masks.get(rule.region_prefix, 0) | 1 << i
        self.prefix_lengths = tuple(sorted({len(prefix) for prefix in self.prefix_masks}))

        self.range_masks: list[tuple[str, list[Any], list[int], int]] = []
        for low_attr, high_attr, fact_attr in _RANGE_DIMENSIONS:
            bounded = [
                (i, getattr(rule, low_attr), getattr(rule, high_attr))
                for i, rule in enumerate(self.rules)
                if getattr(rule, low_attr) is not None or getattr(rule, high_attr) is not None
            ]
            any_mask = everything
            for i, _, _ in bounded:
                any_mask &= ~(1 << i)
            points = sorted({bound for _, low, high in bounded for bound in (low, high) if bound is not None})
            # interval k is [points[k-1], points[k]); interval 0 is below points[0]
            masks = []
            for k in range(len(points) + 1):
                mask = any_mask
                for i, low, high in bounded:
                    if k == 0:
                        inside = low is None
                    else:
                        point = points[k - 1]
                        inside = (low is None or low <= point) and (high is None or point < high)
                    if inside:
                        mask |= 1 << i
                masks.append(mask)
            self.range_masks.append((fact_attr, points, masks, any_mask))

    def __len__(self) -> int:
        return len(self.rules)

    def route(self, facts: Facts) -> RoutingDecision:
        mask = self.all_mask
        for fact_attr, by_value, any_mask in self.set_masks:
            value = getattr(facts, fact_attr)
            mask &= any_mask if value is None else by_value.get(value, any_mask)
            if not mask:
                return NO_MATCH
        code = facts.region_code
        prefix_mask = self.prefix_any
        if code is not None:
            masks = self.prefix_masks
            for length in self.prefix_lengths:
                if length > len(code):
                    break
                prefix_mask |= masks.get(code[:length], 0)
        mask &= prefix_mask
        for fact_attr, points, range_masks, any_mask in self.range_masks:
            value = getattr(facts, fact_attr)
            mask &= any_mask if value is None else range_masks[bisect.bisect_right(points, value)]
        if not mask:
            return NO_MATCH
        return self.decisions[(mask & -mask).bit_length() - 1]


def compile_rules(rules: Iterable[RoutingRule]) -> CompiledRules:
    return CompiledRules(rules)


def route(facts: Facts, rules: CompiledRules | Iterable[RoutingRule]) -> RoutingDecision:
    """The decision of the first active rule (by order, then id) that matches, else `matched=False` with
    the reason 无匹配规则. Pass `compile_rules(rules)` when routing many matters."""
    compiled = rules if isinstance(rules, CompiledRules) else CompiledRules(rules)
    return compiled.route(facts)


# --- overlaps -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    earlier_id: str
    later_id: str
    full: bool  # True: every matter the later rule matches goes to the earlier one (the later never fires)
    same_outcome: bool  # True: both rules decide the same (level, lead, co-units, policy), so it is harmless
    message: str


def find_overlaps(rules: Iterable[RoutingRule]) -> list[Overlap]:
    """Pairs of active rules that can both match one matter, earlier rule first (by order, then id).

    Overlaps are legal (the earlier rule wins); a decision table built as a ladder has many partial ones.
    Show `full` overlaps (a rule that can never fire) as errors and partial ones with a different outcome as
    warnings. The check is per condition, so it may report a pair that region codes make impossible (e.g.
    a 12-digit prefix with region level county); it never misses a real overlap.
    """
    ordered = sorted((rule for rule in rules if rule.active), key=lambda rule: (rule.order, rule.id))
    overlaps = []
    for j, later in enumerate(ordered):
        for earlier in ordered[:j]:
            if not _can_both_match(earlier, later):
                continue
            full = _covers(earlier, later)
            if full:
                message = f"规则 {later.id} 被排在前面的规则 {earlier.id} 完全覆盖，永远不会生效。"
            else:
                message = f"规则 {later.id} 与排在前面的规则 {earlier.id} 部分重叠：两者都满足的事项按顺序由 {earlier.id} 处理。"
            same = _outcome(earlier) == _outcome(later)
            overlaps.append(Overlap(earlier.id, later.id, full, same, message))
    return overlaps


def overlap_messages(overlaps: Iterable[Overlap]) -> tuple[list[str], list[str]]:
    """What the admin sees about overlaps, as (errors, warnings).

    - Each full overlap (a rule that can never fire) is an error, with its own message.
    - Partial overlaps with a different outcome are warnings, one per later rule naming every earlier rule
      it shares matters with (a ladder has many; one line per rule keeps them readable).
    - Partial overlaps with the same outcome are harmless and not shown.
    """
    errors = []
    shadowing: dict[str, list[Overlap]] = {}
    for overlap in overlaps:
        if overlap.full:
            errors.append(overlap.message)
        elif not overlap.same_outcome:
            shadowing.setdefault(overlap.later_id, []).append(overlap)
    warnings = []
    for later_id, pairs in shadowing.items():
        if len(pairs) == 1:
            warnings.append(pairs[0].message)
        else:
            earlier = "、".join(pair.earlier_id for pair in pairs)
            warnings.append(
                f"规则 {later_id} 与排在前面的规则 {earlier} 部分重叠：同时满足的事项按顺序由排在前面的规则处理。"
            )
    return errors, warnings


def _outcome(rule: RoutingRule) -> tuple[Any, ...]:
    return rule.handling_level, rule.lead, rule.co_units, rule.policy_id


def _can_both_match(a: RoutingRule, b: RoutingRule) -> bool:
    for attr, _ in _SET_DIMENSIONS:
        sa, sb = getattr(a, attr), getattr(b, attr)
        if sa and sb and not sa & sb:
            return False
    pa, pb = a.region_prefix, b.region_prefix
    if pa is not None and pb is not None and not (pa.startswith(pb) or pb.startswith(pa)):
        return False
    for low_attr, high_attr, _ in _RANGE_DIMENSIONS:
        # [lo_a, hi_a) and [lo_b, hi_b) intersect iff lo_a < hi_b and lo_b < hi_a
        lo_a, hi_a, lo_b, hi_b = (
            getattr(a, low_attr),
            getattr(a, high_attr),
            getattr(b, low_attr),
            getattr(b, high_attr),
        )
        if lo_a is not None and hi_b is not None and not lo_a < hi_b:
            return False
        if lo_b is not None and hi_a is not None and not lo_b < hi_a:
            return False
    return True


def _covers(a: RoutingRule, b: RoutingRule) -> bool:
    """Whether every matter that `b` matches is also matched by `a`."""
    for attr, _ in _SET_DIMENSIONS:
        sa, sb = getattr(a, attr), getattr(b, attr)
        if sa and not (sb and sb <= sa):
            return False
    if a.region_prefix is not None and not (
        b.region_prefix is not None and b.region_prefix.startswith(a.region_prefix)
    ):
        return False
    for low_attr, high_attr, _ in _RANGE_DIMENSIONS:
        lo_a, hi_a, lo_b, hi_b = (
            getattr(a, low_attr),
            getattr(a, high_attr),
            getattr(b, low_attr),
            getattr(b, high_attr),
        )
        if lo_a is not None and (lo_b is None or lo_b < lo_a):
            return False
        if hi_a is not None and (hi_b is None or hi_b > hi_a):
            return False
    return True


# --- data ----------------------------------------------------------------------------------------------


class RuleFormatError(ValueError):
    """A rule's JSON form is wrong.

    `key` is the path of the bad key (`when.grades`, `then.lead.selector`); the message (`str()`) says in
    Chinese what is wrong and names the key, for admins; `detail` says it in English for developers
    (`load_rules` shows it).
    """

    def __init__(self, key: str, message: str, detail: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.detail = detail


RULE_KEYS = ("id", "order", "name", "active", "when", "then")
CONDITION_KEYS = (
    *(attr for attr, _ in _SET_DIMENSIONS),
    "region_prefix",
    "amount_min",
    "amount_max",
    "people_min",
    "people_max",
)
THEN_KEYS = ("handling_level", "lead", "co_units", "policy_id")
UNIT_REF_KEYS = ("unit", "selector")
_ENUM_CONDITIONS: dict[str, type[StrEnum]] = {
    "grades": Grade,
    "complexities": Complexity,
    "region_levels": RegionLevel,
}
_SELECTOR_CHOICES = "、".join([*Selector.__members__.values(), f"{DEPARTMENT_SELECTOR_PREFIX}<职能代码>"])


def unit_ref_from_dict(data: Any, key: str = "unit") -> UnitRef:
    """A unit reference from `{"unit": code}` or `{"selector": ...}`; `key` names it in errors."""
    if not isinstance(data, Mapping):
        raise RuleFormatError(
            key,
            f'“{key}”必须是 JSON 对象，如 {{"selector": "centre"}} 或 {{"unit": "单位代码"}}',
            "a unit reference must be an object",
        )
    _check_keys(data, UNIT_REF_KEYS, key, "unit keys")
    unit, selector = data.get("unit"), data.get("selector")
    if (unit is None) == (selector is None):
        raise RuleFormatError(
            key,
            f"“{key}”必须在 unit（单位代码）和 selector（选择器）中恰好填写一项",
            "a unit reference needs exactly one of unit_code and selector",
        )
    if unit is not None and not (isinstance(unit, str) and unit.strip()):
        raise RuleFormatError(
            f"{key}.unit", f"“{key}.unit”必须是非空的单位代码", "unit must be a non-empty string"
        )
    if selector is not None and not (isinstance(selector, str) and is_selector(selector)):
        raise RuleFormatError(
            f"{key}.selector",
            f"“{key}.selector”的值“{selector}”不是可用的选择器（可用：{_SELECTOR_CHOICES}）",
            f"unknown selector {selector!r}",
        )
    return UnitRef(unit_code=unit, selector=selector)


def rule_from_dict(data: Any) -> RoutingRule:
    """A rule from its JSON form (see `data/default_rules.json`). The one parser of rules: the file loader,
    the admin form and the actions all call it, so they refuse the same things with the same message.

    - Every key is checked; a bad one raises `RuleFormatError` naming it (`when.grades`, `then.lead`).
    - Unknown keys are refused at every level (a typo must not silently widen a rule).
    - Set conditions are lists of strings; grades, complexities and region levels must be known values.
    - Amounts are numbers or numeric strings (kept exact as `Decimal`), not negative; people counts are
      whole numbers, not negative; each minimum is below its maximum.
    """
    if not isinstance(data, Mapping):
        raise RuleFormatError("", "规则必须是 JSON 对象", "a rule must be an object")
    _check_keys(data, RULE_KEYS, "", "rule keys")
    rule_id = data.get("id")
    if not (isinstance(rule_id, str) and rule_id.strip()):
        raise RuleFormatError("id", "“id”（规则代码）必须是非空字符串", "id must be a non-empty string")
    order = data.get("order")
    if isinstance(order, bool) or not isinstance(order, int):
        raise RuleFormatError("order", "“order”（顺序）必须是整数", "order must be an integer")
    name = data.get("name", "")
    if not isinstance(name, str):
        raise RuleFormatError("name", "“name”（名称）必须是字符串", "name must be a string")
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise RuleFormatError("active", "“active”（启用）必须是 true 或 false", "active must be a boolean")

    when = data.get("when")
    if when is None:
        when = {}
    if not isinstance(when, Mapping):
        raise RuleFormatError("when", "“when”（条件）必须是 JSON 对象", "when must be an object")
    _check_keys(when, CONDITION_KEYS, "when", "conditions")
    sets = {attr: _string_set(when, attr) for attr, _ in _SET_DIMENSIONS}
    region_prefix = when.get("region_prefix")
    if region_prefix == "":
        region_prefix = None
    if region_prefix is not None and not (
        isinstance(region_prefix, str) and region_prefix.isascii() and region_prefix.isdigit()
    ):
        raise RuleFormatError(
            "when.region_prefix",
            '“when.region_prefix”必须是区划代码开头的数字，如 "330681109"',
            "region_prefix must be a string of digits",
        )
    amount_min, amount_max = _amount(when, "amount_min"), _amount(when, "amount_max")
    people_min, people_max = _count(when, "people_min"), _count(when, "people_max")
    for low, high, lo, hi in (
        ("amount_min", "amount_max", amount_min, amount_max),
        ("people_min", "people_max", people_min, people_max),
    ):
        if lo is not None and hi is not None and not lo < hi:
            raise RuleFormatError(
                f"when.{low}",
                f"“when.{low}”（{lo}）必须小于“when.{high}”（{hi}）",
                f"{low} ({lo}) must be < {high} ({hi})",
            )

    then = data.get("then")
    if then is None:
        raise RuleFormatError("then", "缺少“then”（处理方式）", "then is missing")
    if not isinstance(then, Mapping):
        raise RuleFormatError("then", "“then”（处理方式）必须是 JSON 对象", "then must be an object")
    _check_keys(then, THEN_KEYS, "then", "then keys")
    level = then.get("handling_level")
    if level not in HandlingLevel.__members__.values():
        choices = "、".join(HandlingLevel.__members__.values())
        raise RuleFormatError(
            "then.handling_level",
            f"“then.handling_level”（处置层级）必须是 {choices} 之一",
            f"{level!r} is not a valid HandlingLevel",
        )
    if "lead" not in then:
        raise RuleFormatError("then.lead", "缺少“then.lead”（主办单位）", "then.lead is missing")
    lead = unit_ref_from_dict(then["lead"], "then.lead")
    co_units = then.get("co_units")
    if co_units is None:
        co_units = []
    if not isinstance(co_units, list | tuple):
        raise RuleFormatError(
            "then.co_units", "“then.co_units”（协办单位）必须是列表", "co_units must be a list"
        )
    policy_id = then.get("policy_id")
    if policy_id is not None and not (isinstance(policy_id, str) and policy_id.strip()):
        raise RuleFormatError(
            "then.policy_id",
            "“then.policy_id”（时限规则）必须是非空字符串或 null",
            "policy_id must be a string",
        )

    return RoutingRule(
        id=rule_id,
        order=order,
        name=name,
        active=active,
        handling_level=HandlingLevel(level),
        lead=lead,
        co_units=tuple(unit_ref_from_dict(unit, f"then.co_units[{i}]") for i, unit in enumerate(co_units)),
        policy_id=policy_id,
        dispute_types=sets["dispute_types"],
        grades=sets["grades"],
        complexities=sets["complexities"],
        region_prefix=region_prefix,
        region_levels=sets["region_levels"],
        channels=sets["channels"],
        request_types=sets["request_types"],
        amount_min=amount_min,
        amount_max=amount_max,
        people_min=people_min,
        people_max=people_max,
    )


def load_rules(path: Path | str = DEFAULT_RULES_PATH) -> list[RoutingRule]:
    """Rules from a JSON file `{"rules": [...]}`; errors name the file, the rule and the bad key."""
    path = Path(path)
    rules = []
    for index, raw in enumerate(json.loads(path.read_text(encoding="utf-8"))["rules"]):
        try:
            rules.append(rule_from_dict(raw))
        except RuleFormatError as exc:
            rule_id = raw.get("id", "?") if isinstance(raw, Mapping) else "?"
            raise ValueError(f"{path}: rules[{index}] ({rule_id}): {exc.key}: {exc.detail}") from exc
    ids = [rule.id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{path}: duplicate rule ids {duplicates}")
    return rules


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], parent: str, noun: str) -> None:
    unknown = sorted(str(key) for key in set(data) - set(allowed))
    if unknown:
        key = f"{parent}.{unknown[0]}" if parent else unknown[0]
        where = f"“{parent}”中" if parent else "规则中"
        raise RuleFormatError(
            key,
            f"{where}有未知的键“{'”“'.join(unknown)}”（可用：{'、'.join(allowed)}）",
            f"unknown {noun} {unknown}",
        )


def _string_set(when: Mapping[str, Any], attr: str) -> frozenset[str]:
    key = f"when.{attr}"
    values = when.get(attr)
    if values is None:
        values = []
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) and v for v in values):
        raise RuleFormatError(
            key, f'“{key}”必须是由代码组成的列表，如 ["a", "b"]', f"{attr} must be a list of strings"
        )
    enum = _ENUM_CONDITIONS.get(attr)
    if enum is not None:
        choices = list(enum.__members__.values())
        for value in values:
            if value not in choices:
                raise RuleFormatError(
                    key,
                    f"“{key}”中的“{value}”不是有效取值（可用：{'、'.join(choices)}）",
                    f"{value!r} is not a valid {enum.__name__}",
                )
    return frozenset(values)


def _amount(when: Mapping[str, Any], attr: str) -> Decimal | None:
    value = when.get(attr)
    if value is None:
        return None
    error = RuleFormatError(
        f"when.{attr}",
        f'“when.{attr}”必须是不小于 0 的金额（元），如 100000 或 "100000.50"',
        f"{attr} must be a number >= 0",
    )
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise error
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise error from None
    if not amount.is_finite() or amount < 0:
        raise error
    return amount


def _count(when: Mapping[str, Any], attr: str) -> int | None:
    value = when.get(attr)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleFormatError(
            f"when.{attr}", f"“when.{attr}”必须是不小于 0 的整数（人）", f"{attr} must be a whole number >= 0"
        )
    return value


# --- helpers -------------------------------------------------------------------------------------------


def _in(values: frozenset[Any], fact: str | None) -> bool:
    return not values or (fact is not None and fact in values)


def _in_range(low: Any, high: Any, value: Any) -> bool:
    if low is None and high is None:
        return True
    return value is not None and (low is None or low <= value) and (high is None or value < high)


def _range_text(low: Any, high: Any, unit: str) -> str:
    if high is None:
        return f"不少于 {low} {unit}"
    if low is None:
        return f"少于 {high} {unit}"
    return f"不少于 {low} {unit}且少于 {high} {unit}"


def _ordered[E: StrEnum](enum: type[E], values: frozenset[E]) -> list[E]:
    return [member for member in enum if member in values]


_DISPUTE_NAMES = dict(MEDIATION_TYPE.labels)
_REQUEST_NAMES = dict(REQUEST_TYPE.labels)


def _dispute_label(code: str) -> str:
    return _DISPUTE_NAMES.get(code, code)


def _request_label(code: str) -> str:
    return _REQUEST_NAMES.get(code, code)
