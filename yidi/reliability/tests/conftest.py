"""The fault tests that commit for real (`real_commits`) need the test database set up like a `db` test, but
without `db`'s wrapping transaction: pytest-django sets up only the databases its collected tests ask for, so a
run of such a test alone would find no test database. Each of them asks for the default one here."""

import pytest
import pytest_django.fixtures

from yidi.reliability.tests.support import committing

_databases_for_test = pytest_django.fixtures._get_databases_for_test


def _with_real_commits(test):
    if "real_commits" in getattr(test, "fixturenames", ()):
        return ("default",), False
    return _databases_for_test(test)


pytest_django.fixtures._get_databases_for_test = _with_real_commits


@pytest.fixture
def real_commits(django_db_setup, django_db_blocker):
    """The test commits for real in the test database; every row it added is removed afterwards."""
    with committing(django_db_blocker):
        yield
