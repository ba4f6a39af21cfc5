from django.urls import path

from yidi.privacy import views

urlpatterns = [
    path("cases/<str:code>/parties/<int:party_id>/<str:field>/reveal/", views.reveal, name="privacy_reveal"),
    path("exports/", views.export_list, name="privacy_export_list"),
    path("exports/new/", views.export_new, name="privacy_export_new"),
    path("exports/masked.csv", views.export_masked, name="privacy_export_masked"),
    path("exports/approvals/", views.export_approvals, name="privacy_export_approvals"),
    path("exports/<int:export_id>/", views.export_detail, name="privacy_export_detail"),
    path("exports/<int:export_id>/approve/", views.export_approve, name="privacy_export_approve"),
    path("exports/<int:export_id>/refuse/", views.export_refuse, name="privacy_export_refuse"),
    path("exports/<int:export_id>/download/", views.export_download, name="privacy_export_download"),
]
