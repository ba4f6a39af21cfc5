"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`).

Every action of the native API is its own route (POST /api/v1/cases/{code}/actions/<action>); they share the URL
name `api_case_action`, whose row is in the core matrix. The rules behind "token" (scope, matter scope, If-Match,
Idempotency-Key) are tested in `yidi/cases/tests/test_api*.py`.
"""

MATRIX: dict[str, str | set[str]] = {
    "api_cases_overdue": "token",
    "api_case_contacts": "token",
    "api_case_visits": "token",
    "api_case_deadlines": "token",
}
SAMPLE_ARGS: dict[str, object] = {}
