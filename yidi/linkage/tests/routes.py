"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`)."""

CASE_READERS = {"grid_worker", "registrar", "dispatcher", "handler", "mediator", "leader", "supervisor"}
MATRIX: dict[str, str | set[str]] = {
    # the overview and a platform's mirror (no personal data): dispatchers, leaders, supervisors
    "linkage_home": {"dispatcher", "leader", "supervisor"},
    "linkage_peer": {"dispatcher", "leader", "supervisor"},
    "linkage_assign": {"dispatcher"},  # 上级交办
    "linkage_case": CASE_READERS,  # then the matter through accounts.access
    "linkage_case_transfer": {"registrar", "dispatcher"},  # POST; the decline's own rules then apply
    # what another instance posts: a client token with linkage:exchange, bound to an active peer
    "api_linkage_case_report": "token",
    "api_linkage_figures_report": "token",
    "api_linkage_transfer": "token",
    "api_linkage_assignment": "token",
    "api_linkage_transfer_result": "token",
}
SAMPLE_ARGS: dict[str, object] = {"peer_id": 1}
