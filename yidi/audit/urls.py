from django.urls import path

from yidi.audit import views

urlpatterns = [
    path("", views.event_list, name="audit_event_list"),
    path("export.csv", views.export_events, name="audit_export"),
    path("verify/", views.verify_chain, name="audit_verify"),
]
