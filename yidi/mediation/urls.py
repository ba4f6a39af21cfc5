from django.urls import path

from yidi.mediation import views

urlpatterns = [
    path("mediators/", views.mediator_directory, name="mediator_directory"),
    path("subsidies/", views.subsidy_ledger, name="subsidy_ledger"),
    path("subsidies/statement.csv", views.subsidy_statement_csv, name="subsidy_statement_csv"),
    path("subsidies/statement.xlsx", views.subsidy_statement_xlsx, name="subsidy_statement_xlsx"),
    path("cases/<str:code>/", views.mediation_detail, name="mediation_detail"),
    path("cases/<str:code>/actions/<str:action>/", views.mediation_action, name="mediation_action"),
    path("cases/<str:code>/documents/<int:document_id>.<str:fmt>", views.document_download,
         name="mediation_document_download"),
    path("cases/<str:code>/archive/", views.archive_file, name="mediation_archive"),
    path("cases/<str:code>/archive.<str:fmt>", views.archive_download, name="mediation_archive_download"),
    path("cases/<str:code>/handoffs/<str:action>/", views.handoff_action, name="mediation_handoff_action"),
    path("cases/<str:code>/handoffs/<int:handoff_id>/package.zip", views.handoff_package,
         name="mediation_handoff_package"),
]
