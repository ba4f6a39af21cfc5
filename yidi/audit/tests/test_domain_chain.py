"""The chain's pure rules: canonical bytes, MACs, keys, checkpoints and verification (no database)."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from yidi.audit.domain import (
    CHAINED_FIELDS,
    GENESIS_MAC,
    Anchor,
    Problem,
    canonical_bytes,
    checkpoint_from_line,
    checkpoint_to_line,
    derive_key,
    is_authentic,
    keyring,
    row_mac,
    sign_checkpoint,
    verify_rows,
)

KEY = derive_key("test-audit-secret")
OTHER_KEY = derive_key("someone-elses-secret")
KEYS = {KEY.key_id: KEY}
AT = datetime(2026, 3, 9, 6, 5, 0, 123456, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def content(number: int, key=KEY, **overrides) -> list:
    values = {
        "seq": number, "key_id": key.key_id, "at": AT + timedelta(seconds=number), "actor_id": 7,
        "actor_username": "dispatcher", "actor_roles": "dispatcher", "actor_unit_code": "command",
        "source_ip": "10.0.0.8", "action": "case.accept", "object_type": "case",
        "object_id": f"330681-2026-{number:06d}", "fields": ["status"], "outcome": "success", "reason": "",
        "data": {"channel": "walk_in"},
    }
    values.update(overrides)
    return [values[name] for name in CHAINED_FIELDS]


def chain(count: int, *, key=KEY, start: int = 1, prev_mac: str = GENESIS_MAC) -> list[tuple]:
    rows = []
    for seq in range(start, start + count):
        values = content(seq, key)
        mac = row_mac(values, prev_mac=prev_mac, mac_key=key.mac_key)
        rows.append((*values, prev_mac, mac))
        prev_mac = mac
    return rows


def reseal(row: tuple, *, key=KEY, prev_mac: str | None = None, **changes) -> tuple:
    """The row with `changes` and a MAC recomputed by someone holding `key`."""
    values = list(row[: len(CHAINED_FIELDS)])
    for name, value in changes.items():
        values[CHAINED_FIELDS.index(name)] = value
    prev = row[-2] if prev_mac is None else prev_mac
    return (*values, prev, row_mac(values, prev_mac=prev, mac_key=key.mac_key))


# --- canonical form ----------------------------------------------------------------------------------


def test_canonical_bytes_are_sorted_compact_ascii_json_with_utc_microsecond_time():
    values = content(1, reason="当事人要求核实", data={"b": 1, "a": {"d": [1, 2], "c": None}})

    text = canonical_bytes(values).decode("ascii")

    assert text == (
        f'["yidi-audit-row-v1",1,"{KEY.key_id}","2026-03-09T06:05:01.123456+00:00",7,"dispatcher","dispatcher",'
        '"command","10.0.0.8","case.accept","case","330681-2026-000001",["status"],"success",'
        '"\\u5f53\\u4e8b\\u4eba\\u8981\\u6c42\\u6838\\u5b9e",{"a":{"c":null,"d":[1,2]},"b":1}]'
    )


def test_the_same_instant_in_another_time_zone_and_without_microseconds_reads_the_same():
    utc = content(1, at=datetime(2026, 3, 9, 6, 5, tzinfo=UTC))
    shanghai = content(1, at=datetime(2026, 3, 9, 14, 5, tzinfo=SHANGHAI))

    assert canonical_bytes(utc) == canonical_bytes(shanghai)
    assert b'"2026-03-09T06:05:00.000000+00:00"' in canonical_bytes(utc)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_bytes(content(1, at=datetime(2026, 3, 9, 6, 5)))


@pytest.mark.parametrize(
    ("written", "read_back"),
    [
        ({"n": 3.0}, {"n": 3}),  # jsonb keeps "3.0"; a float 3.0 and an int 3 are the same number
        ({"n": -0.0}, {"n": 0}),  # numeric has no negative zero
        ({"n": 1e16}, {"n": 10_000_000_000_000_000}),  # jsonb prints the digits, which read back as an int
        ({"n": 1e308}, {"n": 10**308}),  # the digits of the float's shortest form, not of its binary value
        ({"n": 0.1, "m": 1e-07}, {"m": 1e-07, "n": 0.1}),  # non-integral floats: shortest repr, any key order
        ({"list": (1, "a")}, {"list": [1, "a"]}),
    ],
)
def test_json_numbers_and_sequences_read_back_from_either_database_give_the_same_bytes(written, read_back):
    assert canonical_bytes(content(1, data=written)) == canonical_bytes(content(1, data=read_back))


def test_different_numbers_give_different_bytes():
    assert canonical_bytes(content(1, data={"n": 0.1})) != canonical_bytes(content(1, data={"n": 0.10000000000000002}))
    assert canonical_bytes(content(1, data={"n": 1})) != canonical_bytes(content(1, data={"n": "1"}))


def test_a_string_that_looks_like_an_integral_float_is_kept_as_it_is():
    assert b'"v1.0]"' in canonical_bytes(content(1, reason="v1.0]", data={"n": 2.0}))


def test_nan_cannot_be_sealed():
    with pytest.raises(ValueError):
        canonical_bytes(content(1, data={"n": float("nan")}))


@pytest.mark.parametrize(("stored", "canonical"), [
    ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("2001:db8::1", "2001:db8::1"), ("10.0.0.8", "10.0.0.8"), (None, ""),
])
def test_ip_addresses_are_compared_in_one_form(stored, canonical):
    assert canonical_bytes(content(1, source_ip=stored)) == canonical_bytes(content(1, source_ip=canonical or None))


def test_every_field_and_the_previous_mac_change_the_mac():
    base = content(5)
    mac = row_mac(base, prev_mac=GENESIS_MAC, mac_key=KEY.mac_key)
    changed = {"seq": 6, "key_id": "0" * 16, "at": AT, "actor_id": 8, "actor_username": "x", "actor_roles": "x",
               "actor_unit_code": "x", "source_ip": "10.0.0.9", "action": "x", "object_type": "x", "object_id": "x",
               "fields": [], "outcome": "denied", "reason": "x", "data": {}}
    assert set(changed) == set(CHAINED_FIELDS)
    for name, value in changed.items():
        assert row_mac(content(5, **{name: value}), prev_mac=GENESIS_MAC, mac_key=KEY.mac_key) != mac, name
    assert row_mac(base, prev_mac="1" * 64, mac_key=KEY.mac_key) != mac
    assert row_mac(base, prev_mac=GENESIS_MAC, mac_key=OTHER_KEY.mac_key) != mac


# --- keys and checkpoints ----------------------------------------------------------------------------


def test_key_id_is_a_stable_fingerprint_and_repr_shows_no_key_material():
    assert derive_key("test-audit-secret").key_id == KEY.key_id != OTHER_KEY.key_id
    assert len(KEY.key_id) == 16
    assert repr(KEY) == f"AuditKey(key_id={KEY.key_id!r})"
    assert KEY.mac_key != KEY.checkpoint_key


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="empty"):
        derive_key("")


def test_keyring_holds_the_current_and_the_retired_keys():
    assert keyring("test-audit-secret", ["someone-elses-secret"]) == {KEY.key_id: KEY, OTHER_KEY.key_id: OTHER_KEY}


def test_a_checkpoint_round_trips_through_its_line_and_is_authentic_only_under_its_key():
    checkpoint = sign_checkpoint(seq=42, mac="ab" * 32, at=AT, key=KEY)

    parsed = checkpoint_from_line(checkpoint_to_line(checkpoint))

    assert parsed == checkpoint
    assert is_authentic(parsed, KEYS)
    assert not is_authentic(parsed, {OTHER_KEY.key_id: OTHER_KEY})


@pytest.mark.parametrize("change", [{"seq": 41}, {"mac": "cd" * 32}, {"at": AT + timedelta(seconds=1)}])
def test_an_edited_checkpoint_is_not_authentic(change):
    checkpoint = sign_checkpoint(seq=42, mac="ab" * 32, at=AT, key=KEY)
    edited = type(checkpoint)(**{**checkpoint.__dict__, **change})
    assert not is_authentic(edited, KEYS)


@pytest.mark.parametrize("line", ["", "{}", "[1]", '{"seq": "1", "mac": "", "at": "2026-03-09T06:05:00+00:00", '
                                  '"key_id": "", "signature": ""}', "not json"])
def test_a_malformed_checkpoint_line_is_rejected(line):
    with pytest.raises(ValueError, match="malformed"):
        checkpoint_from_line(line)


# --- verification ------------------------------------------------------------------------------------


def test_an_intact_chain_verifies():
    result = verify_rows(chain(50), keys=KEYS)
    assert (result.ok, result.checked, result.first_bad_seq, result.last_seq, result.problem) == (
        True, 50, None, 50, None)


def test_an_empty_chain_verifies():
    assert verify_rows([], keys=KEYS).ok


def test_a_range_verifies_from_the_previous_rows_mac():
    rows = chain(20)
    result = verify_rows(rows[9:], keys=KEYS, start_seq=10, prev_mac=rows[8][-1])
    assert (result.ok, result.checked, result.last_seq) == (True, 11, 20)


def test_an_edited_row_fails_at_its_seq():
    rows = chain(10)
    rows[4] = (*content(5, reason="改过"), rows[4][-2], rows[4][-1])  # content changed, links and MAC kept

    result = verify_rows(rows, keys=KEYS)

    assert (result.ok, result.first_bad_seq, result.problem, result.checked) == (False, 5, Problem.MAC_MISMATCH, 4)
    assert result.reason == "mac_mismatch: row 5's content does not match its MAC"


def test_a_deleted_row_is_a_gap_named_by_the_missing_seq():
    rows = chain(10)
    del rows[3]

    result = verify_rows(rows, keys=KEYS)

    assert (result.first_bad_seq, result.problem) == (4, Problem.GAP)
    assert result.reason == "gap: row 4 is missing (the next row is 5)"


def test_several_deleted_rows_are_named_as_a_range():
    rows = chain(10)
    del rows[3:6]
    assert verify_rows(rows, keys=KEYS).reason == "gap: row 4–6 is missing (the next row is 7)"


def test_a_deleted_row_renumbered_and_relinked_without_the_key_fails():
    rows = chain(10)
    del rows[3]
    renumbered = [(row[0] - 1, *row[1:]) for row in rows[3:]]  # 5…10 become 4…9
    renumbered[0] = (*renumbered[0][:-2], rows[2][-1], renumbered[0][-1])  # and 4 points at 3
    rows = rows[:3] + renumbered

    result = verify_rows(rows, keys=KEYS)

    assert (result.first_bad_seq, result.problem) == (4, Problem.MAC_MISMATCH)


def test_two_swapped_rows_break_the_link():
    rows = chain(10)
    rows[4], rows[5] = (rows[5][0] - 1, *rows[5][1:]), (rows[4][0] + 1, *rows[4][1:])

    result = verify_rows(rows, keys=KEYS)

    assert (result.first_bad_seq, result.problem) == (5, Problem.LINK_BREAK)


def test_rows_out_of_order_are_reported():
    rows = chain(5)
    rows[2], rows[3] = rows[3], rows[2]
    assert (verify_rows(rows, keys=KEYS).problem, verify_rows(rows, keys=KEYS).first_bad_seq) == (Problem.GAP, 3)
    assert verify_rows([rows[0], rows[0]], keys=KEYS).problem == Problem.ORDER


def test_a_forged_row_with_a_made_up_mac_fails():
    rows = chain(10)
    forged = (*content(11, action="case.close"), rows[-1][-1], "f" * 64)

    result = verify_rows([*rows, forged], keys=KEYS)

    assert (result.first_bad_seq, result.problem) == (11, Problem.MAC_MISMATCH)


def test_a_row_sealed_with_an_unregistered_key_fails():
    rows = chain(10)
    rows[6] = reseal(rows[6], key=OTHER_KEY, key_id=OTHER_KEY.key_id)

    result = verify_rows(rows, keys=KEYS)

    assert (result.first_bad_seq, result.problem) == (7, Problem.UNKNOWN_KEY)


def test_a_chain_continues_across_a_key_rotation_when_the_old_key_is_kept():
    old = chain(5, key=OTHER_KEY)
    new = chain(5, key=KEY, start=6, prev_mac=old[-1][-1])

    assert verify_rows([*old, *new], keys=keyring("test-audit-secret", ["someone-elses-secret"])).ok
    assert verify_rows([*old, *new], keys=KEYS).problem == Problem.UNKNOWN_KEY


def test_a_cut_off_tail_fails_against_an_anchor():
    rows = chain(10)
    anchors = [Anchor(10, rows[9][-1], "the checkpoint of today")]

    result = verify_rows(rows[:7], keys=KEYS, anchors=anchors)

    assert (result.ok, result.first_bad_seq, result.problem, result.checked) == (False, 8, Problem.TRUNCATED, 7)
    assert result.reason == "truncated: the chain ends at row 7 but the checkpoint of today records row 10"


def test_a_chain_rewritten_with_the_key_fails_against_an_anchor():
    rows = chain(10)
    anchor = Anchor(10, rows[9][-1], "the checkpoint of today")
    rewritten = rows[:3]
    for row in rows[3:]:
        rewritten.append(reseal(row, prev_mac=rewritten[-1][-1], reason="重写" if row[0] == 4 else row[13]))

    assert verify_rows(rewritten, keys=KEYS).ok  # internally consistent …
    result = verify_rows(rewritten, keys=KEYS, anchors=[anchor])  # … but not what was anchored
    assert (result.first_bad_seq, result.problem, result.anchors) == (10, Problem.ANCHOR_MISMATCH, 0)


def test_matching_anchors_are_counted():
    rows = chain(10)
    anchors = [Anchor(5, rows[4][-1], "a"), Anchor(10, rows[9][-1], "b"), Anchor(10, rows[9][-1], "head")]
    assert verify_rows(rows, keys=KEYS, anchors=anchors).anchors == 3


def test_the_canonical_encoder_writes_what_json_dumps_writes():
    from yidi.audit.domain import _encode

    sample = [{"b": 1.5, "a": [None, True, False, "中文\n\"", 10**20, -3]}, "x", 0.1, {}]
    assert _encode(sample) == json.dumps(sample, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    with pytest.raises(ValueError):
        _encode([float("inf")])
