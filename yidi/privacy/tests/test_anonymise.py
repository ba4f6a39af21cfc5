"""Retention: matters past their retention period lose their personal data but keep their statistics, and the
audit chain still verifies. The job is idempotent and has a dry run."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from yidi.audit.actions import verify_chain
from yidi.audit.models import AuditEvent
from yidi.cases import actions as case_actions
from yidi.cases.builders import make_case, make_party
from yidi.cases.models import (
    Assignment,
    Attachment,
    Case,
    CaseDeadline,
    CaseEvent,
    CaseParty,
    Contact,
    Person,
    Visit,
)
from yidi.core import clock
from yidi.privacy.actions import do_save_retention_rule
from yidi.privacy.domain import ANONYMISED_TEXT
from yidi.privacy.jobs import anonymise_expired
from yidi.privacy.models import Anonymisation, RetentionRule
from yidi.privacy.tests.conftest import archived_case, declined_case

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
ELEVEN_YEARS_AGO = datetime(2015, 11, 20, 2, 0, tzinfo=UTC)
NINE_YEARS_AGO = datetime(2017, 12, 1, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PERSON_FIELDS = ("name", "id_number", "phone", "address", "id_number_hash", "phone_hash", "name_phone_hash")
STATISTICS = ("code", "status", "channel_id", "request_type", "region_id", "primary_type_id", "grade", "complexity",
              "people_involved", "amount_involved", "registered_at", "accepted_at", "concluded_at", "closed_at",
              "outcome", "evaluation", "handling_mode", "lead_unit_id", "registering_unit_id", "version")
COUNTED = (Case, CaseParty, CaseEvent, Assignment, Contact, Visit, Person, CaseDeadline, Attachment)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def statistics(case) -> dict:
    return Case.objects.filter(pk=case.pk).values(*STATISTICS).get()


def people(case) -> list[tuple]:
    return [tuple(getattr(party.person, name) for name in PERSON_FIELDS)
            for party in case.parties.select_related("person").order_by("position")]


@pytest.fixture
def old_archived(retention_rules, registrar, dispatcher, handler, fq_platform):
    return archived_case(at=ELEVEN_YEARS_AGO, registrar=registrar, dispatcher=dispatcher, handler=handler,
                         lead_unit=fq_platform)


def test_a_matter_archived_more_than_ten_years_ago_loses_its_personal_data_and_keeps_its_statistics(old_archived):
    before, figures = counts(), statistics(old_archived)
    chain_before = list(AuditEvent.objects.order_by("seq").values_list("seq", "mac"))

    report = anonymise_expired(NOW)

    assert (report.anonymised, report.failures, [item.code for item in report.found]) == (1, 0, [old_archived.code])
    assert counts() == before
    assert statistics(old_archived) == figures
    assert people(old_archived) == [("陈**", "", "", "", "", "", ""), ("王**", "", "", "", "", "", "")]
    case = Case.objects.get(pk=old_archived.pk)
    assert (case.title, case.description, case.address, case.latitude) == (
        "枫源村两户因排水沟堵塞发生争执", ANONYMISED_TEXT, "", None)
    assert list(Contact.objects.filter(case=case).values_list("summary", flat=True)) == [ANONYMISED_TEXT]
    done = Anonymisation.objects.get()
    assert (done.case_id, done.record_type, done.retention_years, done.retention_started_at, done.anonymised_at,
            done.persons_anonymised, done.persons_detached) == (
        case.pk, "archived_case", 10, ELEVEN_YEARS_AGO, NOW, 2, 0)
    [row] = AuditEvent.objects.filter(action="privacy.anonymise")
    assert (row.actor_username, row.object_type, row.object_id, row.outcome, row.reason) == (
        "system", "case", case.code, "success", "超过保存期限：已办结并归档的事项保存 10 年（自归档之日起）")
    assert row.data == {"record_type": "archived_case", "retention_years": 10,
                        "retention_started_at": ELEVEN_YEARS_AGO.isoformat(), "persons_anonymised": 2,
                        "persons_detached": 0, "attachments_removed": 0}
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "mac"))[: len(chain_before)] == chain_before
    assert verify_chain().ok


def test_running_the_job_again_changes_nothing(old_archived):
    anonymise_expired(NOW)
    after_first = (counts(), AuditEvent.objects.count(), people(old_archived))

    report = anonymise_expired(NOW)

    assert (report.found, report.anonymised) == ([], 0)
    assert (counts(), AuditEvent.objects.count(), people(old_archived)) == after_first
    assert Anonymisation.objects.count() == 1
    assert verify_chain().ok


def test_a_dry_run_lists_the_expired_matters_and_changes_nothing(old_archived):
    before = (counts(), AuditEvent.objects.count(), people(old_archived))

    report = anonymise_expired(NOW, dry_run=True)

    assert [(item.code, item.record_type, item.retention_years) for item in report.found] == [
        (old_archived.code, "archived_case", 10)]
    assert str(report) == "试运行：1 件事项已超过保存期限，将做匿名化处理（未做任何修改）"
    assert (counts(), AuditEvent.objects.count(), people(old_archived)) == before
    assert Anonymisation.objects.count() == 0


def test_a_matter_archived_nine_years_ago_is_kept(retention_rules, registrar, dispatcher, handler, fq_platform):
    recent = archived_case(at=NINE_YEARS_AGO, registrar=registrar, dispatcher=dispatcher, handler=handler,
                           lead_unit=fq_platform)

    assert anonymise_expired(NOW).found == []
    assert people(recent)[0][:2] == ("陈建国", "330681198003150017")


def test_open_and_closed_but_unarchived_matters_are_never_anonymised(
    retention_rules, registrar, dispatcher, handler, fq_platform
):
    from yidi.cases.builders import advance_case
    from yidi.cases.domain import CaseStatus

    with clock.at(datetime(2010, 5, 1, 2, 0, tzinfo=UTC)):
        make_case(registrar)
        closed = advance_case(make_case(registrar), CaseStatus.CLOSED, dispatcher=dispatcher, handler=handler,
                              lead_unit=fq_platform)

    assert anonymise_expired(NOW).found == []
    assert people(closed)[0][0] == "陈建国"


def test_a_not_accepted_matter_is_anonymised_three_years_after_the_decision(retention_rules, registrar, dispatcher):
    with clock.at(datetime(2022, 6, 1, 2, 0, tzinfo=UTC)):
        old = make_case(registrar)
        case_actions.do_decline_case(old.code, actor=dispatcher, reason="陈建国（13805751234）反映的事项应由法院处理",
                                     route_told="已告知陈建国向人民法院起诉")
    recent = declined_case(at=datetime(2024, 6, 1, 2, 0, tzinfo=UTC), registrar=registrar, dispatcher=dispatcher)

    report = anonymise_expired(NOW)

    assert [(item.code, item.record_type) for item in report.found] == [(old.code, "not_accepted_case")]
    decline = CaseEvent.objects.get(case=old, action="decline")
    assert (decline.reason, decline.data) == (
        "陈**（138****1234）反映的事项应由法院处理", {"route_told": "已告知陈**向人民法院起诉"})
    assert people(recent)[0][0] == "陈建国"


def test_a_declined_matter_archived_later_still_counts_from_the_decision(retention_rules, registrar, dispatcher):
    declined = declined_case(at=datetime(2022, 6, 1, 2, 0, tzinfo=UTC), registrar=registrar, dispatcher=dispatcher)
    with clock.at(datetime(2025, 1, 1, 2, 0, tzinfo=UTC)):
        case_actions.do_archive_case(declined.code, actor=dispatcher)

    report = anonymise_expired(NOW)

    assert [(item.code, item.record_type, item.retention_started_at) for item in report.found] == [
        (declined.code, "not_accepted_case", datetime(2022, 6, 1, 2, 0, tzinfo=UTC))]


def test_a_person_also_party_to_a_live_matter_keeps_their_record_for_it(old_archived, registrar):
    live = make_case(registrar, parties=(make_party(),))  # 陈建国 again: the person index links both matters
    assert live.parties.get().person_id == old_archived.parties.get(role="applicant").person_id

    report = anonymise_expired(NOW)

    assert report.anonymised == 1
    assert people(live) == [("陈建国", "330681198003150017", "13805751234", "诸暨市枫桥镇枫源村3组18号",
                             *Person.objects.filter(pk=live.parties.get().person_id)
                             .values_list("id_number_hash", "phone_hash", "name_phone_hash").get())]
    assert people(old_archived) == [("陈**", "", "", "", "", "", ""), ("王**", "", "", "", "", "", "")]
    assert old_archived.parties.get(role="applicant").person_id != live.parties.get().person_id
    assert Contact.objects.get(case=old_archived).person_id == old_archived.parties.get(role="applicant").person_id
    assert Anonymisation.objects.values_list("persons_anonymised", "persons_detached").get() == (1, 1)


def test_attachment_files_are_deleted_after_the_commit_and_their_rows_kept(
    retention_rules, registrar, dispatcher, handler, fq_platform, django_capture_on_commit_callbacks
):
    with clock.at(ELEVEN_YEARS_AGO):
        case = make_case(registrar)
        attachment = case_actions.do_add_attachment(
            case.code, actor=registrar, upload=SimpleUploadedFile("陈建国身份证.png", PNG), description="陈建国身份证复印件")
    from yidi.cases.builders import advance_case
    from yidi.cases.domain import CaseStatus

    with clock.at(ELEVEN_YEARS_AGO):
        advance_case(case, CaseStatus.ARCHIVED, dispatcher=dispatcher, handler=handler, lead_unit=fq_platform)
    stored, storage = attachment.file.name, attachment.file.storage
    assert storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        anonymise_expired(NOW)

    assert not storage.exists(stored)
    kept = Attachment.objects.get(pk=attachment.pk)
    assert (kept.file.name, kept.original_name, kept.description, kept.size) == (
        "", "陈**身份证.png", "陈**身份证复印件", len(PNG))
    assert CaseEvent.objects.get(case=case, action="add_attachment").data["name"] == "陈**身份证.png"
    assert Anonymisation.objects.get().attachments_removed == 1


def test_an_inactive_rule_keeps_its_records(old_archived):
    RetentionRule.objects.filter(record_type="archived_case").update(is_active=False)

    assert anonymise_expired(NOW).found == []


def test_the_command_is_a_dry_run_unless_committed(old_archived, capsys):
    call_command("anonymise_expired")
    dry = capsys.readouterr().out
    assert old_archived.code in dry and "试运行：1 件事项已超过保存期限" in dry
    assert Anonymisation.objects.count() == 0

    call_command("anonymise_expired", "--commit")

    assert "已匿名化 1 件事项，失败 0 件" in capsys.readouterr().out
    assert Anonymisation.objects.count() == 1


def test_the_migration_seeds_the_proposed_periods_citing_that_they_are_a_local_decision(retention_rules):
    assert {key: rule.retention_years for key, rule in retention_rules.items()} == {
        "archived_case": 10, "not_accepted_case": 3}
    assert all("须由本地按档案管理规定确定" in rule.basis and "§6.4" in rule.basis for rule in retention_rules.values())


def test_changing_a_retention_period_is_audited_with_before_and_after(retention_rules, admin):
    rule = retention_rules["archived_case"]
    rule.retention_years = 30

    do_save_retention_rule(rule, actor=admin, created=False)

    row = AuditEvent.objects.get(action="privacy.retention_rule_update")
    assert (row.actor_username, row.object_id, row.fields, row.data) == (
        "sysadmin", "archived_case", ["retention_years"],
        {"before": {"retention_years": 10}, "after": {"retention_years": 30}})


def test_the_admin_site_saves_a_retention_rule_through_the_audited_action(retention_rules, admin, rf):
    from django.contrib import admin as django_admin

    from yidi.privacy.admin import RetentionRuleAdmin

    request = rf.post("/admin/")
    request.user = admin
    rule = retention_rules["not_accepted_case"]
    rule.retention_years, rule.basis = 5, "诸暨市档案馆 2026 年第 3 号通知"

    RetentionRuleAdmin(RetentionRule, django_admin.site).save_model(request, rule, form=None, change=True)

    assert RetentionRule.objects.get(record_type="not_accepted_case").retention_years == 5
    row = AuditEvent.objects.get(action="privacy.retention_rule_update")
    assert (row.object_id, row.fields, row.data["after"]) == (
        "not_accepted_case", ["basis", "retention_years"],
        {"basis": "诸暨市档案馆 2026 年第 3 号通知", "retention_years": 5})
