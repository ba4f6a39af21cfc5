"""Group commit: requests of one process that arrive together are written together.

A server thread hands its item to a `GroupCommit` and waits. When no batch is being written, the thread becomes the
leader at once and writes what is queued (its own item first) with the `write` function, in its own database
connection; items arriving meanwhile queue up, and when the batch is done the first of them becomes the next
leader and writes all of them. So a lone request is written at once, alone, and under load each batch holds what
arrived while the one before was written: one transaction, one statement per table for many requests.

`write(items)` returns one outcome per item, in order, and the leader hands each back to its thread. If `write`
raises, every item of the batch gets `RETRY_ALONE`: its thread then does its work alone, the ordinary way, so a
batch failing as a whole (a broken row, a conflict, a bug) costs time but never a wrong answer. Nothing here holds
a lock while writing, and a waiting thread always ends: the leader finishes every item it took, whatever happens.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("yidi.group_commit")


class _RetryAlone:
    def __repr__(self) -> str:
        return "RETRY_ALONE"


RETRY_ALONE = _RetryAlone()


@dataclass(eq=False)
class _Slot:
    item: Any
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    outcome: Any = None


class GroupCommit:
    def __init__(self, write: Callable[[Sequence[Any]], Sequence[Any]], *, max_items: int = 64) -> None:
        self.write = write
        self.max_items = max_items
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._writing = False

    def submit(self, item: Any) -> Any:
        """Write `item` with those arriving with it; returns its outcome (or `RETRY_ALONE`)."""
        slot = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            if not self._writing:
                self._writing = slot.lead = True
        while True:
            if slot.lead:
                slot.lead = False
                self._lead()
            slot.done.wait()
            if not slot.lead:
                return slot.outcome
            slot.done.clear()  # woken to lead the next batch (its own item among it)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:self.max_items], self._queue[self.max_items:]
        interrupted = None
        try:
            outcomes = list(self.write([slot.item for slot in batch]))
            if len(outcomes) != len(batch):
                raise RuntimeError(f"group commit: {len(outcomes)} outcomes for {len(batch)} items")
        except Exception:
            logger.exception("group commit: a batch of %s failed as a whole; each item is retried alone", len(batch))
            outcomes = [RETRY_ALONE] * len(batch)
        except BaseException as error:  # the leader's thread is being stopped: the others still get an answer
            interrupted, outcomes = error, [RETRY_ALONE] * len(batch)
        with self._lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._writing = False
            else:
                successor.lead = True
        if successor is not None:
            successor.done.set()
        for slot, outcome in zip(batch, outcomes, strict=True):
            slot.outcome = outcome
            slot.done.set()
        if interrupted is not None:
            raise interrupted
