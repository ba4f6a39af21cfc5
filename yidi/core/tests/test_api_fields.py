"""`AwareTime`: real UTC offsets are kept (as UTC), impossible ones refused with the reason."""

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from yidi.core.api_fields import AwareTime

ADAPTER = TypeAdapter(AwareTime)


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-03-10T09:00:00+08:00", datetime(2026, 3, 10, 1, 0, tzinfo=UTC)),
    ("2026-03-10T09:00:00+14:00", datetime(2026, 3, 9, 19, 0, tzinfo=UTC)),
    ("2026-03-10T09:00:00-12:00", datetime(2026, 3, 10, 21, 0, tzinfo=UTC)),
])
def test_a_real_offset_is_kept_as_utc(text, utc):
    value = ADAPTER.validate_python(text)
    assert value == utc and value.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("text", ["2026-03-10T09:00:00+16:57", "2026-03-10T09:00:00-14:30"])
def test_an_offset_no_clock_shows_is_refused_with_the_reason(text):
    with pytest.raises(ValidationError, match="时区偏移超出范围"):
        ADAPTER.validate_python(text)
