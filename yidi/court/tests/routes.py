"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`)."""

CASE_READERS = {"grid_worker", "registrar", "dispatcher", "handler", "mediator", "leader", "supervisor"}
MATRIX: dict[str, str | set[str]] = {
    # the exchange log of every matter in scope: dispatchers and leaders
    "court_exchange": {"dispatcher", "leader"},
    # one matter's log: anyone who may read the matter; recording an answer is then decided by the action
    "court_case": CASE_READERS,
    "court_apply_answer": CASE_READERS,
    # the court systems' API (token with court:exchange, signed bodies)
    "api_court_referrals": "token",
    "api_court_referral": "token",
    "api_court_acceptances": "token",
    "api_court_rulings": "token",
}
SAMPLE_ARGS: dict[str, object] = {"court_case_number": "(2026)浙0681民诉前调1号", "message_id": 1}
