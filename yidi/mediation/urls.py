from django.urls import path

from yidi.mediation import views

urlpatterns = [
    path("mediators/", views.mediator_directory, name="mediator_directory"),
    path("cases/<str:code>/", views.mediation_detail, name="mediation_detail"),
    path("cases/<str:code>/actions/<str:action>/", views.mediation_action, name="mediation_action"),
    path("cases/<str:code>/documents/<int:document_id>.<str:fmt>", views.document_download,
         name="mediation_document_download"),
]
