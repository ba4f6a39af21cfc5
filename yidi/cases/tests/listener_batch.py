"""Shared by the tests of the event listeners' batch forms (`listener.for_batch`, used by the 12345 import): the
listeners switched off while the matters are built, and one listener run both ways over the same (matter, event)
pairs, each run rolled back."""

from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection, transaction

from yidi.cases.actions import EVENT_LISTENERS


class _Undo(Exception):
    pass


@contextmanager
def listeners_off():
    saved = EVENT_LISTENERS[:]
    EVENT_LISTENERS.clear()
    try:
        yield
    finally:
        EVENT_LISTENERS[:] = saved


def both_ways(listener, pairs, read: Callable[[int], object]) -> list:
    """`read(queued)` after one call per pair, then after the batch form on all pairs; `queued` is the number of
    callbacks the run left for after the commit. Each run is rolled back."""
    results = []
    for run in (lambda: [listener(case, event) for case, event in pairs], lambda: listener.for_batch(pairs)):
        try:
            with transaction.atomic():
                before = len(connection.run_on_commit)
                run()
                results.append(read(len(connection.run_on_commit) - before))
                raise _Undo
        except _Undo:
            pass
    return results
