"""Writing the audit log. Every action calls `record` inside its own transaction, so a failed audit
write rolls the business change back with it."""

from collections.abc import Iterable
from typing import Any

from yidi.audit.models import AuditEvent, AuditOutcome
from yidi.core import clock
from yidi.core.request_context import current_source_ip


def record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: str | int,
    fields: Iterable[str] = (),
    outcome: str = AuditOutcome.SUCCESS,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        at=clock.now(),
        actor=actor if is_user else None,
        actor_username=actor.get_username() if is_user else "system",
        actor_roles=",".join(actor.role_codes) if is_user else "",
        actor_unit_code=actor.unit.code if is_user and actor.unit_id else "",
        source_ip=current_source_ip(),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        fields=list(fields),
        outcome=outcome,
        reason=reason,
        data=data or {},
    )
