"""Field types shared by the API schemas.

`AwareTime`: a timestamp with its UTC offset, refused (400 with the reason) when the offset is not one a clock can
show — ISO 8601 admits any hh:mm, PostgreSQL refuses offsets beyond 15:59 and no zone is beyond ±14:00 — and kept
in UTC, as the database keeps it.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

WIDEST_OFFSET = timedelta(hours=14)  # UTC+14 (Line Islands); the widest negative is UTC−12


def _real_offset(value: datetime) -> datetime:
    if abs(value.utcoffset()) > WIDEST_OFFSET:
        raise ValueError("时区偏移超出范围（须在 -14:00 至 +14:00 之间，如北京时间 +08:00）")
    return value.astimezone(UTC)


AwareTime = Annotated[AwareDatetime, AfterValidator(_real_offset)]
