"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`): the
implementation report page (GET the form, POST to generate and download) for leaders and supervisors."""

MATRIX: dict[str, str | set[str]] = {
    "implementation_report": {"leader", "supervisor"},
}
SAMPLE_ARGS: dict[str, object] = {}
