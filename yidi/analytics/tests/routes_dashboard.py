"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`)."""

MATRIX: dict[str, str | set[str]] = {}
SAMPLE_ARGS: dict[str, object] = {}
