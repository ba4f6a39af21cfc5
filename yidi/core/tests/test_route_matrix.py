"""Every URL is in the role × route matrix (deny by default), and no page is reachable without logging in.

A new URL fails `test_every_route_is_in_the_matrix` until its access rule is written down here. The object-level
rules (region, responsibility, assignment) are tested per app; this file holds the route-level layer.
"""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import URLResolver, get_resolver, reverse

# name → who may open it: "public" (no log-in), "authenticated" (any signed-in account; the view itself then
# scopes the data), "token" (the native API /api/v1/: an integration client's bearer token with the operation's
# scope, never a session; without one 401 JSON; scope and object rules in yidi/cases/tests/test_api.py), or the
# set of roles (the view answers 404 to anybody else), or "api_key" (Open311 /open311/v2/requests: a public read,
# and a create authenticated by an integration client's token in the form's `api_key`, never a session; without
# one 403 (400 for an empty form) in Open311's error format; rules in yidi/open311/tests/).
CASE_READERS = {"grid_worker", "registrar", "dispatcher", "handler", "mediator", "leader", "supervisor"}
MATRIX: dict[str, str | set[str]] = {
    "login": "public",
    "logout": "public",  # POST only; without a session it has nothing to end
    "two_factor_verify": "public",  # the second step of a log-in that is not finished yet
    # the citizen portal (/p/): no log-in; a matter's pages need the session's grant (verified phone or private
    # link) and answer 404 without one, like a matter that does not exist
    "portal_home": "public",
    "portal_submit": "public",
    "portal_submit_phone": "public",
    "portal_submit_done": "public",
    "portal_verify": "public",
    "portal_track": "public",
    "portal_token": "public",
    "portal_case": "public",
    "portal_evaluate": "public",
    "portal_add_material": "public",
    "two_factor_setup": "authenticated",
    "password_change": "authenticated",
    "account_security": "authenticated",
    "reauth": "authenticated",  # re-authentication before a sensitive action
    "workbench": "authenticated",
    "case_list": CASE_READERS,
    "case_register": {"registrar", "dispatcher", "grid_worker"},
    "case_triage": {"registrar", "dispatcher", "grid_worker"},
    "case_detail": CASE_READERS,
    "case_action": CASE_READERS,
    "case_add_contact": {"registrar", "dispatcher", "handler", "mediator", "grid_worker"},
    "case_record_visit": {"registrar", "dispatcher", "handler", "mediator", "grid_worker"},
    "case_add_attachment": {"registrar", "dispatcher", "handler", "mediator", "grid_worker"},
    "case_attachment": CASE_READERS,
    "urging_list": {"supervisor", "leader", "dispatcher"},
    "overdue": {"supervisor", "leader", "dispatcher"},
    "audit_event_list": {"auditor"},
    "audit_export": {"auditor"},
    "audit_verify": {"auditor"},
    "privacy_reveal": {"registrar", "dispatcher", "leader", "handler", "mediator"},
    "privacy_export_list": CASE_READERS,
    "privacy_export_new": CASE_READERS,
    "privacy_export_masked": CASE_READERS,
    "privacy_export_approvals": {"dispatcher", "leader", "supervisor"},
    "privacy_export_detail": CASE_READERS,
    "privacy_export_approve": {"dispatcher", "leader", "supervisor"},
    "privacy_export_refuse": {"dispatcher", "leader", "supervisor"},
    "privacy_export_download": CASE_READERS,
    "mediator_directory": {"dispatcher", "mediator", "leader"},
    "mediation_detail": CASE_READERS,
    "mediation_action": CASE_READERS,  # the action itself then admits the designated mediators and the lead unit
    # full ID numbers: the designated mediators, the lead unit (handlers, mediators) and the revealing roles
    "mediation_document_download": {"registrar", "dispatcher", "leader", "handler", "mediator"},
    # hand-offs: the action admits those who may divert (lead unit) or track (dispatcher, lead unit)
    "mediation_handoff_action": CASE_READERS,
    "mediation_handoff_package": {"dispatcher", "handler", "mediator"},
    "mediation_archive": CASE_READERS,  # the action then admits dispatchers and registrars (archive role)
    "mediation_archive_download": {"registrar", "dispatcher", "leader", "handler", "mediator"},
    "subsidy_ledger": {"dispatcher", "leader", "supervisor"},
    "subsidy_statement_csv": {"dispatcher", "leader", "supervisor"},
    "subsidy_statement_xlsx": {"dispatcher", "leader", "supervisor"},
    # grid workers' pages: grid workers and village-committee clerks; other clerks are sent to the workbench (302)
    "grid_home": {"grid_worker", "registrar"},
    "grid_report": {"grid_worker", "registrar"},
    "grid_find": {"grid_worker", "registrar"},
    "grid_case": {"grid_worker", "registrar"},
    "grid_follow_up": {"grid_worker", "registrar"},
    "grid_on_spot": {"grid_worker", "registrar"},
    "grid_record_visit": {"grid_worker", "registrar"},
    # evaluation and return visits: the worklist for those who record visits (dispatchers, supervisors read it)
    "return_visit_list": {"handler", "mediator", "registrar", "grid_worker", "dispatcher", "supervisor"},
    "return_visit_record": {"handler", "mediator", "registrar", "grid_worker", "dispatcher", "supervisor"},
    "return_visit_acknowledge_risk": {"dispatcher"},
    "return_visit_risks": {"supervisor", "leader", "dispatcher"},
    "evaluation_dissatisfied": {"supervisor", "leader", "dispatcher"},
    # 12345 imports: registrars and dispatchers of region-wide units; a run is seen within the importer's region
    "hotline_import": {"registrar", "dispatcher"},
    "hotline_import_run": {"registrar", "dispatcher"},
    "hotline_import_progress": {"registrar", "dispatcher"},
    "hotline_import_rejects": {"registrar", "dispatcher"},
    # the native API: its description and docs are public (no data); every operation needs a token
    "openapi-json": "public",
    "openapi-view": "public",
    "api-root": "public",  # ninja's marker for /api/v1/ itself: always 404
    "api_cases": "token",
    "api_case": "token",
    "api_case_action": "token",
    "api_reference_channels": "token",
    "api_reference_taxonomy": "token",
    "api_reference_regions": "token",
    "api_ping": "public",
    # Open311 GeoReport v2: public reads without personal data (only matters of the open311 channel)
    "open311_discovery": "public",
    "open311_services": "public",
    "open311_service": "public",
    "open311_requests": "api_key",
    "open311_request": "public",
}
SAMPLE_ARGS = {"code": "330681-2026-999999", "party_id": 1, "field": "phone", "action": "accept", "export_id": 1,
               "attachment_id": 1, "document_id": 1, "fmt": "pdf", "handoff_id": 1, "visit_id": 1, "run_id": 1,
               "token": "x" * 43, "response_format": "json", "service_code": "neighbour"}


