"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`); the rules behind
"token" are tested in `yidi/mediation/tests/test_api.py`."""

MATRIX: dict[str, str | set[str]] = {
    "api_case_mediations": "token",
}
SAMPLE_ARGS: dict[str, object] = {}
