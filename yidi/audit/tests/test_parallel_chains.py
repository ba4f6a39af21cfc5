"""Several chains (issue 5, speed): rows spread over parallel chains verify chain by chain, checkpoints sign
each chain's head, and tampering in any chain is caught and named with its chain."""

import json

import pytest

from yidi.audit import actions
from yidi.audit.actions import CHECKPOINT_FILE, verify_chain, write_checkpoint
from yidi.audit.domain import Problem
from yidi.audit.models import AuditChainHead, AuditEvent
from yidi.audit.tests.conftest import add_events, tampering

pytestmark = pytest.mark.django_db


@pytest.fixture
def into_chain(monkeypatch):
    """Make the next appends go to a given chain, as a concurrent writer holding the other heads would."""

    def use(chain: int) -> None:
        def lock(cursor, connection):
            one = actions._head_sql(connection)[0]
            cursor.execute(one, [chain])
            found = cursor.fetchone()
            if found is None:
                actions._rebuild_head(chain)
                cursor.execute(one, [chain])
                found = cursor.fetchone()
            return found

        monkeypatch.setattr(actions, "_lock_head", lock)

    return use


def interleaved(into_chain) -> dict[int, list[AuditEvent]]:
    events = {1: [], 2: []}
    for round_ in range(3):
        for chain in (1, 2):
            into_chain(chain)
            events[chain] += add_events(2, action=f"test.chain{chain}.{round_}")
    return events


def test_rows_in_two_chains_each_gap_free_verify_together(into_chain):
    before = AuditEvent.objects.count()
    events = interleaved(into_chain)

    assert [e.seq for e in events[2]] == [1, 2, 3, 4, 5, 6]
    assert {e.chain for e in events[1]} == {1} and {e.chain for e in events[2]} == {2}
    assert [e.prev_mac for e in events[2][1:]] == [e.mac for e in events[2][:-1]]
    result = verify_chain()
    assert (result.ok, result.checked, result.anchors) == (True, before + 12, 2)  # both heads matched


def test_a_checkpoint_signs_every_chain(checkpoint_dir, into_chain):
    events = interleaved(into_chain)

    checkpoints = write_checkpoint()

    assert [(c.chain, c.seq, c.mac) for c in checkpoints] == [
        (1, events[1][-1].seq, events[1][-1].mac), (2, 6, events[2][-1].mac)]
    lines = [json.loads(line) for line in (checkpoint_dir / CHECKPOINT_FILE).read_text().splitlines()]
    assert [line.get("chain") for line in lines] == [None, 2]  # chain 1 lines read as before chains existed


def test_an_edited_row_in_the_second_chain_is_named_with_its_chain(into_chain):
    events = interleaved(into_chain)
    with tampering():
        AuditEvent.objects.filter(chain=2, seq=4).update(reason="改写")

    result = verify_chain()

    assert (result.ok, result.chain, result.first_bad_seq, result.problem) == (False, 2, 4, Problem.MAC_MISMATCH)
    assert result.reason == "chain 2: mac_mismatch: row 4's content does not match its MAC"
    assert events[2][3].seq == 4


def test_a_cut_off_tail_of_the_second_chain_fails_against_its_checkpoint(into_chain):
    interleaved(into_chain)
    write_checkpoint()
    with tampering():
        AuditEvent.objects.filter(chain=2, seq__gt=4).delete()
    row = AuditEvent.objects.get(chain=2, seq=4)
    AuditChainHead.objects.filter(pk=2).update(last_seq=4, last_mac=row.mac)  # the intruder rewinds the head

    result = verify_chain()

    assert (result.chain, result.first_bad_seq, result.problem) == (2, 5, Problem.TRUNCATED)


def test_a_row_moved_to_another_chain_breaks_both(into_chain):
    interleaved(into_chain)
    with tampering():
        AuditEvent.objects.filter(chain=2, seq=6).update(chain=1, seq=AuditEvent.objects.filter(chain=1).count() + 1)

    result = verify_chain()

    assert result.ok is False and result.problem in (Problem.LINK_BREAK, Problem.TRUNCATED)


def test_a_checkpoint_moved_to_another_chain_is_refused(checkpoint_dir, into_chain):
    interleaved(into_chain)
    write_checkpoint()
    path = checkpoint_dir / CHECKPOINT_FILE
    lines = path.read_text().splitlines()
    forged = json.loads(lines[1]) | {"chain": 3}
    path.write_text(lines[0] + "\n" + json.dumps(forged) + "\n")

    result = verify_chain()

    assert (result.ok, result.problem) == (False, Problem.BAD_CHECKPOINT)
