"""How a deadline reads on a page: 剩2个工作日, 今日到期, 超期3天."""

from django import template
from django.utils import timezone

from yidi.core import worktime
from yidi.core.deadlines import local_date

register = template.Library()


def deadline_words(due_at, *, now=None, day_unit: str = "workdays") -> tuple[str, str]:
    """(badge state, words) for a due instant; states are those of the deadline badge component."""
    if due_at is None:
        return "", "无期限"
    now = now or timezone.now()
    calendar = worktime.calendar()
    today, due_day = local_date(now), local_date(due_at)
    if now > due_at:
        late = (today - due_day).days
        return "red", f"超期{late}天" if late else "已超期"
    if due_day == today:
        return "yellow", "今日到期"
    if day_unit == "workdays":
        left = calendar.workdays_between(today, due_day)
        if left == 0:  # due on a day off: say when in calendar days
            return "yellow", f"{(due_day - today).days}天后到期"
        return ("yellow" if left <= 1 else "green"), f"剩{left}个工作日"
    left = (due_day - today).days
    return ("yellow" if left <= 2 else "green"), f"剩{left}天"


@register.inclusion_tag("components/deadline_badge.html")
def deadline_badge(due_at, state: str = "", day_unit: str = "workdays"):
    badge, words = deadline_words(due_at, day_unit=day_unit)
    if state in ("yellow", "red") and badge == "green":
        badge = "yellow"
    if state == "overdue":
        badge = "red"
    return {"state": badge, "label": words, "due_at": due_at}
