"""Logging filters.

`EverySoOften` keeps a repeated warning useful without flooding the log: waitress warns "Task queue depth is N"
for every request that waits for a free server thread, thousands of lines a minute under a burst, when one line
every few seconds tells an operator the same (the server is saturated). The first record passes; the others of
the next `seconds` are held back and counted, and the next record to pass says how many were.
"""

import logging
import threading
import time


class EverySoOften(logging.Filter):
    def __init__(self, seconds: float = 10.0, clock=time.monotonic) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        with self._lock:
            if self._last is not None and now - self._last < self.seconds:
                self._held += 1
                return False
            held, self._held, self._last = self._held, 0, now
        if held:
            record.msg = f"{record.msg} ({held} more such records in the {self.seconds:g} s before this one)"
        return True
