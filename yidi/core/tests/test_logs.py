"""`core.logs.EverySoOften`: one record per period passes, the next one to pass counts those held back."""

import logging

from django.conf import settings

from yidi.core.logs import EverySoOften


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("waitress.queue", logging.WARNING, __file__, 1, message, None, None)


def test_one_record_per_period_passes_and_the_next_says_how_many_were_held_back():
    now = [100.0]
    throttle = EverySoOften(seconds=10, clock=lambda: now[0])
    passed = []
    for at, message in [(100.0, "depth 1"), (101.0, "depth 2"), (109.9, "depth 3"), (110.0, "depth 4"),
                        (115.0, "depth 5"), (121.0, "depth 6")]:
        now[0] = at
        record = _record(message)
        if throttle.filter(record):
            passed.append(record.getMessage())

    assert passed == [
        "depth 1",
        "depth 4 (2 more such records in the 10 s before this one)",
        "depth 6 (1 more such records in the 10 s before this one)",
    ]


def test_the_servers_queue_warnings_go_through_it():
    assert settings.LOGGING["loggers"]["waitress.queue"] == {"filters": ["every_10_s"]}
    assert settings.LOGGING["filters"]["every_10_s"] == {"()": "yidi.core.logs.EverySoOften", "seconds": 10}
    # as Django's set-up configured it (a test that configures logging again adds another, as `dictConfig` does)
    filters = logging.getLogger("waitress.queue").filters
    assert filters and all(isinstance(f, EverySoOften) and f.seconds == 10 for f in filters)
