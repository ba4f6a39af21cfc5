"""`audit_verify` and `audit_checkpoint`: thin commands over `verify_chain` and `write_checkpoint`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from yidi.audit import domain
from yidi.audit.actions import CHECKPOINT_FILE, audit_keys
from yidi.audit.models import AuditEvent, AuditOutcome
from yidi.audit.tests.conftest import add_events, last_seq, tampering

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def test_an_intact_chain_prints_a_summary_and_the_run_is_audited():
    add_events(5)
    end = last_seq()

    text = verify()

    assert text.startswith(f"审计日志链完好 / audit chain intact：已校验 {end} 条（第 1–{end} 条），核对检查点与链头 1 处")
    assert f"{end} rows checked, 1 checkpoint/head anchors matched" in text
    run = AuditEvent.objects.latest("seq")
    assert (run.seq, run.action, run.actor_username, run.outcome) == (end + 1, "audit.verify", "system", "success")
    assert run.data == {"from_seq": None, "to_seq": None, "checked": end, "last_seq": end, "first_bad_seq": None, "chain": None,
                        "anchors": 1}


def test_a_broken_chain_exits_1_naming_the_first_broken_row_and_the_failure_is_audited():
    events = add_events(5)
    target = events[2].seq
    with tampering():
        AuditEvent.objects.filter(seq=target).update(reason="改过")

    with pytest.raises(CommandError) as error:
        verify()

    assert error.value.returncode == 1
    assert str(error.value) == (
        f"审计日志链校验未通过 / audit chain BROKEN：第 {target} 条记录 (row {target})：校验码不符（记录被篡改或伪造）\n"
        f"  mac_mismatch: row {target}'s content does not match its MAC\n"
        f"  此前已校验 {target - 1} 条 / {target - 1} rows checked before it"
    )
    run = AuditEvent.objects.latest("seq")
    assert (run.action, run.outcome, run.data["first_bad_seq"]) == ("audit.verify", AuditOutcome.FAILED, target)


def test_a_range_is_checked_with_from_and_to():
    events = add_events(10)

    text = verify("--from", str(events[2].seq), "--to", str(events[5].seq))

    assert f"已校验 4 条（第 {events[2].seq}–{events[5].seq} 条）" in text


@pytest.mark.parametrize("args", [("--from", "0"), ("--from", "5", "--to", "4")])
def test_a_bad_range_is_refused(args):
    with pytest.raises(CommandError, match="--from 须 ≥ 1"):
        verify(*args)


def test_audit_checkpoint_appends_a_signed_line_per_run(checkpoint_dir):
    add_events(2)
    out = StringIO()

    call_command("audit_checkpoint", stdout=out)
    call_command("audit_checkpoint", stdout=StringIO())

    lines = (checkpoint_dir / CHECKPOINT_FILE).read_text().splitlines()
    checkpoints = [domain.checkpoint_from_line(line) for line in lines]
    assert [c.seq for c in checkpoints] == [last_seq(), last_seq()]
    assert all(domain.is_authentic(c, audit_keys()) for c in checkpoints)
    assert out.getvalue().startswith(f"已写入检查点 / checkpoint written：第 {last_seq()} 条")
