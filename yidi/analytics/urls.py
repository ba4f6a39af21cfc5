from django.urls import path

from yidi.analytics import views

urlpatterns = [
    path("", views.kpi_table, name="analytics_kpis"),
    path("export.<str:table_format>", views.kpi_export, name="analytics_kpis_export"),
    path("matters/", views.matter_list, name="analytics_matters"),
    path("matters/export.<str:table_format>", views.matter_export, name="analytics_matters_export"),
    path("rankings/", views.ranking_page, name="analytics_rankings"),
    path("rankings/export.<str:table_format>", views.ranking_export, name="analytics_rankings_export"),
]
