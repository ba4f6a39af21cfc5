"""Reading the routing rules, and turning a rule's decision into the units of one matter.

Rules:
- `active_rules()` compiles the table once per process and reuses it while the table's version is the
  same. The version is (row count, newest `updated_at`, newest revision id), read in one small query per
  call: a change by another process shows up on its next call, and the revision id catches a change whose
  `updated_at` is not the newest (clock skew, frozen time in tests). The actions also call
  `clear_rule_cache()`.
- The matter is a `cases.Case`; routing sits below `cases` in the app order, so it is not imported here.
  Fetch it with `select_related("region", "channel", "primary_type")`: `suggest_route()` then costs one
  query for the version check plus one per unit to resolve (lead and each co-unit).
"""

import logging
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, Subquery

from yidi.accounts.domain import UnitKind
from yidi.accounts.models import Unit
from yidi.routing.domain import (
    DEPARTMENT_SELECTOR_PREFIX,
    CompiledRules,
    Facts,
    HandlingLevel,
    RuleFormatError,
    Selector,
    UnitRef,
    compile_rules,
)
from yidi.routing.models import RoutingRule, RoutingRuleRevision

logger = logging.getLogger(__name__)

COUNTY_CODE_LENGTH, TOWNSHIP_CODE_LENGTH, VILLAGE_CODE_LENGTH, GRID_CODE_LENGTH = 6, 9, 12, 15
TOWNSHIP_PLATFORM_TYPE = "comprehensive_governance"  # 综治工作平台 leads township matters
# Units that `department:<function>` may find: the functional bodies, not the centre, desks or platforms.
DEPARTMENT_KINDS = (
    UnitKind.DEPARTMENT,
    UnitKind.PETITION_BUREAU,
    UnitKind.COURT,
    UnitKind.ARBITRATION,
    UnitKind.POLICE_STATION,
    UnitKind.PROFESSIONAL_MEDIATION,
)

_cache: tuple[tuple, CompiledRules] | None = None


def active_rules() -> CompiledRules:
    """The compiled table of active rules, rebuilt only when the rules have changed."""
    global _cache
    version = _rules_version()
    cached = _cache
    if cached is not None and cached[0] == version:
        return cached[1]
    compiled = compile_rules(_load_active_rules())
    _cache = (version, compiled)
    return compiled


def clear_rule_cache() -> None:
    global _cache
    _cache = None


def _rules_version() -> tuple:
    newest_revision = RoutingRuleRevision.objects.order_by("-pk").values("pk")[:1]
    version = RoutingRule.objects.aggregate(
        count=Count("pk"), updated_at=Max("updated_at"), revision=Max(Subquery(newest_revision))
    )
    return version["count"], version["updated_at"], version["revision"]


def _load_active_rules() -> list:
    rules = []
    for row in RoutingRule.objects.filter(is_active=True):
        try:
            rules.append(row.to_domain())
        except RuleFormatError as error:  # only if the row was written around the actions
            logger.error("routing rule %s is skipped: %s", row.code, error)
    return rules


def facts_for(case) -> Facts:
    """What routing knows about a matter.

    - Dispute type: the 人民调解 type code of the primary type; grade and complexity: None when not set.
    - Region level: the level of the matter's region; a grid counts as its village.
    - Channel: the channel's group (the four 信访 channels are all `petition`).
    """
    level = case.region.level
    return Facts(
        dispute_type=case.primary_type.code if case.primary_type_id else None,
        grade=case.grade or None,
        complexity=case.complexity or None,
        region_code=case.region_id,
        region_level="village" if level == "grid" else level,
        channel=case.channel.group or None,
        request_type=case.request_type or None,
        amount=case.amount_involved,
        people=case.people_involved,
    )


