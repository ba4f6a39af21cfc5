"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`).

Every page is open to the case-reading roles; the views then scope what each sees (`supervision.queries`), and
the actions decide who may take each step (`supervision.domain.denial_reason`). 人工上报 (`alert_new`) is only for
the roles that oversee a region; anybody else gets 403."""

CASE_READERS = {"grid_worker", "registrar", "dispatcher", "handler", "mediator", "leader", "supervisor"}
MATRIX: dict[str, str | set[str]] = {
    "alert_list": CASE_READERS,
    "alert_new": {"dispatcher", "supervisor", "leader"},
    "alert_detail": CASE_READERS,
    "alert_step": CASE_READERS,
    "command_tasks": CASE_READERS,
    "command_task_complete": CASE_READERS,
    "command_view": CASE_READERS,
    "command_task_assign": CASE_READERS,
    "command_instruction": CASE_READERS,
    "api_alerts": "token",
    "api_alert": "token",
}
SAMPLE_ARGS: dict[str, object] = {"alert_id": 1, "step": "assess", "task_id": 1}
