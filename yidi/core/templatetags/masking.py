"""`{{ text|mask_personal }}`: free text with the ID and mobile numbers in it masked (a built-in filter)."""

from django import template

from yidi.core.masking import mask_in_text

register = template.Library()


@register.filter
def mask_personal(text) -> str:
    return mask_in_text(str(text) if text is not None else "")
