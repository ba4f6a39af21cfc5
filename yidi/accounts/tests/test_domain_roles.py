import pytest

from yidi.accounts.domain import Role, RoleConflict, check_role_set


def test_business_roles_combine():
    check_role_set(frozenset({Role.HANDLER, Role.MEDIATOR}))


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ({Role.SYSTEM_ADMIN, Role.AUDITOR}, "三员分立：审计管理员、系统管理员不能由同一人兼任"),
        ({Role.SECURITY_ADMIN, Role.DISPATCHER}, "三员分立：安全管理员不能兼任业务角色"),
        ({Role.CITIZEN, Role.REGISTRAR}, "群众账号不能兼任工作人员角色"),
    ],
)
def test_forbidden_combinations_are_named(roles, message):
    with pytest.raises(RoleConflict) as error:
        check_role_set(frozenset(roles))
    assert str(error.value) == message
