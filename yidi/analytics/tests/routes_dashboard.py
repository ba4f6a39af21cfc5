"""This app's rows of the role × route matrix (joined in `yidi/core/tests/test_route_matrix.py`): the dashboards.

Like the KPI pages, they are for the roles that oversee a region; the view answers 404 to anybody else, and a
region, unit or mediator outside the user's region is 404 too (tests in `test_dashboard_scope.py`).
"""

OVERSIGHT = {"leader", "supervisor", "dispatcher"}
MATRIX: dict[str, str | set[str]] = {
    "dashboard_overview": OVERSIGHT,
    "dashboard_export": OVERSIGHT,
    "dashboard_rates": OVERSIGHT,
    "dashboard_matters": OVERSIGHT,
    "dashboard_matters_export": OVERSIGHT,
    "dashboard_unit": OVERSIGHT,
    "dashboard_unit_export": OVERSIGHT,
    "dashboard_mediators": OVERSIGHT,
    "dashboard_mediators_export": OVERSIGHT,
    "dashboard_region_map": OVERSIGHT,
}
SAMPLE_ARGS: dict[str, object] = {"dashboard_table": "summary", "unit_code": "centre", "county_code": "330681"}
