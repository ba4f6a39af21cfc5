"""Writes to the routing rules: each one checked by the pure parser, revised and audited in its transaction."""

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_slug
from django.db import transaction

from yidi.accounts.models import Unit
from yidi.audit.actions import record
from yidi.core import clock
from yidi.core.models import TaxonomyLabel
from yidi.core.taxonomies import MEDIATION_TYPE
from yidi.routing.domain import RoutingRule as DomainRule
from yidi.routing.domain import RuleFormatError, rule_from_dict
from yidi.routing.models import RevisionOperation, RoutingRule, RoutingRuleRevision
from yidi.routing.queries import clear_rule_cache

CODE_MAX_LENGTH = RoutingRule._meta.get_field("code").max_length


class RoutingRuleError(ValueError):
    """Bad input to a routing action; the message is Chinese and names the bad key (`key`)."""

    def __init__(self, message: str, *, key: str = "") -> None:
        super().__init__(message)
        self.key = key


def check_rule(data: Any) -> DomainRule:
    """The pure rule for `data` (a rule in its JSON form), or `RoutingRuleError` naming the bad key.

    - `domain.rule_from_dict` checks the shape and every value it can check without the database.
    - The code (`id`) is a slug of at most 60 characters.
    - Dispute types are codes of the 人民调解 type list; a unit given by code exists and is active.
    """
    code = data.get("id") if isinstance(data, Mapping) else None
    prefix = f"分派规则 {code} 有误：" if isinstance(code, str) and code else "分派规则有误："
    try:
        rule = rule_from_dict(data)
    except RuleFormatError as error:
        raise RoutingRuleError(prefix + str(error), key=error.key) from None
    try:
        validate_slug(rule.id)
    except ValidationError:
        raise RoutingRuleError(
            prefix + "“id”（规则代码）只能由字母、数字、下划线和连字符组成", key="id"
        ) from None
    if len(rule.id) > CODE_MAX_LENGTH:
        raise RoutingRuleError(prefix + f"“id”（规则代码）不能超过 {CODE_MAX_LENGTH} 个字符", key="id")
    labels = TaxonomyLabel.objects.filter(taxonomy__code=MEDIATION_TYPE.code, code__in=rule.dispute_types)
    unknown_types = sorted(rule.dispute_types - set(labels.values_list("code", flat=True)))
    if unknown_types:
        raise RoutingRuleError(
            prefix + f"“when.dispute_types”中的“{'”“'.join(unknown_types)}”不是人民调解纠纷类型的代码",
            key="when.dispute_types",
        )
    refs = [("then.lead", rule.lead), *((f"then.co_units[{i}]", ref) for i, ref in enumerate(rule.co_units))]
    codes = {ref.unit_code for _, ref in refs if ref.unit_code is not None}
    active = set(Unit.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True))
    for key, ref in refs:
        if ref.unit_code is not None and ref.unit_code not in active:
            raise RoutingRuleError(
                prefix + f"“{key}.unit”的单位“{ref.unit_code}”不存在或已停用", key=f"{key}.unit"
            )
    return rule


@transaction.atomic
def do_save_rule(data: Mapping[str, Any], *, actor) -> RoutingRule:
    """Create or change the rule `data["id"]` from its JSON form (an entry of `data/default_rules.json`).

    - Refused with `RoutingRuleError` (nothing written) unless `check_rule` accepts it.
    - Saving a rule unchanged writes nothing.
    - Otherwise writes the row, one revision and one audit row, and drops the cached compiled table.
    """
    rule = check_rule(data)
    values = {
        "position": rule.order,
        "name": rule.name,
        "is_active": rule.active,
        "when": _plain_json(data.get("when") or {}),
        "then": _plain_json(data["then"]),
    }
    before = RoutingRule.objects.select_for_update().filter(code=rule.id).first()
    if before is not None and all(getattr(before, name) == value for name, value in values.items()):
        return before
    row, created = RoutingRule.objects.update_or_create(code=rule.id, defaults=values)
    snapshot = row.as_dict()
    if created:
        changed = list(snapshot)
    else:
        assert before is not None
        changed = [key for key, value in before.as_dict().items() if snapshot[key] != value]
    _revise(
        row, RevisionOperation.CREATE if created else RevisionOperation.UPDATE, fields=changed, actor=actor
    )
    return row


@transaction.atomic
def do_delete_rule(code: str, *, actor) -> None:
    """Delete a rule; its history stays (the revision keeps the last content)."""
    row = RoutingRule.objects.select_for_update().filter(code=code).first()
    if row is None:
        raise RoutingRuleError(f"分派规则 {code} 不存在", key="id")
    _revise(row, RevisionOperation.DELETE, fields=[], actor=actor)
    row.delete()


def _revise(row: RoutingRule, operation: RevisionOperation, *, fields: list[str], actor) -> None:
    snapshot = row.as_dict()
    RoutingRuleRevision.objects.create(
        rule_code=row.code,
        operation=operation,
        snapshot=snapshot,
        changed_at=clock.now(),
        changed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    record(
        actor=actor,
        action=f"routing_rule.{operation}",
        object_type="routing_rule",
        object_id=row.code,
        fields=fields,
        data=snapshot,
    )
    clear_rule_cache()
    transaction.on_commit(clear_rule_cache)


def _plain_json(value: Any) -> Any:
    """JSON types only (amounts given as `Decimal` become strings, which the parser reads exactly)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
