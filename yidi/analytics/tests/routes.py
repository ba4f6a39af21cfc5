"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`)."""

OVERSIGHT = {"leader", "supervisor", "dispatcher"}
MATRIX: dict[str, str | set[str]] = {
    "analytics_kpis": OVERSIGHT,
    "analytics_kpis_export": OVERSIGHT,
    "analytics_matters": OVERSIGHT,
    "analytics_matters_export": OVERSIGHT,
    "analytics_rankings": OVERSIGHT,
    "analytics_rankings_export": OVERSIGHT,
    "api_analytics_kpis": "token",
    "api_analytics_rankings": "token",
}
SAMPLE_ARGS: dict[str, object] = {"table_format": "csv"}
