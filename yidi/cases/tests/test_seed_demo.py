"""The demo seeder: deterministic, idempotent, and every matter driven through the real actions."""

import re
from collections import Counter

import pytest
from django.core.management import call_command

from yidi.accounts.models import Unit, User
from yidi.audit.actions import verify_chain
from yidi.audit.models import AuditEvent
from yidi.cases.models import Case, CaseEvent


@pytest.mark.django_db
def test_the_demo_county_is_seeded_through_the_actions_and_a_second_run_changes_nothing(capsys, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path  # never the developer's checkpoints: this is another chain
    from yidi.integrations.models import OutboxMessage

    texts_before = OutboxMessage.objects.count()  # tests that commit for real on PostgreSQL may have left some
    call_command("seed_demo", "--commit", "--matters", "40", "--until", "2026-11-28")
    out = capsys.readouterr().out
    assert "事项 40 件" in out and "registrar" in out and "Yidi-demo-2026" in out
    assert "调解：专家库 12 名调解员、品牌调解室 3 个、各调解环节的演示事项 10 件" in out
    # the mediation demo's matters (one at each step, and a petition) and the pre-festival wage-arrears cluster
    assert "风险预警：春节前欠薪聚集 12 件，已生成预警" in out
    assert Case.objects.count() == 40 + 10 + 12
    from yidi.supervision.models import Alert

    # the group-incident alert; on a history this short the season's wage arrears also stand out
    assert Alert.objects.filter(kind="cluster").count() == 1
    assert Unit.objects.filter(kind="village_committee", code__startswith="330681").count() == 515
    assert Unit.objects.filter(kind="department").count() >= 20
    assert User.objects.filter(roles__role="mediator").count() >= 50
    # every matter's timeline starts with its registration, and every event has its audit row
    assert set(CaseEvent.objects.filter(seq=1).values_list("action", flat=True)) == {"register"}
    assert AuditEvent.objects.filter(action__startswith="case.").count() == CaseEvent.objects.count()
    # the simulated months of activity (registrations, hand-offs, sweeps, mediation) leave an intact audit chain
    result = verify_chain()
    assert (result.ok, result.checked) == (True, AuditEvent.objects.count())
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert len(statuses) >= 4
    from yidi.mediation.models import JudicialConfirmation, Mediation, MediationRoom, Mediator

    assert (Mediator.objects.count(), MediationRoom.objects.count()) == (12, 3)
    assert set(Mediation.objects.values_list("status", flat=True)) == {
        "preparing", "awaiting_response", "mediating", "signing", "agreed", "failed", "refused"}
    ruled = JudicialConfirmation.objects.get(ruling="confirmed")
    assert ruled.number == "（2026）浙0681民特调确字第0417号" and ruled.agreement.effective_at is not None
    # history texts nobody; the return visits due before the demo's last days were recorded, two found risk
    from datetime import date, timedelta

    from yidi.evaluation.models import ReturnVisit
    assert OutboxMessage.objects.count() == texts_before
    visits = ReturnVisit.objects.all()
    assert visits.exists()
    overdue = visits.filter(status="scheduled", due_on__lt=date(2026, 11, 28) - timedelta(days=5))
    assert list(overdue.values_list("follow_up_of__risk_remaining", flat=True)) == [True, True]  # risk follow-ups
    assert visits.filter(status="done", risk_remaining=True).count() == 2
    assert re.search(r"回访：已登记到期回访 \d+ 次，其中发现风险 2 次", out)
    events, cases = CaseEvent.objects.count(), Case.objects.count()
    call_command("seed_demo", "--commit", "--matters", "40", "--until", "2026-11-28")
    assert "演示数据已存在" in capsys.readouterr().out
    assert (CaseEvent.objects.count(), Case.objects.count()) == (events, cases)


@pytest.mark.django_db
def test_a_dry_run_writes_nothing(capsys):
    call_command("seed_demo", "--matters", "5", "--until", "2026-11-28")
    assert "演练完成，未写入" in capsys.readouterr().out
    assert not Case.objects.exists() and not Unit.objects.filter(code="arbitration").exists()


@pytest.mark.django_db
def test_demo_accounts_that_need_two_factor_get_the_published_demo_secret(capsys):
    from yidi.accounts.auth import has_two_factor

    call_command("seed_demo", "--commit", "--matters", "1", "--until", "2026-11-28")
    assert has_two_factor(User.objects.get(username="leader")) and has_two_factor(User.objects.get(username="sysadmin"))
    assert not has_two_factor(User.objects.get(username="registrar"))
    call_command("demo_code", "leader")
    assert capsys.readouterr().out.strip()[-6:].isdigit()
    with pytest.raises(Exception, match="没有使用演示密钥"):
        call_command("demo_code", "registrar")
