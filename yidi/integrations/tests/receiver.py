"""A transport for the fault tests: it "delivers" by appending the message's idempotency key to a file (the
receiving system's log), and can hang forever on a chosen delivery, like a worker stuck in a slow gateway that is
then killed.

Configured through the environment of the worker process under test:
- `YIDI_TEST_RECEIVER_LOG`: the file the keys are appended to (one line each, flushed at once);
- `YIDI_TEST_RECEIVER_HANG_AT`: hang (sleep) after writing the N-th line of this process, 0 or unset for never.
"""

import os
import time


class FileReceiverTransport:
    delivered_here = 0

    def __init__(self, kind: str):
        self.kind = kind

    def send(self, destination: str, text: str, *, key: str, subject: str = "") -> None:
        with open(os.environ["YIDI_TEST_RECEIVER_LOG"], "a", encoding="utf-8") as log:
            log.write(key + "\n")
            log.flush()
            os.fsync(log.fileno())
        FileReceiverTransport.delivered_here += 1
        if FileReceiverTransport.delivered_here == int(os.environ.get("YIDI_TEST_RECEIVER_HANG_AT") or 0):
            time.sleep(3600)  # delivered, but the worker never records it: killed here by the test
