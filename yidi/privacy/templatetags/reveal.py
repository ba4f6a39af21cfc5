"""Template tags for masked party values with a "查看完整" link, for pages of other apps (no Python import
of this app is needed there: `{% load reveal %}`)."""

from django import template
from django.urls import reverse

from yidi.privacy import queries
from yidi.privacy.domain import PersonalField

register = template.Library()


@register.simple_tag(takes_context=True)
def reveal_allowed(context, case) -> bool:
    """May the signed-in user reveal this matter's party data (the matter is already in their read scope)?"""
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and queries.reveal_decision(user, case).allowed)


def _get(party, name: str):
    return party.get(name, "") if isinstance(party, dict) else getattr(party, name, "")


@register.inclusion_tag("privacy/_party_value.html")
def masked_party_value(case, party, field: str, can_reveal: bool = False) -> dict:
    """A masked value; with `can_reveal`, plus 查看完整 (a reason panel posting to the reveal endpoint).

    `party` is a mapping or object with `id` (the `CaseParty` id) and the masked value under `field`.
    """
    personal_field = PersonalField(field)
    value, party_id = _get(party, field), _get(party, "id")
    reveal_url = ""
    if can_reveal and value and party_id:
        reveal_url = reverse("privacy_reveal", args=[case.code, party_id, personal_field.value])
    return {
        "value": value, "reveal_url": reveal_url, "panel_id": f"reveal-{party_id}-{personal_field.value}",
        "what": personal_field.label,
    }
