"""The evaluation app's settings and their defaults. Each is read from Django settings when `yidi/settings.py`
defines it, else from the environment variable of the same name, else the default."""

import os

from django.conf import settings


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "").strip() or default
    return int(value)


def window_days() -> int:
    """YIDI_EVALUATION_WINDOW_DAYS: the person may evaluate within this many days of closing (or the result)."""
    return _int("YIDI_EVALUATION_WINDOW_DAYS", 30)


def max_auto_reopens() -> int:
    """YIDI_EVALUATION_MAX_AUTO_REOPENS: 不满意 reopens the matter by rule while it was reopened fewer times."""
    return _int("YIDI_EVALUATION_MAX_AUTO_REOPENS", 2)


def risk_follow_up_days() -> int:
    """YIDI_RISK_FOLLOW_UP_DAYS: a visit that finds remaining risk is followed up this many days later."""
    return _int("YIDI_RISK_FOLLOW_UP_DAYS", 7)
