from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from yidi.cases.templatetags.deadlines import deadline_words

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("now", "due", "expected"),
    [
        (datetime(2026, 3, 2, 9, tzinfo=SH), datetime(2026, 3, 5, 23, 59, 59, tzinfo=SH), ("green", "剩3个工作日")),
        (datetime(2026, 3, 4, 9, tzinfo=SH), datetime(2026, 3, 5, 23, 59, 59, tzinfo=SH), ("yellow", "剩1个工作日")),
        (datetime(2026, 3, 5, 9, tzinfo=SH), datetime(2026, 3, 5, 23, 59, 59, tzinfo=SH), ("yellow", "今日到期")),
        (datetime(2026, 3, 7, 9, tzinfo=SH), datetime(2026, 3, 8, 23, 59, 59, tzinfo=SH), ("yellow", "1天后到期")),
        (datetime(2026, 3, 9, 9, tzinfo=SH), datetime(2026, 3, 5, 23, 59, 59, tzinfo=SH), ("red", "超期4天")),
        (datetime(2026, 2, 13, 9, tzinfo=SH), datetime(2026, 2, 24, 23, 59, 59, tzinfo=SH), ("green", "剩2个工作日")),
    ],
)
def test_deadlines_read_in_working_days_and_count_the_spring_festival_make_up_saturday(now, due, expected):
    assert deadline_words(due, now=now) == expected
