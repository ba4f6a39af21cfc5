"""The 调解 section of the matter page, for pages of other apps (`{% load mediation %}`: no Python import of this
app is needed there)."""

from django import template

from yidi.cases.domain import CaseStatus, HandlingMode
from yidi.mediation import domain, queries
from yidi.mediation.domain import MediationAction

register = template.Library()


@register.inclusion_tag("mediation/_case_section.html", takes_context=True)
def mediation_section(context, case) -> dict:
    """The matter's mediation at a glance (status, mediators, next period), for whoever reads the matter; and,
    for its lead unit, the way to open one when the matter is handled by mediation."""
    request = context.get("request")
    user = getattr(request, "user", None)
    mediation = queries.get_mediation(case)
    can_open = False
    if user is not None and case.status == CaseStatus.IN_PROGRESS and case.handling_mode == HandlingMode.MEDIATION:
        kinds = queries.get_actor_kinds(user, case, mediation)
        status = mediation.status_enum if mediation else None
        can_open = domain.denial_reason(MediationAction.OPEN, kinds) is None and (
            MediationAction.OPEN in domain.allowed_actions(status))
    if mediation is None and not can_open and case.handling_mode != HandlingMode.MEDIATION:
        return {"show": False}
    agreement = getattr(mediation, "agreement", None) if mediation else None
    return {
        "show": True, "case": case, "mediation": mediation, "can_open": can_open,
        "designations": queries.active_designations(mediation),
        "agreement": agreement,
        "confirmation": getattr(agreement, "judicial_confirmation", None) if agreement else None,
        "window": queries.judicial_confirmation_window(case) if agreement else None,
        "response_clock": queries.response_clock(case) if mediation else None,
    }


STATUS_TONES = {
    domain.MediationStatus.PREPARING: "blue",
    domain.MediationStatus.AWAITING_RESPONSE: "orange",
    domain.MediationStatus.MEDIATING: "purple",
    domain.MediationStatus.SIGNING: "yellow",
    domain.MediationStatus.AGREED: "green",
    domain.MediationStatus.FAILED: "red",
    domain.MediationStatus.REFUSED: "red",
}
OBLIGATION_TONES = {
    domain.ObligationState.PENDING: "blue",
    domain.ObligationState.PARTLY: "yellow",
    domain.ObligationState.PERFORMED: "green",
    domain.ObligationState.OVERDUE: "red",
}


@register.filter
def mediation_tone(status: str) -> str:
    """The badge colour of a mediation status (every badge also carries its word)."""
    return STATUS_TONES.get(status, "grey")


@register.filter
def obligation_tone(state: str) -> str:
    return OBLIGATION_TONES.get(state, "grey")
