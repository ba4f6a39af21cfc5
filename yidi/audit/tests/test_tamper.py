"""The tamper suite: someone with database access switches the append-only triggers off (as the table owner
can) and edits, deletes, reorders, forges or cuts off rows; `verify_chain` names the first broken row."""

from datetime import timedelta

import pytest
from django.db.models import F

from yidi.audit import domain
from yidi.audit.actions import CHECKPOINT_FILE, current_key, verify_chain, write_checkpoint
from yidi.audit.domain import Problem
from yidi.audit.models import AuditEvent
from yidi.audit.tests.conftest import TABLE, add_events, last_seq, set_head, tampering

pytestmark = pytest.mark.django_db

FAR = 10**12  # a free seq for moving rows around


def reseal_from(seq: int, *, key: domain.AuditKey, claimed_key_id: str | None = None) -> None:
    """Recompute the MAC of every row from `seq` on, as someone holding `key` would after editing history."""
    prev_mac = AuditEvent.objects.get(seq=seq - 1).mac
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        event.key_id = claimed_key_id or key.key_id
        event.prev_mac = prev_mac
        event.mac = prev_mac = domain.row_mac(
            [getattr(event, name) for name in domain.CHAINED_FIELDS], prev_mac=prev_mac, mac_key=key.mac_key
        )
        AuditEvent.objects.filter(pk=event.pk).update(key_id=event.key_id, prev_mac=event.prev_mac, mac=event.mac)
    set_head(event.seq, event.mac)


def test_an_intact_chain_of_a_thousand_rows_verifies():
    events = add_events(1000)

    result = verify_chain()

    assert (result.ok, result.checked, result.last_seq, result.first_bad_seq, result.reason) == (
        True, events[-1].seq, events[-1].seq, None, "")


@pytest.mark.parametrize(
    "change",
    [
        {"reason": "事后补写的理由"},
        {"object_id": "obj-9999"},
        {"outcome": "denied"},
        {"actor_username": "someone-else"},
        {"data": {"step": 99}},
        {"fields": []},
        {"at": F("at") + timedelta(microseconds=1)},
        {"source_ip": "10.9.9.9"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_an_edited_field_fails_naming_its_row(change):
    events = add_events(10)
    target = events[4].seq
    with tampering():
        assert AuditEvent.objects.filter(seq=target).update(**change) == 1

    result = verify_chain()

    assert (result.ok, result.first_bad_seq, result.problem, result.checked) == (
        False, target, Problem.MAC_MISMATCH, target - 1)
    assert result.reason == f"mac_mismatch: row {target}'s content does not match its MAC"


def test_an_edit_through_raw_sql_fails_naming_its_row():
    events = add_events(5)
    with tampering() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = %s WHERE seq = %s", ["case.close", events[2].seq])
    assert (verify_chain().first_bad_seq, verify_chain().problem) == (events[2].seq, Problem.MAC_MISMATCH)


def test_a_deleted_middle_row_fails_naming_the_gap():
    events = add_events(10)
    target = events[4].seq
    with tampering():
        AuditEvent.objects.filter(seq=target).delete()

    result = verify_chain()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, target, Problem.GAP)
    assert result.reason == f"gap: row {target} is missing (the next row is {target + 1})"


def test_a_deleted_row_with_the_rest_renumbered_and_relinked_fails():
    events = add_events(10)
    target = events[4].seq
    with tampering():
        AuditEvent.objects.filter(seq=target).delete()
        AuditEvent.objects.filter(seq=target + 1).update(prev_mac=events[3].mac)
        for event in events[5:]:
            AuditEvent.objects.filter(seq=event.seq).update(seq=event.seq - 1)
    set_head(events[-1].seq - 1, events[-1].mac)

    result = verify_chain()

    assert (result.first_bad_seq, result.problem) == (target, Problem.MAC_MISMATCH)


def test_two_swapped_rows_fail():
    events = add_events(10)
    first, second = events[4].seq, events[5].seq
    with tampering():
        AuditEvent.objects.filter(seq=first).update(seq=FAR)
        AuditEvent.objects.filter(seq=second).update(seq=first)
        AuditEvent.objects.filter(seq=FAR).update(seq=second)

    result = verify_chain()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, first, Problem.LINK_BREAK)


def test_two_rows_with_swapped_content_fail():
    events = add_events(10)
    first, second = events[4], events[5]
    with tampering():
        for target, source in ((first, second), (second, first)):
            AuditEvent.objects.filter(seq=target.seq).update(
                object_id=source.object_id, data=source.data, at=source.at
            )

    result = verify_chain()

    assert (result.first_bad_seq, result.problem) == (first.seq, Problem.MAC_MISMATCH)


def test_a_forged_row_with_a_made_up_mac_fails():
    events = add_events(5)
    forged_seq = events[-1].seq + 1
    # inserting needs no tampering: the triggers refuse changes, not new rows
    AuditEvent.objects.create(
        seq=forged_seq, at=events[-1].at, actor_username="dispatcher", action="case.close", object_type="case",
        object_id="330681-2026-000001", key_id=current_key().key_id, prev_mac=events[-1].mac, mac="0f" * 32,
    )
    set_head(forged_seq, "0f" * 32)

    result = verify_chain()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, forged_seq, Problem.MAC_MISMATCH)


