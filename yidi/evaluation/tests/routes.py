"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`); the rules behind
"token" are tested in `yidi/evaluation/tests/test_api.py`."""

MATRIX: dict[str, str | set[str]] = {
    "api_case_evaluations": "token",
    "api_case_return_visits": "token",
    "api_case_return_visit": "token",
}
SAMPLE_ARGS: dict[str, object] = {}
