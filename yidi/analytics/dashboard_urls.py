from django.urls import path

from yidi.analytics import dashboards

urlpatterns = [
    path("", dashboards.overview_page, name="dashboard_overview"),
    path("export/<str:dashboard_table>.<str:table_format>", dashboards.overview_export, name="dashboard_export"),
    path("rates/", dashboards.rates_panel, name="dashboard_rates"),
    path("matters/", dashboards.matter_list, name="dashboard_matters"),
    path("matters/export.<str:table_format>", dashboards.matter_export, name="dashboard_matters_export"),
    path("units/<str:unit_code>/", dashboards.unit_detail, name="dashboard_unit"),
    path("units/<str:unit_code>/export/<str:dashboard_table>.<str:table_format>", dashboards.unit_export,
         name="dashboard_unit_export"),
    path("mediators/", dashboards.mediators_page, name="dashboard_mediators"),
    path("mediators/export.<str:table_format>", dashboards.mediators_export, name="dashboard_mediators_export"),
    path("maps/<str:county_code>.geojson", dashboards.region_map, name="dashboard_region_map"),
]
