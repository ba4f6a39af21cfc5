"""API fuzzing (SDL-04): schemathesis generates requests from the OpenAPI document — valid ones and edge cases
of every parameter and body — and sends them in-process to the native API with a client token that holds every
scope. No request may end in a server error (5xx); refusals are the API's own 4xx answers.

The examples per operation are few (CI time); `YIDI_FUZZ_EXAMPLES` raises them for a longer run by hand.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from yidi.accounts.actions import do_create_api_client
from yidi.accounts.models import ApiScope
from yidi.cases.builders import make_case
from yidi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
EXAMPLES = int(os.environ.get("YIDI_FUZZ_EXAMPLES", "25"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The requests run in-process inside the test's transaction: like Django's test client, keep the end of a
    request from closing the connection (on PostgreSQL that would close the transaction under the test)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """Hundreds of generated requests a minute from one client: the per-client rate limit would answer most of them
    429 before they reach the operation under test (the limit has its own tests in yidi/cases/tests/)."""
    settings.YIDI_API_RATE_PER_MINUTE = 0


@pytest.fixture
def bearer(db, registrar):
    make_case(registrar)  # a matter in the client's township, so detail and action paths meet real rows too
    _client, token = do_create_api_client(name="fuzz", unit_code="fq-platform", scopes=list(ApiScope.values))
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_makes_a_server_error(case, bearer):
    case.call_and_validate(headers=bearer, checks=[not_a_server_error])