def resolve_unit(ref: UnitRef, case) -> Unit | None:
    """The active unit that a rule's unit reference means for this matter, or None.

    - `unit`: that unit.
    - `centre`: the centre of the matter's county (its first 6 digits).
    - `township_platform_of_region`: the 综治工作 platform of the matter's township (first 9 digits), else
      that township's centre; None if the matter is located above township level.
    - `village_committee_of_region`: the committee of the matter's village (first 12 digits); None if the
      matter is located above village level.
    - `department:<function>`: the unit of a functional kind (department, petition bureau, court …) with
      that function in the matter's region chain (county, township, village); the nearest one wins (a
      township's police station before the county bureau), then the lowest code.
    """
    region_code = case.region_id
    units = Unit.objects.filter(is_active=True)
    if ref.unit_code is not None:
        return units.filter(code=ref.unit_code).first()
    if ref.selector == Selector.CENTRE:
        if len(region_code) < COUNTY_CODE_LENGTH:
            return None
        return (
            units.filter(kind=UnitKind.CENTRE, region_id=region_code[:COUNTY_CODE_LENGTH])
            .order_by("code")
            .first()
        )
    if ref.selector == Selector.TOWNSHIP_PLATFORM_OF_REGION:
        if len(region_code) < TOWNSHIP_CODE_LENGTH:
            return None
        candidates = list(
            units.filter(region_id=region_code[:TOWNSHIP_CODE_LENGTH])
            .filter(
                Q(kind=UnitKind.TOWNSHIP_PLATFORM, platform_type__code=TOWNSHIP_PLATFORM_TYPE)
                | Q(kind=UnitKind.TOWNSHIP_CENTRE)
            )
            .order_by("code")
        )
        platforms = [unit for unit in candidates if unit.kind == UnitKind.TOWNSHIP_PLATFORM]
        return (platforms or candidates or [None])[0]
    if ref.selector == Selector.VILLAGE_COMMITTEE_OF_REGION:
        if len(region_code) < VILLAGE_CODE_LENGTH:
            return None
        village = region_code[:VILLAGE_CODE_LENGTH]
        return units.filter(kind=UnitKind.VILLAGE_COMMITTEE, region_id=village).order_by("code").first()
    assert ref.selector is not None and ref.selector.startswith(DEPARTMENT_SELECTOR_PREFIX)
    function = ref.selector.removeprefix(DEPARTMENT_SELECTOR_PREFIX)
    chain = [
        region_code[:length]
        for length in (COUNTY_CODE_LENGTH, TOWNSHIP_CODE_LENGTH, VILLAGE_CODE_LENGTH, GRID_CODE_LENGTH)
        if len(region_code) >= length
    ]
    candidates = list(units.filter(kind__in=DEPARTMENT_KINDS, function=function, region_id__in=chain))
    candidates.sort(key=lambda unit: (-len(unit.region_id), unit.code))
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class RouteSuggestion:
    """The routing decision for a matter with its units found.

    `needs_dispatcher`: no rule matched (reason 无匹配规则) or the lead unit was not found (see
    `problems`); the caller puts the matter in the dispatcher queue.
    """

    matched: bool
    rule_id: str | None
    handling_level: HandlingLevel | None
    reasons: tuple[str, ...]
    policy_id: str | None
    lead_unit: Unit | None
    co_units: list[Unit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def needs_dispatcher(self) -> bool:
        return self.lead_unit is None


def suggest_route(case) -> RouteSuggestion:
    """Route the matter with the active rules and find its lead and co-units.

    - A unit reference that finds no unit is named in `problems`; a missing co-unit is left out, a
      missing lead leaves `lead_unit` None.
    - A co-unit that is the lead, or is found twice, is listed once (as the lead).
    """
    decision = active_rules().route(facts_for(case))
    if not decision.matched or decision.lead is None:
        return RouteSuggestion(
            matched=False,
            rule_id=None,
            handling_level=None,
            reasons=decision.reasons,
            policy_id=None,
            lead_unit=None,
        )
    problems = []
    lead_unit = resolve_unit(decision.lead, case)
    if lead_unit is None:
        problems.append(_missing_unit_problem(decision.rule_id, "主办单位", decision.lead))
    co_units: list[Unit] = []
    for ref in decision.co_units:
        unit = resolve_unit(ref, case)
        if unit is None:
            problems.append(_missing_unit_problem(decision.rule_id, "协办单位", ref))
        elif unit != lead_unit and unit not in co_units:
            co_units.append(unit)
    return RouteSuggestion(
        matched=True,
        rule_id=decision.rule_id,
        handling_level=decision.handling_level,
        reasons=decision.reasons,
        policy_id=decision.policy_id,
        lead_unit=lead_unit,
        co_units=co_units,
        problems=problems,
    )


def _missing_unit_problem(rule_id: str | None, role: str, ref: UnitRef) -> str:
    if ref.unit_code is not None:
        return f"规则 {rule_id} 指定的{role}（单位代码 {ref.unit_code}）不存在或已停用"
    return f"规则 {rule_id} 指定的{role}“{ref.label()}”在本地没有对应单位"
