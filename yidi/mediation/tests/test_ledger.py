"""以案定补: entries written when a mediation succeeds (split equally between the designated mediators, by the
matter's difficulty), monthly statements per mediator and per unit, CSV (UTF-8 BOM) and .xlsx exports opened and
checked; only dispatchers, leaders and supervisors of the scope see them."""

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from yidi.audit.models import AuditEvent
from yidi.cases.models import CaseEvent
from yidi.cases.tests.helpers import Counter
from yidi.core import clock
from yidi.mediation import actions, ledger
from yidi.mediation.builders import AGREEMENT, advance_mediation
from yidi.mediation.domain import MediationStatus, split_subsidy
from yidi.mediation.models import Mediation, SubsidyEntry, SubsidyRate
from yidi.mediation.queries import required_signers
from yidi.mediation.tests.helpers import at, matter_in_mediation


def test_split_subsidy_gives_the_remainder_to_the_lead_mediator():
    assert split_subsidy(Decimal("100.00"), 3) == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert split_subsidy(Decimal("300.00"), 1) == [Decimal("300.00")]


def test_seeded_rates_are_placeholders_for_the_local_decision(db):
    rates = {r.complexity: r.amount for r in SubsidyRate.objects.all()}
    assert rates == {"simple": Decimal("100.00"), "complex": Decimal("300.00"), "difficult": Decimal("800.00")}
    assert all("本地" in r.note for r in SubsidyRate.objects.all())


def test_a_written_agreement_splits_the_cases_amount_between_the_designated_mediators(
    registrar, dispatcher, mediator, wu, yang,
):
    case = matter_in_mediation(registrar, dispatcher, mediator, complexity="difficult")
    with clock.at(at(2026, 5, 6, 10, 0)):
        advance_mediation(case, MediationStatus.SIGNING, actor=mediator, mediator=wu)
        actions.do_designate_mediators(case.code, actor=mediator, mediator_ids=[yang.pk], source="committee")
        mediation = Mediation.objects.get(case=case)
        actions.do_record_signatures(case.code, actor=mediator,
                                     signer_keys=[s.key for s in required_signers(mediation)])
        counter = Counter()
        actions.do_make_agreement_effective(case.code, actor=mediator)
    assert counter.added() == (2, 2)  # and the return visit scheduled by `yidi.evaluation`
    entries = {e.mediator_id: e for e in SubsidyEntry.objects.filter(case=case)}
    assert {k: e.amount for k, e in entries.items()} == {wu.pk: Decimal("400.00"), yang.pk: Decimal("400.00")}
    assert {e.earned_on for e in entries.values()} == {date(2026, 5, 6)}
    assert CaseEvent.objects.filter(case=case, action="make_agreement_effective").latest("seq").data["subsidy"] == "800.00"


def test_an_oral_agreement_earns_the_simple_amount_and_a_failure_earns_nothing(registrar, dispatcher, mediator, wu):
    oral = matter_in_mediation(registrar, dispatcher, mediator)
    failed = matter_in_mediation(registrar, dispatcher, mediator)
    with clock.at(at(2026, 5, 7, 10, 0)):
        advance_mediation(oral, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
        actions.do_record_oral_agreement(oral.code, actor=mediator, content=AGREEMENT)
        advance_mediation(failed, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
        actions.do_record_failure(failed.code, actor=mediator, reason="分歧过大", routes_told="已告知可以起诉")
    assert list(SubsidyEntry.objects.values_list("case_id", "amount")) == [(oral.pk, Decimal("100.00"))]


@pytest.fixture
def month_of_entries(registrar, dispatcher, mediator, wu):
    for day in (4, 18):
        case = matter_in_mediation(registrar, dispatcher, mediator, complexity="complex" if day == 18 else "simple")
        with clock.at(at(2026, 5, day, 10, 0)):
            advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
            actions.do_record_oral_agreement(case.code, actor=mediator, content=AGREEMENT)
    case = matter_in_mediation(registrar, dispatcher, mediator)
    with clock.at(at(2026, 6, 1, 10, 0)):
        advance_mediation(case, MediationStatus.MEDIATING, actor=mediator, mediator=wu)
        actions.do_record_oral_agreement(case.code, actor=mediator, content=AGREEMENT)


def test_the_monthly_statement_sums_per_mediator_and_per_unit(month_of_entries, dispatcher, wu):
    statement = ledger.get_statement(dispatcher, date(2026, 5, 20))
    assert statement.month == date(2026, 5, 1) and statement.total == Decimal("400.00")
    assert [(r["mediator__user__display_name"], r["cases"], r["total"]) for r in statement.per_mediator] == [
        ("吴调解", 2, Decimal("400.00"))]
    assert [(r["unit__name"], r["cases"], r["total"]) for r in statement.per_unit] == [
        ("枫源村人民调解委员会", 2, Decimal("400.00"))]


def test_the_csv_has_a_bom_and_the_xlsx_opens_with_the_same_figures(month_of_entries, dispatcher, client):
    client.force_login(dispatcher)
    response = client.get("/mediation/subsidies/statement.csv?month=2026-05")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["以案定补月度结算表 2026年5月"]
    assert ["合计（元）", "400.00"] in rows
    assert ["吴调解", "枫源村人民调解委员会", "2", "400.00"] in rows

    response = client.get("/mediation/subsidies/statement.xlsx?month=2026-05")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    assert sheet.title == "2026-05"
    assert ["合计（元）", 400] in values
    assert AuditEvent.objects.filter(action="mediation.export_subsidy_statement").count() == 2
    page = client.get("/mediation/subsidies/?month=2026-05").content.decode()
    assert "以案定补月度结算" in page and "400.00" in page


def test_mediators_handlers_and_other_townships_do_not_see_the_ledger(
    month_of_entries, mediator, handler, outsider, client,
):
    for user in (mediator, handler):
        client.force_login(user)
        assert client.get("/mediation/subsidies/").status_code == 404
        assert client.get("/mediation/subsidies/statement.csv").status_code == 404
    assert not ledger.can_see_ledger(outsider) or ledger.get_statement(outsider, date(2026, 5, 1)).entries == []
