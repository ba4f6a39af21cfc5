import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from yidi.accounts.actions import (
    AccountError,
    do_create_user,
    do_delete_responsibility,
    do_grant_role,
    do_save_responsibility,
)
from yidi.accounts.models import ResponsibilityRevision, User, UserRole
from yidi.audit.models import AuditEvent


@pytest.mark.django_db
def test_the_database_refuses_a_second_admin_role_even_without_the_application(admin):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserRole.objects.create(user=admin, role="auditor", is_admin_role=True)
    assert list(admin.roles.values_list("role", flat=True)) == ["system_admin"]


@pytest.mark.django_db
def test_the_database_refuses_an_admin_role_flagged_as_business(admin):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserRole.objects.create(user=admin, role="security_admin", is_admin_role=False)


@pytest.mark.django_db
def test_granting_a_business_role_to_an_admin_is_refused_and_changes_nothing(admin):
    with pytest.raises(AccountError, match="三员分立"):
        do_grant_role(admin, "dispatcher", actor=None)
    assert list(admin.roles.values_list("role", flat=True)) == ["system_admin"]


@pytest.mark.django_db
def test_create_user_command_provisions_an_account(capsys):
    call_command("create_user", "--username", "clerk2", "--role", "registrar", "--unit", "centre",
                 "--password", "Window-clerk-2026", "--name", "何窗口")
    user = User.objects.get(username="clerk2")
    assert (user.unit.code, user.role_codes, user.display_name) == ("centre", ["registrar"], "何窗口")
    assert user.check_password("Window-clerk-2026")
    assert "已开设账号 clerk2（窗口受理员）" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="user.create", object_id="clerk2").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "no-such-unit"], "未知或已停用的单位“no-such-unit”"),
        (["--unit", "centre", "--role", "auditor"], "三员分立：审计管理员不能兼任业务角色"),
        ([], "工作人员必须属于一个单位（--unit）"),
    ],
)
def test_create_user_refuses_bad_input_with_a_clear_message(args, message):
    with pytest.raises(CommandError) as error:
        call_command("create_user", "--username", "x1", "--role", "registrar", "--password", "Window-clerk-2026",
                     *args)
    assert str(error.value) == message
    assert not User.objects.filter(username="x1").exists()


@pytest.mark.django_db
def test_a_weak_password_is_refused():
    with pytest.raises(AccountError, match="密码不符合要求"):
        do_create_user(username="weak", password="12345678", roles=["registrar"], unit_code="centre")


@pytest.mark.django_db
def test_the_responsibility_list_keeps_its_history(admin):
    item = do_save_responsibility(unit_code="hrss", dispute_type_code="labour", level="county", note="牵头",
                                  actor=admin)
    do_delete_responsibility(item, actor=admin)
    operations = list(ResponsibilityRevision.objects.order_by("id").values_list("operation", flat=True))
    assert operations[-2:] == ["update", "delete"]
    assert ResponsibilityRevision.objects.latest("id").snapshot["dispute_type_code"] == "labour"


@pytest.mark.django_db
def test_the_system_admin_manages_reference_data_but_no_business_data(admin, client):
    assert admin.is_staff
    assert admin.has_perm("accounts.change_unit") and admin.has_perm("regions.view_region")
    assert admin.has_perm("cases.change_channel")
    assert not admin.has_perm("cases.view_case") and not admin.has_perm("audit.view_auditevent")
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    assert "单位" in page and "行政区划" in page and "审计记录" not in page


@pytest.mark.django_db
def test_business_staff_cannot_enter_the_admin_site(registrar, client):
    client.force_login(registrar)
    assert client.get("/admin/").status_code == 302
