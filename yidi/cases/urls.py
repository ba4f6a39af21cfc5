from django.urls import path

from yidi.cases import views

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.register_case, name="case_register"),
    path("cases/triage/", views.triage_panel, name="case_triage"),
    path("cases/<str:code>/", views.case_detail, name="case_detail"),
    path("cases/<str:code>/actions/<str:action>/", views.case_action, name="case_action"),
    path("cases/<str:code>/contacts/", views.add_contact, name="case_add_contact"),
    path("cases/<str:code>/visits/", views.record_visit, name="case_record_visit"),
    path("cases/<str:code>/attachments/", views.add_attachment, name="case_add_attachment"),
    path("cases/<str:code>/attachments/<int:attachment_id>/", views.download_attachment, name="case_attachment"),
]