def _app_routes() -> None:
    """An app may keep its own rows in `yidi/<app>/tests/routes.py` (`MATRIX`, optional `SAMPLE_ARGS`; also `routes_<part>.py`): they join
    the matrix here, so the rule for each URL sits beside the app's tests, and apps never edit this file at once."""
    for config in apps.get_app_configs():
        if not config.name.startswith("yidi."):
            continue
        folder = Path(config.path) / "tests"
        for path in sorted(folder.glob("routes*.py")):
            module = importlib.import_module(f"{config.name}.tests.{path.stem}")
            overlap = set(module.MATRIX) & set(MATRIX)
            assert not overlap, f"{config.name}: routes already in the matrix: {overlap}"
            MATRIX.update(module.MATRIX)
            SAMPLE_ARGS.update(getattr(module, "SAMPLE_ARGS", {}))


_app_routes()


NAMESPACES: dict[str, str] = {}  # URL name → its namespace (the API's "api-v1"), filled by `_routes`


def _routes(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):  # the admin site checks staff and role scopes itself
                continue
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        else:
            NAMESPACES[pattern.name] = namespace
            yield pattern


def _url(pattern) -> str:
    namespace = NAMESPACES.get(pattern.name)
    name = f"{namespace}:{pattern.name}" if namespace else pattern.name
    return reverse(name, kwargs={key: SAMPLE_ARGS[key] for key in pattern.pattern.converters})


def test_every_route_is_in_the_matrix():
    names = {pattern.name for pattern in _routes(get_resolver().url_patterns)}
    assert None not in names, "every URL pattern needs a name"
    assert names == set(MATRIX), f"missing from the matrix: {names - set(MATRIX)}; stale: {set(MATRIX) - names}"


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", list(_routes(get_resolver().url_patterns)), ids=lambda p: p.name)
def test_no_page_but_the_public_ones_answers_without_a_log_in(client, pattern):
    url = _url(pattern)
    for method in (client.get, client.post):
        response = method(url)
        if MATRIX[pattern.name] == "token":
            # the API never redirects to the log-in page: 401 JSON (405 for a method the route does not have)
            assert response.status_code in (401, 405), f"{method.__name__.upper()} {url} answered {response.status_code}"
            if response.status_code == 401:
                assert response.json()["code"] == "unauthenticated"
        elif MATRIX[pattern.name] == "api_key":
            # the read is public; a create without an api_key is refused in Open311's format, never redirected
            allowed = (200,) if method == client.get else (400, 403)
            assert response.status_code in allowed, f"{method.__name__.upper()} {url} answered {response.status_code}"
            if method == client.post:
                assert response.json()[0]["code"] == response.status_code
        elif MATRIX[pattern.name] == "public":
            # an empty POST to a public form is refused (400); an object without the session's grant is 404
            assert response.status_code in (200, 302, 400, 404, 405)
        else:
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), (
                f"{method.__name__.upper()} {url} answered {response.status_code}"
            )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["registrar", "dispatcher", "handler", "supervisor", "admin", "citizen"])
def test_routes_without_arguments_refuse_roles_outside_the_matrix(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for pattern in _routes(get_resolver().url_patterns):
        allowed = MATRIX[pattern.name]
        if pattern.pattern.converters or isinstance(allowed, str):
            continue
        response = client.get(_url(pattern))
        if user.role_set & allowed:
            assert response.status_code in (200, 302, 405), f"{persona} {pattern.name}: {response.status_code}"
        else:
            assert response.status_code in (403, 404, 405), f"{persona} {pattern.name}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", [p for p in _routes(get_resolver().url_patterns) if MATRIX[p.name] == "token"],
                         ids=lambda p: p.name)
def test_a_session_never_opens_a_token_route(client, dispatcher, pattern):
    client.force_login(dispatcher)

    response = client.get(_url(pattern))

    assert response.status_code in (401, 405)
