"""Group commit: a lone item is written at once; items arriving during a write form the next batch; each thread
gets its own outcome; a failing batch sends every item of it back to be done alone, and the next batch works."""

import threading

import pytest

from yidi.core.group_commit import RETRY_ALONE, GroupCommit


class Recorder:
    """A `write` that records its batches; while `hold` is clear it blocks (the first batch being written)."""

    def __init__(self, *, fail_on=None) -> None:
        self.batches: list[list] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.fail_on = fail_on

    def __call__(self, items):
        self.batches.append(list(items))
        self.entered.set()
        assert self.hold.wait(10)
        if self.fail_on in items:
            raise ValueError("a broken row")
        return [item * 10 for item in items]


def _submit_in_threads(group: GroupCommit, items) -> tuple[list[threading.Thread], dict]:
    outcomes: dict = {}

    def run(item):
        outcomes[item] = group.submit(item)

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads, outcomes


def _queued(group: GroupCommit, count: int) -> None:
    for _ in range(1000):
        with group._lock:
            if len(group._queue) == count:
                return
        threading.Event().wait(0.005)
    raise AssertionError(f"{count} items never queued")


def test_a_lone_item_is_written_at_once_alone():
    write = Recorder()
    group = GroupCommit(write)

    assert group.submit(4) == 40
    assert group.submit(5) == 50
    assert write.batches == [[4], [5]]


def test_items_arriving_during_a_write_form_the_next_batch_and_each_gets_its_own_outcome():
    write = Recorder()
    group = GroupCommit(write)
    write.hold.clear()
    first, first_outcome = _submit_in_threads(group, [1])
    assert write.entered.wait(10)
    others, outcomes = _submit_in_threads(group, [2, 3, 4, 5])
    _queued(group, 4)

    write.hold.set()
    for thread in first + others:
        thread.join(10)

    assert write.batches[0] == [1]
    assert sorted(write.batches[1]) == [2, 3, 4, 5]
    assert len(write.batches) == 2
    assert first_outcome == {1: 10}
    assert outcomes == {2: 20, 3: 30, 4: 40, 5: 50}


def test_a_batch_holds_at_most_max_items_and_the_rest_follow():
    write = Recorder()
    group = GroupCommit(write, max_items=2)
    write.hold.clear()
    first, _ = _submit_in_threads(group, [1])
    assert write.entered.wait(10)
    others, outcomes = _submit_in_threads(group, [2, 3, 4, 5, 6])
    _queued(group, 5)

    write.hold.set()
    for thread in first + others:
        thread.join(10)

    assert [len(batch) for batch in write.batches] == [1, 2, 2, 1]
    assert sorted(item for batch in write.batches for item in batch) == [1, 2, 3, 4, 5, 6]
    assert outcomes == {2: 20, 3: 30, 4: 40, 5: 50, 6: 60}


def test_a_failing_batch_sends_each_item_back_to_be_done_alone_and_the_next_batch_works():
    write = Recorder(fail_on=3)
    group = GroupCommit(write)
    write.hold.clear()
    first, _ = _submit_in_threads(group, [1])
    assert write.entered.wait(10)
    others, outcomes = _submit_in_threads(group, [2, 3])
    _queued(group, 2)

    write.hold.set()
    for thread in first + others:
        thread.join(10)

    assert outcomes == {2: RETRY_ALONE, 3: RETRY_ALONE}
    assert group.submit(7) == 70  # no leader left stuck


def test_a_write_that_answers_for_the_wrong_number_of_items_counts_as_failed():
    assert GroupCommit(lambda items: []).submit("a") is RETRY_ALONE
    assert GroupCommit(lambda items: [1, 2]).submit("a") is RETRY_ALONE


def test_a_leader_stopped_mid_write_still_answers_the_others():
    class Stop(BaseException):
        pass

    def write(items):
        raise Stop

    group = GroupCommit(write)
    with pytest.raises(Stop):
        group.submit(1)
    assert group._writing is False
