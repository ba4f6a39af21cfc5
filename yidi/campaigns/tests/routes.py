"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`).

Campaign pages open to the roles that read matters; the view then shows only the campaigns the user may see
(`yidi.campaigns.queries.campaign_scope`, 404 otherwise) and lets only its managers change them.
"""

CASE_READERS = {"grid_worker", "registrar", "dispatcher", "handler", "mediator", "leader", "supervisor"}
MATRIX: dict[str, str | set[str]] = {
    "campaign_list": CASE_READERS,
    "campaign_new": {"leader", "supervisor", "dispatcher"},
    "campaign_detail": CASE_READERS,
    "campaign_edit": CASE_READERS,
    "campaign_activate": CASE_READERS,
    "campaign_end": CASE_READERS,
    "campaign_link": CASE_READERS,
    "campaign_unlink": CASE_READERS,
    "campaign_export_csv": CASE_READERS,
    "campaign_export_xlsx": CASE_READERS,
    "api_campaigns": "token",
    "api_campaign": "token",
}
SAMPLE_ARGS: dict[str, object] = {"campaign_id": 1}