def test_a_cut_off_tail_fails_against_the_last_checkpoint():
    events = add_events(10)
    checkpoint = write_checkpoint()[0]
    with tampering():
        AuditEvent.objects.filter(seq__gt=events[6].seq).delete()
    set_head(events[6].seq, events[6].mac)  # the intruder rewinds the head too

    result = verify_chain()

    assert (result.ok, result.first_bad_seq, result.problem, result.checked) == (
        False, events[7].seq, Problem.TRUNCATED, events[6].seq)
    assert result.reason == (
        f"truncated: the chain ends at row {events[6].seq} but the checkpoint of "
        f"{domain.canonical_time(checkpoint.at)} records row {events[-1].seq}"
    )


def test_a_cut_off_tail_fails_against_the_chain_head_before_any_checkpoint():
    events = add_events(10)
    with tampering():
        AuditEvent.objects.filter(seq__gt=events[6].seq).delete()

    result = verify_chain()

    assert (result.first_bad_seq, result.problem) == (events[7].seq, Problem.TRUNCATED)
    assert result.reason.endswith(f"the chain head records row {events[-1].seq}")


def test_a_chain_rewritten_with_the_key_fails_against_the_checkpoint(checkpoint_dir):
    events = add_events(10)
    checkpoint = write_checkpoint()[0]
    with tampering():
        AuditEvent.objects.filter(seq=events[3].seq).update(reason="改写的历史")
        reseal_from(events[3].seq, key=current_key())

    result = verify_chain()

    assert (result.ok, result.first_bad_seq, result.problem) == (False, checkpoint.seq, Problem.ANCHOR_MISMATCH)
    # without the checkpoints (kept outside the database) such a rewrite would pass: that is why they exist
    (checkpoint_dir / CHECKPOINT_FILE).unlink()
    assert verify_chain().ok


def test_a_chain_recomputed_without_the_key_fails():
    events = add_events(10)
    forger = domain.derive_key("a-guessed-secret")
    with tampering():
        AuditEvent.objects.filter(seq=events[3].seq).update(reason="改写的历史")
        reseal_from(events[3].seq, key=forger, claimed_key_id=current_key().key_id)
    assert (verify_chain().first_bad_seq, verify_chain().problem) == (events[3].seq, Problem.MAC_MISMATCH)

    with tampering():
        reseal_from(events[3].seq, key=forger)
    assert (verify_chain().first_bad_seq, verify_chain().problem) == (events[3].seq, Problem.UNKNOWN_KEY)


def test_an_edited_checkpoint_file_fails(checkpoint_dir):
    add_events(3)
    write_checkpoint()
    path = checkpoint_dir / CHECKPOINT_FILE
    path.write_text(path.read_text().replace(f'"seq": {last_seq()}', f'"seq": {last_seq() - 1}'))

    result = verify_chain()

    assert (result.ok, result.problem, result.first_bad_seq) == (False, Problem.BAD_CHECKPOINT, last_seq() - 1)
    assert result.reason == (
        f"bad_checkpoint: {CHECKPOINT_FILE} line 1: signature invalid or key {current_key().key_id!r} unknown"
    )


def test_checkpoints_that_match_are_counted_with_the_head():
    add_events(3)
    write_checkpoint()
    add_events(2)
    write_checkpoint()
    assert verify_chain().anchors == 3


def test_rows_and_checkpoints_of_a_retired_key_verify_after_a_rotation(settings):
    original = settings.SECRET_KEY  # the key of the rows written while the test database was set up
    settings.AUDIT_HMAC_KEY = "old-audit-secret"
    settings.AUDIT_HMAC_RETIRED_KEYS = [original]
    old = add_events(3)
    write_checkpoint()
    settings.AUDIT_HMAC_KEY = "new-audit-secret"
    settings.AUDIT_HMAC_RETIRED_KEYS = [original, "old-audit-secret"]
    new = add_events(3)

    assert new[0].prev_mac == old[-1].mac and new[0].key_id != old[-1].key_id
    assert verify_chain().ok

    settings.AUDIT_HMAC_RETIRED_KEYS = [original]  # the old secret lost
    assert verify_chain().problem == Problem.BAD_CHECKPOINT
    (settings.AUDIT_CHECKPOINT_DIR / CHECKPOINT_FILE).unlink()
    assert (verify_chain().problem, verify_chain().first_bad_seq) == (Problem.UNKNOWN_KEY, old[0].seq)


def test_a_range_is_verified_on_its_own():
    events = add_events(20)
    with tampering():
        AuditEvent.objects.filter(seq=events[15].seq).update(reason="改过")

    inside = verify_chain(from_seq=events[2].seq, to_seq=events[10].seq)
    assert (inside.ok, inside.checked, inside.last_seq) == (True, 9, events[10].seq)
    assert verify_chain(from_seq=events[12].seq).first_bad_seq == events[15].seq


def test_a_range_whose_previous_row_was_deleted_fails_naming_it():
    events = add_events(5)
    with tampering():
        AuditEvent.objects.filter(seq=events[1].seq).delete()

    result = verify_chain(from_seq=events[2].seq)

    assert (result.first_bad_seq, result.problem) == (events[1].seq, Problem.GAP)
